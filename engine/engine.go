package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/host"
)

// Env is what a provider sees while planning or applying.
type Env struct {
	Host   *host.Host
	Config *config.Config
	State  *State
	// Prior holds the changes planned by the providers before this one, so
	// that units can restart when the policy they run under changes.
	Prior []*Change
	// TypeOwners maps an SELinux type declared by a selinux_module of the
	// config to that module's ID (filled by the selinux provider).
	TypeOwners map[string]string
	// Warnings are added to the plan.
	Warnings []string
	// Advise turns on checks that only warn and cost time (sesearch): for
	// plan, not for the timer's apply.
	Advise bool
}

// Claim records, before a provider changes the host, that seconf owns
// what it is about to install: a kill between the change and the state
// record would otherwise leave something seconf made but will never prune.
func (e *Env) Claim() error { return e.State.Save(e.Host) }

// Provider plans and applies one kind of resource as a group, so that a
// kind that can batch (policy modules: one semodule transaction) does.
type Provider interface {
	Name() string
	// Plan reads the host and returns a change for every resource of its
	// kind in the config, and a delete for every owned one that left it.
	Plan(ctx context.Context, env *Env) ([]*Change, error)
	// Apply carries out the provider's changes from the plan and updates
	// env.State to match what is now on the host.
	Apply(ctx context.Context, env *Env, changes []*Change) error
}

// Engine runs providers in order: policy first, so that a unit never runs a
// container under a type whose module is not installed yet.
type Engine struct {
	Host      *host.Host
	Providers []Provider
	// Advise runs the advisory checks while planning (see Env.Advise).
	Advise bool
}

// Planned is a plan with what it was made from, ready to apply.
type Planned struct {
	Plan  *Plan
	env   *Env
	owner map[*Change]Provider
}

// Plan reads the host and returns what apply would do.
func (e *Engine) Plan(ctx context.Context, cfg *config.Config) (*Planned, error) {
	st, err := LoadState(e.Host)
	if err != nil {
		return nil, err
	}
	env := &Env{Host: e.Host, Config: cfg, State: st, TypeOwners: map[string]string{}, Advise: e.Advise}
	p := &Planned{Plan: &Plan{}, env: env, owner: map[*Change]Provider{}}
	for _, prov := range e.Providers {
		cs, err := prov.Plan(ctx, env)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			p.owner[c] = prov
		}
		env.Prior = append(env.Prior, cs...)
		p.Plan.Changes = append(p.Plan.Changes, cs...)
	}
	p.Plan.Warnings = env.Warnings
	return p, nil
}

// DiagError is a plan-time error that points into the configuration.
type DiagError struct{ Diags hcl.Diagnostics }

func (e *DiagError) Error() string { return e.Diags.Error() }

type step struct {
	prov    Provider
	changes []*Change
}

// steps orders an apply as Terraform does: creations and updates in
// provider order (policy, then units), deletions in reverse (units stop
// before the policy their containers run under goes). Adjacent steps of one
// provider merge, so policy is still one transaction unless units change
// between its installs and its removals.
func (p *Planned) steps(provs []Provider) []step {
	var out []step
	add := func(prov Provider, cs []*Change) {
		if len(cs) == 0 {
			return
		}
		if n := len(out); n > 0 && out[n-1].prov == prov {
			out[n-1].changes = append(out[n-1].changes, cs...)
			return
		}
		out = append(out, step{prov, cs})
	}
	deletes := make([][]*Change, len(provs))
	for i, prov := range provs {
		var rest []*Change
		for _, c := range p.Plan.Changes {
			switch {
			case p.owner[c] != prov || c.Action == NoOp:
			case c.Action == Delete:
				deletes[i] = append(deletes[i], c)
			default:
				rest = append(rest, c)
			}
		}
		add(prov, rest)
	}
	for i := len(provs) - 1; i >= 0; i-- {
		add(provs[i], deletes[i])
	}
	return out
}

// Result is what an apply did.
type Result struct {
	Applied []*Change `json:"applied"`
	Error   string    `json:"error,omitempty"`
}

// Apply carries out a plan. The state record is saved after each provider,
// so that what was done is owned even when a later step fails, and the next
// apply converges from there.
func (e *Engine) Apply(ctx context.Context, p *Planned) (*Result, error) {
	res := &Result{}
	sum := &ApplySummary{Started: time.Now().UTC()}
	var applyErr error
	for _, st := range p.steps(e.Providers) {
		applyErr = st.prov.Apply(ctx, p.env, st.changes)
		if applyErr == nil {
			res.Applied = append(res.Applied, st.changes...)
			for _, c := range st.changes {
				sum.Changed = append(sum.Changed, string(c.Action)+" "+c.ID)
			}
		}
		if err := p.env.State.Save(e.Host); err != nil && applyErr == nil {
			applyErr = fmt.Errorf("save state record: %w", err)
		}
		if applyErr != nil {
			break
		}
	}
	if applyErr != nil || len(res.Applied) > 0 {
		sum.Finished = time.Now().UTC()
		if applyErr != nil {
			sum.Failed = applyErr.Error()
			res.Error = applyErr.Error()
		}
		p.env.State.Last = sum
		if err := p.env.State.Save(e.Host); err != nil && applyErr == nil {
			applyErr = fmt.Errorf("save state record: %w", err)
		}
	}
	return res, applyErr
}
