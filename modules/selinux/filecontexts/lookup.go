package filecontexts

import (
	"strings"
)

// Set is a loaded set of file contexts. It is safe for concurrent use.
type Set struct {
	all    []*Spec // in input order
	order  []*Spec // libselinux's order: regexes, then exact paths
	noStem []int32 // indices into order of specs without a stem, ascending
	byStem map[string][]int32
	subs   []Subst // in input order, local ones and distribution ones
	slab   []Spec  // where specs are allocated, a few hundred at a time

	contexts map[string]Context // while loading: contexts already parsed
}

// Specs returns every spec in input order.
func (s *Set) Specs() []*Spec { return s.all }

// Equivalences returns every equivalence in input order.
func (s *Set) Equivalences() []Subst { return s.subs }

// Match is the answer to a lookup, with what led to it.
type Match struct {
	// Path is the path the specs were matched against: cleaned of
	// repeated and trailing slashes, then rewritten by equivalences.
	Path string
	// Equivalences are the ones applied, local first.
	Equivalences []Subst
	// Spec decides the label; nil if no spec matches. A <<none>> spec
	// (Spec.None) means no label too, by design.
	Spec *Spec
}

// Lookup returns the context a file at path of type t gets, as
// selabel_lookup(3) with the file backend answers, and false when it gets
// none (no spec matches, or the deciding spec is <<none>>). t is the file's
// type, or Any when unknown: then every spec applies, typed or not.
func (s *Set) Lookup(path string, t FileType) (Context, bool) {
	m := s.Match(path, t)
	if m.Spec == nil || m.Spec.None {
		return Context{}, false
	}
	return m.Spec.Context, true
}

// Match is Lookup with the deciding spec and the equivalences applied.
func (s *Set) Match(path string, t FileType) Match {
	key := cleanPath(path)
	if key == "" {
		return Match{} // libselinux: EINVAL
	}
	var m Match
	key, m.Equivalences = s.substitute(key)
	m.Path = key
	k := keyText{raw: key}
	// Walk the specs with no stem and those with the path's stem, from the
	// end of libselinux's order: the first match is the last in that order.
	a := s.noStem
	var b []int32
	if stem := pathStem(key); stem != "" {
		b = s.byStem[stem]
	}
	for ia, ib := len(a)-1, len(b)-1; ia >= 0 || ib >= 0; {
		var i int32
		if ib < 0 || ia >= 0 && a[ia] > b[ib] {
			i, ia = a[ia], ia-1
		} else {
			i, ib = b[ib], ib-1
		}
		sp := s.order[i]
		if t != Any && sp.Type != Any && sp.Type != t {
			continue
		}
		if sp.matches(&k) {
			m.Spec = sp
			return m
		}
	}
	return m
}

// cleanPath is what lookup_all does to a key first: cut at a NUL (it is a C
// string), squeeze repeated slashes, drop one trailing slash.
func cleanPath(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// substitute is selabel_sub_key: the first local equivalence that applies
// (the last line of file_contexts.subs first), then the first distribution
// one on its result; or the first distribution one alone.
func (s *Set) substitute(key string) (string, []Subst) {
	var used []Subst
	for _, dist := range []bool{false, true} {
		for i := len(s.subs) - 1; i >= 0; i-- {
			e := &s.subs[i]
			if e.Dist != dist {
				continue
			}
			if out, ok := e.apply(key); ok {
				key = out
				used = append(used, *e)
				break
			}
		}
	}
	return key, used
}

// keyText is a path being looked up, with its Latin-1 form made once if a
// regex needs it.
type keyText struct {
	raw    string
	latin  string
	hasLat bool
}

// text is the key as RE2 should see it. libselinux's PCRE2 matches bytes,
// RE2 matches UTF-8 characters: a path with bytes of 0x80 and above is
// given to RE2 with each byte as the character of the same number, so that
// "." and [^/] still take exactly one byte.
func (k *keyText) text() string {
	if !k.hasLat {
		k.hasLat = true
		k.latin = k.raw
		for i := 0; i < len(k.raw); i++ {
			if k.raw[i] >= 0x80 {
				r := make([]rune, len(k.raw))
				for j := 0; j < len(k.raw); j++ {
					r[j] = rune(k.raw[j])
				}
				k.latin = string(r)
				break
			}
		}
	}
	return k.latin
}

// matches is a full match of the spec's expression against the key, as
// PCRE2 matches ^EXPR$: whose $ also matches before a newline that ends
// the subject, so a key ending in one is also tried without it.
func (sp *Spec) matches(k *keyText) bool {
	p := &sp.pat
	if !strings.HasPrefix(k.raw, p.prefix) {
		return false
	}
	if p.literal {
		n := len(p.prefix)
		return len(k.raw) == n || len(k.raw) == n+1 && k.raw[n] == '\n'
	}
	if p.simple && !p.topAlt {
		sp.onceNeedles.Do(func() { sp.needles = needles(p.expr) })
		if !hasNeedles(k.raw, sp.needles) {
			return false
		}
	}
	re := sp.regexp()
	if re == nil {
		return false
	}
	t := k.text()
	if re.MatchString(t) {
		return true
	}
	if !strings.HasSuffix(t, "\n") {
		return false
	}
	if p.endZ {
		sp.onceRetry.Do(func() { sp.reRetry = p.compileRetry() })
		re = sp.reRetry
	}
	return re != nil && re.MatchString(t[:len(t)-1])
}
