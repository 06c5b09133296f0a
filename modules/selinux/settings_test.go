package selinux

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
)

func TestRelabelTargets(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"srv/data/a", "srv/dav", "srv/other", "srv/www", "opt/app.d/x", "home/u/.x"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fsys := host.NewFS(root)
	tests := []struct {
		name  string
		exprs []string
		want  []relabelTarget
	}{
		{"tree", []string{"/srv/data(/.*)?"}, []relabelTarget{{"/srv/data", true}}},
		{"exact path alone", []string{"/srv/www"}, []relabelTarget{{"/srv/www", false}}},
		{"prefix inside a name", []string{"/srv/da(ta|v)(/.*)?"}, []relabelTarget{{"/srv/data", true}, {"/srv/dav", true}}},
		{"directory prefix", []string{"/srv/[^/]+/a"}, []relabelTarget{{"/srv", true}}},
		{"nested in a tree", []string{"/srv/data/a", "/srv/data(/.*)?"}, []relabelTarget{{"/srv/data", true}}},
		{"missing paths skipped", []string{"/srv/none(/.*)?", "/nowhere"}, nil},
		{"escaped dot", []string{"/opt/app\\.d(/.*)?"}, []relabelTarget{{"/opt/app.d", true}}},
		{"equivalence", []string{equivalenceExpr("/opt/app.d")}, []relabelTarget{{"/opt/app.d", true}}},
		{"several", []string{"/srv/www", "/home/[^/]+/\\.x"}, []relabelTarget{{"/home", true}, {"/srv/www", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, relabelTargets(fsys, tc.exprs)); d != "" {
				t.Errorf("targets (-want +got):\n%s", d)
			}
		})
	}
	cmds := relabelCommands("/sbin/restorecon", []relabelTarget{{"/srv/data", true}, {"/srv/www", false}, {"/opt/app.d", true}})
	var got [][]string
	for _, c := range cmds {
		got = append(got, append([]string{c.Name}, c.Args...))
	}
	want := [][]string{{"/sbin/restorecon", "/srv/www"}, {"/sbin/restorecon", "-R", "/srv/data", "/opt/app.d"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
}

func TestModuleLines(t *testing.T) {
	lines, inline := moduleLines([]string{"-X", "200", "-i", "/tmp/w/a/a.cil", "-X", "400", "-r", "b", "-e", "c", "-d", "d"})
	want := []string{"module -a /tmp/w/a/a.cil -P 200", "module -r b -P 400", "module -e c", "module -d d"}
	if d := cmp.Diff(want, lines); d != "" || !inline {
		t.Errorf("lines (-want +got):\n%s (inline %v)", d, inline)
	}
	if _, inline := moduleLines([]string{"-X", "400", "-i", "/tmp/my dir/a.pp"}); inline {
		t.Error("a file name with a space would be split by semanage import")
	}
}
