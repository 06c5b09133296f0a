package engine

import (
	"context"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/host"
)

// Provider plans and applies the resources of one or more block kinds as a
// group, so that a kind that can batch (policy: one transaction; units: one
// daemon-reload) does. The engine knows no kind: everything about a kind is
// in its provider.
type Provider interface {
	// Name names the provider in errors and is the key of its section of
	// the state record.
	Name() string
	// Validate checks the provider's blocks without looking at the host:
	// whatever Plan would refuse for the configuration alone, with the
	// range of the offending attribute. `seconf validate` runs it.
	Validate(cfg *config.Config) hcl.Diagnostics
	// Plan reads the host and returns a change for every resource of its
	// kinds in the config, and one for every owned resource that left it.
	// Warnings travel with the changes; an error diagnostic stops the plan.
	Plan(ctx context.Context, env *Env) ([]*Change, hcl.Diagnostics)
	// Apply carries out the provider's changes and records in env.State
	// what is now on the host.
	Apply(ctx context.Context, env *Env, changes []*Change) error
}

// Env is what a provider sees while planning or applying.
type Env struct {
	Host   *host.Host
	Config *config.Config
	State  *State
	// Advise turns on checks that only warn and cost time: for plan, not
	// for the timer's apply.
	Advise bool
	// Refresh lets plan ask remote sources (image registries) what they
	// hold now; without it nothing leaves the host.
	Refresh bool
}

// Claim records, before a provider changes the host, that seconf owns
// what it is about to make: a kill between the change and the state record
// would otherwise leave something seconf made but will never prune.
func (e *Env) Claim() error { return e.State.Save(e.Host) }
