package files

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
)

// TestOwner resolves owners and groups as the block gives them, in the
// root's own databases: names, numbers, the owner's primary group by
// default, root without an owner.
func TestOwner(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n# a comment\n+nis\nfluent:x:4242:4343::/:/bin/false\nfluent:x:1:1::/:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nfluent:x:4343:\nadm:x:4:fluent\n"), 0o644)
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := readAccounts(h)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, owner, group string
		uid, gid           int
		err                string
	}{
		{"nothing: root", "", "", 0, 0, ""},
		{"a name: its primary group", "fluent", "", 4242, 4343, ""},
		{"a name and a group", "fluent", "adm", 4242, 4, ""},
		{"numbers", "1000", "1001", 1000, 1001, ""},
		{"a group alone", "", "adm", 0, 4, ""},
		{"a user the root lacks", "nobody", "", 0, 0, `user "nobody" is not in /etc/passwd`},
		{"a group the root lacks", "", "nogroup", 0, 0, `group "nogroup" is not in /etc/group`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid, _, err := acc.owner(tc.owner, tc.group)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || uid != tc.uid || gid != tc.gid {
				t.Errorf("%d:%d (%v), want %d:%d", uid, gid, err, tc.uid, tc.gid)
			}
		})
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("broken:x:zero:0::/:/bin/sh\n"), 0o644)
	if _, err := readAccounts(h); err == nil || !strings.Contains(err.Error(), "/etc/passwd line 1") {
		t.Errorf("a broken passwd: %v", err)
	}
}
