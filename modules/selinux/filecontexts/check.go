package filecontexts

import (
	"strings"
)

// Duplicate is two specs of one file for the same expression and file
// types that overlap: libselinux refuses the file when it validates
// (setfiles -c, semodule's commit), as "Multiple different specifications"
// when the contexts differ and "Multiple same specifications" when not.
type Duplicate struct {
	First, Second *Spec
}

// Different reports whether the two give different labels.
func (d Duplicate) Different() bool {
	return d.First.None != d.Second.None || d.First.Context != d.Second.Context
}

// Duplicates lists the duplicates within each file, in input order. A spec
// of file_contexts.local that repeats one of file_contexts is not one: it
// is how a local customization overrides the policy.
func (s *Set) Duplicates() []Duplicate {
	type key struct{ file, expr string }
	seen := map[key][]*Spec{}
	var out []Duplicate
	for _, sp := range s.all {
		k := key{sp.File, sp.Regex}
		for _, prev := range seen[k] {
			if prev.Type == Any || sp.Type == Any || prev.Type == sp.Type {
				out = append(out, Duplicate{First: prev, Second: sp})
			}
		}
		seen[k] = append(seen[k], sp)
	}
	return out
}

// Overlapping lists, in input order, the specs that could match a path the
// path expression expr of file type t also matches: those whose fixed
// prefix agrees with expr's and whose file type can be the same. It is a
// superset (exact where one side is a plain path, which is then matched
// against the other); it is what a changed spec may take files from, or
// give them to.
func (s *Set) Overlapping(expr string, t FileType) ([]*Spec, error) {
	p, err := analyze(expr)
	if err != nil {
		return nil, err
	}
	probe := &Spec{Regex: expr, pat: p}
	var out []*Spec
	for _, sp := range s.all {
		if t != Any && sp.Type != Any && sp.Type != t {
			continue
		}
		q := &sp.pat
		if !strings.HasPrefix(p.prefix, q.prefix) && !strings.HasPrefix(q.prefix, p.prefix) {
			continue
		}
		switch {
		case p.literal && !sp.matches(&keyText{raw: p.prefix}):
			continue
		case q.literal && !probe.matches(&keyText{raw: q.prefix}):
			continue
		}
		out = append(out, sp)
	}
	return out, nil
}

// Equivalence returns the equivalence whose alias a path expression lies
// under: specs there are never consulted, because lookups rewrite such
// paths first. semanage fcontext -a refuses these, suggesting the spec
// under the equivalence's target instead.
func (s *Set) Equivalence(expr string) (Subst, bool) {
	for _, e := range s.subs {
		if strings.HasPrefix(expr, e.From+"/") {
			return e, true
		}
	}
	return Subst{}, false
}
