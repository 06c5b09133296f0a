package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"seconf/config"
)

// recorder is a provider that records what it is asked to apply.
type recorder struct {
	name string
	log  *[]string
}

func (r *recorder) Name() string                                            { return r.name }
func (r *recorder) Validate(*config.Config) hcl.Diagnostics                 { return nil }
func (r *recorder) Plan(context.Context, *Env) ([]*Change, hcl.Diagnostics) { return nil, nil }
func (r *recorder) Apply(_ context.Context, _ *Env, cs []*Change) error {
	var ids []string
	for _, c := range cs {
		ids = append(ids, string(c.Action)+" "+c.ID)
	}
	*r.log = append(*r.log, r.name+": "+strings.Join(ids, ", "))
	return nil
}

// TestStepsOrder: creations in provider order, deletions in reverse, and a
// provider's adjacent steps merged (one policy transaction where possible).
func TestStepsOrder(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string][]Action // provider → actions of its changes
		want    []string
	}{
		{"policy and units created", map[string][]Action{"policy": {Create}, "units": {Create}},
			[]string{"policy: create policy.0", "units: create units.0"}},
		{"both removed: units stop first", map[string][]Action{"policy": {Delete}, "units": {Delete}},
			[]string{"units: delete units.0", "policy: delete policy.0"}},
		{"policy swapped, nothing else: one step", map[string][]Action{"policy": {Create, Delete}},
			[]string{"policy: create policy.0, delete policy.1"}},
		{"policy swapped around a unit change", map[string][]Action{"policy": {Create, Delete}, "units": {Update, NoOp}},
			[]string{"policy: create policy.0", "units: update units.0", "policy: delete policy.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			provs := []Provider{&recorder{"policy", &log}, &recorder{"units", &log}}
			p := &Planned{Plan: &Plan{}, owner: map[*Change]Provider{}}
			for _, prov := range provs {
				for i, a := range tc.changes[prov.Name()] {
					c := &Change{ID: prov.Name() + "." + string(rune('0'+i)), Action: a}
					p.Plan.Changes = append(p.Plan.Changes, c)
					p.owner[c] = prov
				}
			}
			for _, st := range p.steps(provs) {
				st.prov.Apply(context.Background(), nil, st.changes)
			}
			if d := cmp.Diff(tc.want, log); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestRestarts: a restartable no-op restarts when something it needs is
// pending, by ID or by what the change provides, and only then.
func TestRestarts(t *testing.T) {
	mod := func(a Action) *Change {
		return &Change{ID: "selinux_module.m", Action: a, Provides: []string{"selinux_type:m_t"}}
	}
	unit := func(needs ...string) *Change {
		return &Change{ID: "container.c", Action: NoOp, Needs: needs, Restartable: true}
	}
	tests := []struct {
		name    string
		changes []*Change
		want    Action
	}{
		{"type's module updated", []*Change{mod(Update), unit("selinux_type:m_t")}, Restart},
		{"depends_on module created", []*Change{mod(Create), unit("selinux_module.m")}, Restart},
		{"module unchanged", []*Change{mod(NoOp), unit("selinux_type:m_t")}, NoOp},
		{"needs something else", []*Change{mod(Update), unit("selinux_type:other_t")}, NoOp},
		{"not restartable", []*Change{mod(Update), {ID: "mount.m", Action: NoOp, Needs: []string{"selinux_module.m"}}}, NoOp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restarts(tc.changes)
			if got := tc.changes[1].Action; got != tc.want {
				t.Errorf("action %s, want %s (reason %q)", got, tc.want, tc.changes[1].Reason)
			}
		})
	}
}

// TestRestartsChain: restarts follow restarts (a file restarts a
// container, which pulls its always-pulled image again), but a restart
// provides only its ID: the image pulled again for one container restarts
// no other container that runs it.
func TestRestartsChain(t *testing.T) {
	file := &Change{ID: "file.f", Action: Update, Provides: []string{"file:/etc/a.conf"}}
	a := &Change{ID: "container.a", Action: NoOp, Needs: []string{"file:/etc/a.conf", "image:podman:x"}, Restartable: true}
	img := &Change{ID: "image:x", Action: NoOp, Needs: []string{"container.a", "container.b"}, Provides: []string{"image:podman:x"}, Restartable: true}
	b := &Change{ID: "container.b", Action: NoOp, Needs: []string{"image:podman:x"}, Restartable: true}
	restarts([]*Change{img, b, file, a})
	got := map[string]Action{}
	for _, c := range []*Change{file, a, img, b} {
		got[c.ID] = c.Action
	}
	want := map[string]Action{"file.f": Update, "container.a": Restart, "image:x": Restart, "container.b": NoOp}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
