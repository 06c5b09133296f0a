package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"seconf/internal/gitsource"
	"seconf/internal/testenv"
)

// BenchmarkNoChangeApplySource is the timer's run when the ref has not
// moved: fetch (nothing new), verify the commit again, find its checkout,
// plan, nothing to apply. "path" is the same configuration applied from
// the checkout's directory, without a source; the difference is what the
// source costs a no-change run. The repository is served by git's
// git-http-backend on the loopback ("http") or read by file:// ("file").
// The configuration is one mount unit, so that seconf's own work is small
// and the source's cost shows.
func BenchmarkNoChangeApplySource(b *testing.B) {
	served := b.TempDir()
	repo := testenv.NewGitRepo(b, filepath.Join(served, "fleet"))
	srv := testenv.ServeGit(b, served)
	alice := testenv.SSHSigner(b, "alice")
	allowed := testenv.AllowedSigners(b, b.TempDir(), alice)
	repo.Commit(alice, "v1", map[string]string{"hosts/web/host.hcl": mountHCL("1m")})
	for _, tc := range []struct{ name, source string }{
		{"path", ""},
		{"http", "git+" + srv.URL + "/fleet/.git#main"},
		{"file", "git+file://" + repo.Dir + "/.git#main"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			root := b.TempDir()
			// A first apply from the source makes the checkout both read.
			first := []string{"apply", "--root", root, "--source", "git+" + srv.URL + "/fleet/.git#main", "--allowed-signers", allowed, "--path", "hosts/web"}
			var out strings.Builder
			if code := run(first, &out, &out); code != 0 {
				b.Fatalf("first apply: exit %d\n%s", code, out.String())
			}
			args := []string{"apply", "--root", root, "--source", tc.source, "--allowed-signers", allowed, "--path", "hosts/web"}
			if tc.source == "" {
				dirs, _ := filepath.Glob(filepath.Join(root, gitsource.CheckoutDir, "*"))
				if len(dirs) != 1 {
					b.Fatalf("checkouts: %v", dirs)
				}
				args = []string{"apply", "--root", root, dirs[0]}
			}
			for b.Loop() {
				out.Reset()
				if code := run(args, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "No changes") {
					b.Fatalf("no-change apply: exit %d\n%s", code, out.String())
				}
			}
		})
	}
}
