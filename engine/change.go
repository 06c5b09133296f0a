package engine

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/pmezard/go-difflib/difflib"
)

// Action is what a change does to one resource.
type Action string

// Actions, named as Terraform names them, plus restart (a unit whose own
// file is unchanged but whose policy or dependency changed) and forget (a
// resource seconf recorded but will not touch: only the record goes).
const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Restart Action = "restart"
	Forget  Action = "forget"
)

// Symbol is the plan's margin mark for the action.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update, Restart:
		return "~"
	case Delete:
		return "-"
	case Forget:
		return "!"
	}
	return " "
}

// Change is one resource's planned change.
type Change struct {
	ID     string    `json:"id"`
	Action Action    `json:"action"`
	Reason string    `json:"reason,omitempty"`
	Range  hcl.Range `json:"-"`
	// Before and After are what a person diffs (policy CIL, unit text).
	Before []byte `json:"-"`
	After  []byte `json:"-"`
	// Sensitive hides Before/After from every output.
	Sensitive bool `json:"sensitive,omitempty"`
	// Provides names what other resources may need from this one besides
	// its ID (an SELinux type a module declares, a file's path). Needs
	// names what this one uses; when Restartable and a change that provides
	// one of them is pending, the engine restarts this resource. This is how
	// a unit follows its policy or a file it mounts without knowing either.
	Provides    []string `json:"-"`
	Needs       []string `json:"-"`
	Restartable bool     `json:"-"`
	// Data is the provider's own payload (a compiled module, a rendered unit).
	Data any `json:"-"`
}

// Pending reports whether the change does anything.
func (c *Change) Pending() bool { return c.Action != NoOp }

// Diff is the unified diff of Before and After, or "" when hidden or equal.
func (c *Change) Diff() string {
	if c.Sensitive {
		return "(sensitive content hidden)\n"
	}
	if string(c.Before) == string(c.After) {
		return ""
	}
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(c.Before)),
		B:        difflib.SplitLines(string(c.After)),
		FromFile: c.ID + " (host)",
		ToFile:   c.ID + " (config)",
		Context:  3,
	})
	return d
}

// Plan is the ordered list of changes for one configuration against one host.
type Plan struct {
	Changes []*Change `json:"changes"`
	// Diags are the warnings a person should read: they do not stop the
	// apply. Errors never reach a plan.
	Diags hcl.Diagnostics `json:"-"`
}

// Pending reports whether the plan changes anything.
func (p *Plan) Pending() bool {
	for _, c := range p.Changes {
		if c.Pending() {
			return true
		}
	}
	return false
}

// Counts returns how many changes of each action the plan holds.
func (p *Plan) Counts() map[Action]int {
	n := map[Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	return n
}
