package filecontexts

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// reference is lookup_all without this package's shortcuts (stem index,
// prefix test, plain-path compare): every spec in libselinux's order,
// backwards, its regex compiled and matched.
func reference(s *Set, path string, ft FileType) *Spec {
	key := cleanPath(path)
	if key == "" {
		return nil
	}
	key, _ = s.substitute(key)
	stem := pathStem(key)
	k := keyText{raw: key}
	text := k.text()
	for i := len(s.order) - 1; i >= 0; i-- {
		sp := s.order[i]
		if sp.pat.stem != "" && sp.pat.stem != stem {
			continue
		}
		if ft != Any && sp.Type != Any && sp.Type != ft {
			continue
		}
		re := regexp.MustCompile(sp.pat.goExpr())
		ok := re.MatchString(text)
		if !ok && strings.HasSuffix(text, "\n") {
			if sp.pat.endZ {
				re = sp.pat.compileRetry()
			}
			ok = re.MatchString(text[:len(text)-1])
		}
		if ok {
			return sp
		}
	}
	return nil
}

func FuzzLoad(f *testing.F) {
	c := "system_u:object_r:etc_t:s0"
	for _, seed := range []struct {
		specs, subs, path string
		ft                uint8
	}{
		{"/.* " + c + "\n/srv/www(/.*)? -d " + c + "\n/srv/www/a\\.b -- <<none>>\n", "/x /srv/www\n", "/x/a.b", 1},
		{"/a|/b/c " + c + "\n/usr/? " + c + "\n/usr " + c + "\n", "/usr/lib /lib\n/ /\n", "/usr/", 0},
		{"/u/[^a]{3} " + c + "\n/u/.. " + c + "\n/u/\\s\\z " + c + "\n", "", "/u/\xe2\x82\xac\n", 0},
		{"/a(?i)B+ " + c + "\n/a\\Qx.y\\E " + c + "\n/[[:alpha:]]$ " + c + "\n", "# c\n/q /a\n", "//q//xB/", 2},
		{"/x( " + c + "\n", "", "/x", 0},
		{"/a s0\n", "", "/a", 0},
	} {
		f.Add(seed.specs, seed.subs, seed.path, seed.ft)
	}
	f.Fuzz(func(t *testing.T, specs, subs, path string, ft uint8) {
		s, err := Load(File{Name: "fc", Kind: Specs, Data: []byte(specs)}, File{Name: "subs", Kind: Subs, Data: []byte(subs)})
		if err != nil {
			// Every error names a line of the specs file.
			for _, l := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(l, "fc:") {
					t.Fatalf("error without file:line: %q", l)
				}
			}
			var le *Error
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("not an *Error with a line: %v", err)
			}
			return
		}
		// What Load accepts compiles.
		for _, sp := range s.Specs() {
			if sp.regexp() == nil {
				t.Fatalf("%s: accepted %q, which does not compile", sp.Where(), sp.Regex)
			}
		}
		typ := FileType(ft % 8)
		m1, m2 := s.Match(path, typ), s.Match(path, typ)
		if m1.Spec != m2.Spec || m1.Path != m2.Path {
			t.Fatalf("two lookups of %q differ: %v, %v", path, m1.Spec, m2.Spec)
		}
		if ref := reference(s, path, typ); ref != m1.Spec {
			t.Fatalf("lookup of %q (type %q) chose %v, the plain walk %v", path, typ, m1.Spec, ref)
		}
		c, ok := s.Lookup(path, typ)
		if ok != (m1.Spec != nil && !m1.Spec.None) || ok && c != m1.Spec.Context {
			t.Fatalf("Lookup %v %v disagrees with Match %v", c, ok, m1.Spec)
		}
		s.Duplicates()
		if ValidRegex(path) == nil {
			if _, err := s.Overlapping(path, typ); err != nil {
				t.Fatalf("Overlapping(%q) after ValidRegex accepted it: %v", path, err)
			}
		}
	})
}
