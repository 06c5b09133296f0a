package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary text to the loader: it must never panic, and a
// configuration it accepts holds no control character in any value that
// reaches a unit file, and only names and paths seconf can use safely.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/seed/*.hcl")
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(string(data))
	}
	f.Add("container \"c\" {\n  image = \"i\"\n}\n")
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "logger.te"), []byte("policy_module(logger, 1.0)\n"), 0o644)
	f.Fuzz(func(t *testing.T, src string) {
		file := filepath.Join(dir, "host.hcl")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _, diags := Load([]string{file}, Options{})
		if diags.HasErrors() {
			return
		}
		bad := func(what, s string) {
			for _, r := range s {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("%s %q holds a control character", what, s)
				}
			}
		}
		for _, c := range cfg.Containers {
			if !validName(c.Name) {
				t.Fatalf("container name %q accepted", c.Name)
			}
			for _, s := range append(append([]string{c.Image, c.SELinuxType, c.SELinuxLevel, c.Network, c.User}, c.Command...), c.Publish...) {
				bad("container value", s)
			}
			for k, v := range c.Environment {
				bad("environment", k+v)
			}
			for _, v := range c.Volumes {
				for _, p := range []string{v.Source, v.Target} {
					if !strings.HasPrefix(p, "/") || filepath.Clean(p) != p {
						t.Fatalf("volume path %q accepted", p)
					}
				}
				if v.Relabel != RelabelNone && IsSystemDir(v.Source) && !c.AllowUnconfined {
					t.Fatalf("relabel of %s accepted", v.Source)
				}
			}
		}
		for _, m := range cfg.Mounts {
			bad("mount value", m.What+m.Where+m.Type+m.SELinuxContext+strings.Join(m.Options, ""))
		}
	})
}
