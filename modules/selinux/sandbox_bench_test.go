package selinux

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"seconf/config"
	"seconf/host"
	"seconf/internal/testenv"
)

// BenchmarkCompileTE times one small .te compiled the way seconf does it
// (devel Makefile and hll/pp, both in the compile sandbox) against the same
// two commands run without a sandbox: the difference is what the sandbox
// costs a compile.
func BenchmarkCompileTE(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the compile sandbox needs root")
	}
	ctx := context.Background()
	m := inlineModule("bench", config.FormatTE, "policy_module(bench, 1.0)\ntype bench_t;\nfiles_type(bench_t)\n")
	b.Run("sandboxed", func(b *testing.B) {
		for b.Loop() {
			if _, err := compile(ctx, host.ExecRunner{}, m, b.TempDir()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		mk, _ := host.Tool("make")
		for b.Loop() {
			dir := b.TempDir()
			if err := stageTE(m, dir); err != nil {
				b.Fatal(err)
			}
			if _, err := (host.ExecRunner{}).Run(ctx, host.Cmd{Name: mk, Args: []string{"-f", host.DevelMakefile, "bench.pp"}, Dir: dir}); err != nil {
				b.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "bench.pp"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := (host.ExecRunner{}).Run(ctx, host.Cmd{Name: host.PPToCIL, Stdin: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheckStoreLinks times the symlink walk over a copy of the
// machine's store, paid once before each policy transaction.
func BenchmarkCheckStoreLinks(b *testing.B) {
	root := testenv.PolicyRoot(b)
	for b.Loop() {
		if err := checkStoreLinks(root, "default"); err != nil {
			b.Fatal(err)
		}
	}
}
