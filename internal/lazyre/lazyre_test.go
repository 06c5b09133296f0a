package lazyre

import "testing"

// TestLazy: an expression compiles on first use and matches as regexp's.
func TestLazy(t *testing.T) {
	r := New(`^a(b+)$`)
	if r.re != nil {
		t.Fatal("compiled before first use")
	}
	for _, tc := range []struct {
		name, in string
		want     bool
	}{{"match", "abb", true}, {"no match", "ac", false}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.MatchString(tc.in); got != tc.want {
				t.Errorf("MatchString(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	if m := r.FindStringSubmatch("abbb"); len(m) != 2 || m[1] != "bbb" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
}
