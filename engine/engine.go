package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/host"
)

// Engine runs providers in order: policy first, so that a unit never runs a
// container under a type whose module is not installed yet.
type Engine struct {
	Host      *host.Host
	Providers []Provider
	// Advise runs the advisory checks while planning (see Env.Advise).
	Advise bool
	// Refresh lets plan ask registries (see Env.Refresh).
	Refresh bool
	// Validated says the configuration is one the providers validated
	// before without a diagnostic (config.Cached.Validated): Plan does not
	// validate it again. Validation reads the configuration alone.
	Validated bool
}

// Validate asks every provider to check its blocks, without the host.
func (e *Engine) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range e.Providers {
		diags = append(diags, p.Validate(cfg)...)
	}
	return sortDiags(diags)
}

// Planned is a plan with what it was made from, ready to apply.
type Planned struct {
	Plan *Plan
	// Validated: the providers validated the configuration without a
	// diagnostic (or Engine.Validated said they had).
	Validated bool
	env       *Env
	owner     map[*Change]Provider
}

// Plan reads the host and returns what apply would do. Diagnostics carry
// the warnings, and the errors when the plan is nil.
func (e *Engine) Plan(ctx context.Context, cfg *config.Config) (*Planned, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if !e.Validated {
		if diags = e.Validate(cfg); diags.HasErrors() {
			return nil, diags
		}
	}
	st, err := LoadState(e.Host)
	if err != nil {
		return nil, FromError(nil, "Cannot read the state record", err)
	}
	env := &Env{Host: e.Host, Config: cfg, State: st, Advise: e.Advise, Refresh: e.Refresh}
	p := &Planned{Plan: &Plan{}, Validated: len(diags) == 0, env: env, owner: map[*Change]Provider{}}
	for _, prov := range e.Providers {
		cs, d := prov.Plan(ctx, env)
		diags = append(diags, d...)
		if d.HasErrors() {
			return nil, sortDiags(diags)
		}
		for _, c := range cs {
			p.owner[c] = prov
		}
		p.Plan.Changes = append(p.Plan.Changes, cs...)
	}
	restarts(p.Plan.Changes)
	p.Plan.Diags = sortDiags(diags)
	return p, p.Plan.Diags
}

// restarts turns a no-op into a restart for every restartable resource that
// needs something a pending change provides (its ID or one of its Provides),
// until nothing more turns: a restart may be what another needs (an image
// pulled again because its container restarts). A restart provides its ID
// only: it changes nothing others use (the image pulled again for one
// container does not restart the others that run it).
func restarts(changes []*Change) {
	for {
		by := map[string]*Change{}
		for _, c := range changes {
			if !c.Pending() {
				continue
			}
			by[c.ID] = c
			if c.Action == Restart {
				continue
			}
			for _, k := range c.Provides {
				if _, ok := by[k]; !ok {
					by[k] = c
				}
			}
		}
		turned := false
		for _, c := range changes {
			if c.Pending() || !c.Restartable {
				continue
			}
			for _, n := range c.Needs {
				if src := by[n]; src != nil {
					c.Action, c.Reason = Restart, src.ID+" "+string(src.Action)+"s"
					turned = true
					break
				}
			}
		}
		if !turned {
			return
		}
	}
}

// sortDiags orders diagnostics by file and line, as Terraform prints them;
// those without a place keep their order, first.
func sortDiags(d hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(d, func(i, j int) bool {
		a, b := d[i].Subject, d[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return d
}

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
			case p.owner[c] != prov || !c.Pending():
			case c.Action == Delete || c.Action == Forget:
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

// AppliedThenFailed is a provider's Apply error after some of its changes
// took effect (a policy committed, then found to unconfine a container):
// the result and the record of the apply name them as done.
type AppliedThenFailed struct {
	Applied []*Change
	Err     error
}

func (e *AppliedThenFailed) Error() string { return e.Err.Error() }
func (e *AppliedThenFailed) Unwrap() error { return e.Err }

// Apply carries out a plan. The state record is saved after each provider,
// so that what was done is owned even when a later step fails, and the next
// apply converges from there. A plan with nothing pending writes nothing,
// unless a provider refreshed a record (a compile cache entry) while
// planning.
func (e *Engine) Apply(ctx context.Context, p *Planned) (*Result, error) {
	res := &Result{}
	if !p.Plan.Pending() {
		if p.env.State.dirty {
			return res, p.env.State.Save(e.Host)
		}
		return res, nil
	}
	sum := &ApplySummary{Started: time.Now().UTC()}
	var applyErr error
	for _, st := range p.steps(e.Providers) {
		applyErr = st.prov.Apply(ctx, p.env, st.changes)
		done := st.changes
		var partial *AppliedThenFailed
		if errors.As(applyErr, &partial) {
			done = partial.Applied
		} else if applyErr != nil {
			done = nil
		}
		res.Applied = append(res.Applied, done...)
		for _, c := range done {
			sum.Changed = append(sum.Changed, string(c.Action)+" "+c.ID)
		}
		if err := p.env.State.Save(e.Host); err != nil && applyErr == nil {
			applyErr = fmt.Errorf("save state record: %w", err)
		}
		if applyErr != nil {
			break
		}
	}
	sum.Finished = time.Now().UTC()
	if applyErr != nil {
		sum.Failed = applyErr.Error()
		res.Error = applyErr.Error()
	}
	p.env.State.Last = sum
	if err := p.env.State.Save(e.Host); err != nil && applyErr == nil {
		applyErr = fmt.Errorf("save state record: %w", err)
	}
	return res, applyErr
}

// IDs lists change IDs, for messages.
func IDs(cs []*Change) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ", ")
}
