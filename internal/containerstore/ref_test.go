package containerstore

import (
	"math/rand"
	"regexp"
	"testing"
)

// The grammar as distribution's reference package writes it; the matchers
// by hand must agree with it on every string.
var refGrammar = []struct {
	name string
	re   *regexp.Regexp
	fn   func(string) bool
}{
	{"path component", regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`), pathComponent},
	{"tag", regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`), validTag},
	{"digest", regexp.MustCompile(`^sha256:[a-f0-9]{64}$`), validDigest},
	{"domain", regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$`), validDomain},
}

func TestRefGrammarMatchesTheRegexps(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	fixed := []string{"", "a", "A", "_", "-", ".", ":", "a.b", "a..b", "a_b", "a__b", "a___b", "a-b", "a---b", "a-", "-a",
		"a.", ".a", "localhost", "localhost:5000", "registry.example:443", "reg:", ":5000", "a-.b", "a.-b", "r.e.g",
		"v1.2.3", "_v1", "latest", "a\n", "a\nb", "é", digest, digest + "\n", digest[:70], "sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		string(make([]byte, 128)), "a" + string(make([]byte, 127))}
	for _, n := range []int{127, 128, 129} {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		fixed = append(fixed, string(b))
	}
	rng := rand.New(rand.NewSource(1))
	const alphabet = "aZ09._-:/@\n é"
	var random []string
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		random = append(random, string(b))
	}
	for _, g := range refGrammar {
		for _, s := range append(fixed, random...) {
			if got, want := g.fn(s), g.re.MatchString(s); got != want {
				t.Errorf("%s %q: %v, the regular expression says %v", g.name, s, got, want)
			}
		}
	}
}

func FuzzRefGrammar(f *testing.F) {
	for _, s := range []string{"a.b", "localhost:5000", "v1.0", "a__b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range refGrammar {
			if got, want := g.fn(s), g.re.MatchString(s); got != want {
				t.Errorf("%s %q: %v, the regular expression says %v", g.name, s, got, want)
			}
		}
	})
}
