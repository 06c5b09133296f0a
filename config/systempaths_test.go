package config

import "testing"

// TestGlobSystemPath: a glob mount's pattern is refused for relabelling when
// any path it may match is a system directory or lies in a system tree,
// and only then.
func TestGlobSystemPath(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{"/*", true},
		{"/[e]tc", true},
		{"/e*/app", true},
		{"/b?n", true}, // /bin is /usr/bin
		{"/var/l?g", true},
		{"/var/lib/*", true}, // /var/lib/selinux
		{"/var/*/x", true},   // /var/run/x is /run/x
		{"/srv/data/*", false},
		{"/srv/*", false},
		{"/var/lib/app*", false},
		{"/var/log/app/*.log", false},
		{"/data[", true}, // does not parse
	} {
		if _, got := GlobSystemPath(tc.pattern); got != tc.want {
			t.Errorf("GlobSystemPath(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}
