package filecontexts

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseContext(t *testing.T) {
	cases := []struct {
		in   string
		want Context
		err  string
	}{
		{in: "system_u:object_r:etc_t:s0", want: Context{"system_u", "object_r", "etc_t", "s0"}},
		{in: "system_u:object_r:etc_t", want: Context{"system_u", "object_r", "etc_t", ""}},
		{in: "u:r:t:s0-s15:c0.c1023", want: Context{"u", "r", "t", "s0-s15:c0.c1023"}},
		{in: "u:r:t:s0:c1,c3.c7-s1:c2", want: Context{"u", "r", "t", "s0:c1,c3.c7-s1:c2"}},
		{in: "u:r:t:SystemLow-SystemHigh", want: Context{"u", "r", "t", "SystemLow-SystemHigh"}},
		{in: "u:r", err: "want user:role:type"},
		{in: "u::t", err: `role ""`},
		{in: "u:r:t/x", err: `type "t/x"`},
		{in: "u:r:t:", err: "bad sensitivity"},
		{in: "u:r:t:s0-s1-s2", err: "more than two levels"},
		{in: "u:r:t:s0:c0..c1", err: "bad category"},
		{in: "u:r:t:s0:", err: "bad category"},
	}
	for _, c := range cases {
		got, err := ParseContext(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: got %v, want an error with %q", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "":
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("%q (-want +got):\n%s", c.in, d)
			}
			if got.String() != c.in {
				t.Errorf("%q: String() = %q", c.in, got.String())
			}
		}
	}
}

func TestFileTypes(t *testing.T) {
	for ft := Regular; ft <= CharDevice; ft++ {
		got, err := ParseFileType(ft.String())
		if err != nil || got != ft {
			t.Errorf("ParseFileType(%q) = %v, %v", ft.String(), got, err)
		}
	}
	modes := map[fs.FileMode]FileType{0o644: Regular, fs.ModeDir: Directory, fs.ModeSymlink: Symlink, fs.ModeSocket: Socket,
		fs.ModeNamedPipe: NamedPipe, fs.ModeDevice: BlockDevice, fs.ModeDevice | fs.ModeCharDevice: CharDevice, fs.ModeIrregular: Any}
	for m, want := range modes {
		if got := FileTypeOf(m); got != want {
			t.Errorf("FileTypeOf(%v) = %q, want %q", m, got, want)
		}
	}
}

func TestValidRegex(t *testing.T) {
	cases := []struct{ expr, err string }{
		{"/srv/www(/.*)?", ""},
		{"/var/log/app\\.log", ""},
		{"/opt/x/[^/]+/bin", ""},
		{"/home/[^/]+/\\.config(/.*)?", ""},
		{"/a\\d{2,3}", ""},
		{"", "empty"},
		{"srv/www(/.*)?", "not absolute"},
		{"/srv/my www", "white space"},
		{"/srv/x\n", "white space"},
		{"/caf\xc3\xa9", "non-ASCII"},
		{"/a\x01", "control character"},
		{"/srv/www(/.*", "missing closing )"},
		{"/(a)\\1", "back-reference"},
		{"/a(?<=b)", "PCRE feature"},
	}
	for _, c := range cases {
		err := ValidRegex(c.expr)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ValidRegex(%q) = %v, want %q", c.expr, err, c.err)
		}
	}
}

// TestDuplicatesAsSetfiles: Duplicates finds exactly what libselinux
// refuses when it validates a file (setfiles -c), and says whether the
// contexts differ as its message does.
func TestDuplicatesAsSetfiles(t *testing.T) {
	a, b := "system_u:object_r:etc_t:s0", "system_u:object_r:tmp_t:s0"
	cases := []struct {
		name, data string
		want       []string // "LINE-LINE different|same"
	}{
		{"different contexts", "/a " + a + "\n/b " + a + "\n/a " + b + "\n", []string{"1-3 different"}},
		{"same context", "/a(/.*)? " + a + "\n/a(/.*)? " + a + "\n", []string{"1-2 same"}},
		{"untyped and typed", "/a -- " + a + "\n/a " + b + "\n", []string{"1-2 different"}},
		{"two types", "/a -- " + a + "\n/a -d " + b + "\n", nil},
		{"same path, other spelling", "/a\\.b " + a + "\n/a[.]b " + b + "\n", nil},
		{"none and a context", "/a <<none>>\n/a " + a + "\n", []string{"1-2 different"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Load(File{Name: "fc", Kind: Specs, Data: []byte(c.data)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range s.Duplicates() {
				kind := "same"
				if d.Different() {
					kind = "different"
				}
				got = append(got, fmt.Sprintf("%d-%d %s", d.First.Line, d.Second.Line, kind))
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			ok, msg := setfilesCheck(t, writeFiles(t, map[string]string{"file_contexts": c.data}))
			if ok != (len(c.want) == 0) {
				t.Errorf("setfiles -c accepted=%v: %s", ok, msg)
			}
			for _, w := range c.want {
				word := map[bool]string{true: "Multiple different specifications", false: "Multiple same specifications"}[strings.HasSuffix(w, "different")]
				if !strings.Contains(msg, word) {
					t.Errorf("setfiles -c says %q, want %q", msg, word)
				}
			}
		})
	}
}

// TestMachinePolicyHasNoDuplicates: the machine's policy passes libselinux's
// validation, so Duplicates finds nothing in each of its files.
func TestMachinePolicyHasNoDuplicates(t *testing.T) {
	s := openDir(t, machinePolicy(t))
	for _, d := range s.Duplicates() {
		t.Errorf("%s and %s: %s", d.First.Where(), d.Second.Where(), d.First.Regex)
	}
}

// TestOverlappingIsASuperset: for paths of the machine, every two specs
// that both match one path are reported by Overlapping of either.
func TestOverlappingIsASuperset(t *testing.T) {
	s := openDir(t, machinePolicy(t))
	paths := sample(walk(machineDirs...), 300)
	paths = append(paths, "/var/log/app", "/etc/fluentd/x.conf", "/srv/www/a", "/home/u/.ssh/id")
	cache := map[*Spec]map[*Spec]bool{}
	overlaps := func(a *Spec) map[*Spec]bool {
		if m, ok := cache[a]; ok {
			return m
		}
		list, err := s.Overlapping(a.Regex, a.Type)
		if err != nil {
			t.Fatal(err)
		}
		m := map[*Spec]bool{}
		for _, sp := range list {
			m[sp] = true
		}
		cache[a] = m
		return m
	}
	pairs := 0
	for _, p := range paths {
		k := keyText{raw: cleanPath(p)}
		var matching []*Spec
		for _, sp := range s.Specs() {
			if sp.matches(&k) {
				matching = append(matching, sp)
			}
		}
		for _, a := range matching {
			for _, b := range matching {
				if a.Type != Any && b.Type != Any && a.Type != b.Type {
					continue
				}
				pairs++
				if !overlaps(a)[b] {
					t.Fatalf("%q matches %s and %s, but Overlapping(%q) lacks the second", p, a, b, a.Regex)
				}
			}
		}
	}
	if pairs < len(paths) {
		t.Fatalf("only %d pairs checked", pairs)
	}
	// And it leaves out what cannot overlap.
	got, err := s.Overlapping("/var/log", Directory)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range got {
		if !sp.matches(&keyText{raw: "/var/log"}) {
			t.Errorf("Overlapping(/var/log) has %s, which does not match /var/log", sp)
		}
	}
	if len(got) == 0 || len(got) > 20 {
		t.Errorf("Overlapping(/var/log) = %d specs", len(got))
	}
}

// TestEquivalence: a spec under an alias of the distribution's
// equivalences (file_contexts.subs_dist) would never be used.
func TestEquivalence(t *testing.T) {
	s := openDir(t, machinePolicy(t))
	e, ok := s.Equivalence("/lib/myapp(/.*)?")
	if !ok || e.From != "/lib" || e.To != "/usr/lib" || !e.Dist {
		t.Errorf("Equivalence(/lib/myapp) = %+v, %v", e, ok)
	}
	if e, ok := s.Equivalence("/library/x"); ok {
		t.Errorf("Equivalence(/library/x) = %+v", e)
	}
	// And the lookup agrees: the spec is not what decides.
	local := writeFiles(t, map[string]string{
		"file_contexts":           "/.*\tsystem_u:object_r:default_t:s0\n/usr/lib(/.*)?\tsystem_u:object_r:lib_t:s0\n",
		"file_contexts.local":     "/lib/myapp(/.*)?\tsystem_u:object_r:etc_t:s0\n",
		"file_contexts.subs_dist": "/lib /usr/lib\n",
	})
	if got := matchpathcon(t, local, Regular, []string{"/lib/myapp/x"})[0]; typeOf(got) != "lib_t" {
		t.Errorf("matchpathcon: %s", got)
	}
	if c, _ := openDir(t, local).Lookup("/lib/myapp/x", Regular); c.Type != "lib_t" {
		t.Errorf("Lookup: %v", c)
	}
}
