package units

import (
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/engine"
	"seconf/host"
)

// names knows which unit names the host already has, read with one
// directory listing a directory: a few hundred entries cost less than a
// stat per unit and directory.
type names struct {
	h     *host.Host
	recs  map[string]UnitState
	dirs  map[string]map[string]bool // directory → file names in it
	owner map[string]string          // file seconf recorded → resource ID
}

func newNames(h *host.Host, recs map[string]UnitState) *names {
	n := &names{h: h, recs: recs, dirs: map[string]map[string]bool{}, owner: map[string]string{}}
	for id, st := range recs {
		for _, f := range st.Files {
			n.owner[f] = id
		}
	}
	return n
}

func (n *names) has(dir, name string) bool {
	m, ok := n.dirs[dir]
	if !ok {
		m = map[string]bool{}
		ents, _ := n.h.FS.ReadDir(dir)
		for _, e := range ents {
			m[e.Name()] = true
		}
		n.dirs[dir] = m
	}
	return m[name]
}

// check reports where else the unit's name or files already are: a unit
// systemd would prefer or fall back to, a quadlet file that podman turns
// into the same service, or a file another resource of seconf's owns.
func (n *names) check(u *Unit) *hcl.Diagnostic {
	mine := map[string]bool{}
	for _, f := range u.Files {
		if o, ok := n.owner[f.Path]; ok && o != u.ID {
			return n.clash(u, f.Path, "written by seconf for "+o)
		}
		mine[f.Path] = true
	}
	for _, d := range host.UnitSearchPath {
		p := path.Join(d, u.Name)
		if mine[p] || !n.has(d, u.Name) {
			continue
		}
		if !n.leftover(u, p) {
			return n.clash(u, p, "a unit seconf did not write")
		}
	}
	for _, q := range quadletSources(u.Name) {
		for _, d := range host.QuadletSearchPath {
			p := path.Join(d, q)
			if mine[p] || !n.has(d, q) || n.leftover(u, p) {
				continue
			}
			return n.clash(u, p, "a quadlet file podman turns into "+u.Name)
		}
	}
	return nil
}

// leftover reports whether p is a file seconf wrote for this very unit in
// an earlier rendering (quadlet before, a plain service now), still as
// written: the apply removes it. Replaced by hand, it is someone's unit.
func (n *names) leftover(u *Unit, p string) bool {
	if n.owner[p] != u.ID {
		return false
	}
	v, _ := judge(n.h, p, n.recs[u.ID])
	return v == ours
}

func (n *names) clash(u *Unit, where, what string) *hcl.Diagnostic {
	rng := u.Range
	kind, name, _ := strings.Cut(u.ID, ".")
	return engine.Errorf(&rng, "Unit name already taken",
		"%s would be %s, but the host already has %s (%s). systemd would run only one of them. Rename the %s %q, or remove %s if it is a leftover.",
		u.ID, u.Name, where, what, kind, name, where)
}
