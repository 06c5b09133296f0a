package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkSandboxStart times /bin/true run plainly, in a private mount
// namespace with one file bound, and in a Compile sandbox: the fixed cost
// each sandboxed command pays (re-exec of the binary, namespaces, mounts).
func BenchmarkSandboxStart(b *testing.B) {
	needRoot(b)
	dir := b.TempDir()
	a, c := filepath.Join(dir, "a"), filepath.Join(dir, "c")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(c, []byte("c"), 0o644)
	for _, bc := range []struct {
		name string
		sb   *Sandbox
	}{
		{"plain", nil},
		{"private-mounts", &Sandbox{Binds: []Bind{{Src: a, Dst: c, ReadOnly: true}}}},
		{"compile", &Sandbox{Compile: true, WorkDir: dir}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := (ExecRunner{}).Run(context.Background(), Cmd{Name: "/bin/true", Sandbox: bc.sb}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
