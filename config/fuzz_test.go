package config

import (
	"os"
	"path/filepath"
	"slices"
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
				paths := []string{v.Source, v.Target}
				if v.Named != "" {
					paths = paths[1:] // the source is a named volume
				}
				for _, p := range paths {
					if !strings.HasPrefix(p, "/") || filepath.Clean(p) != p {
						t.Fatalf("volume path %q accepted", p)
					}
				}
				if v.Relabel != RelabelNone && IsSystemDir(v.Source) && !c.AllowUnconfined {
					t.Fatalf("relabel of %s accepted", v.Source)
				}
			}
		}
		for _, c := range cfg.Containers {
			for attr, v := range c.Options {
				bad(attr, v.Str+strings.Join(v.List, ""))
				for k, e := range v.Map {
					bad(attr, k+e)
				}
			}
			for _, st := range append(append(slices.Clone(c.Service), c.Unit...), c.Install...) {
				bad(st.Key, strings.Join(st.Values, ""))
			}
			for i, a := range c.Options["podman_args"].List {
				if f, _, ok := strings.Cut(a, "="); !ok || !slices.Contains(PodmanArgsAllowed, f) {
					t.Fatalf("podman_args[%d] %q accepted", i, a)
				}
			}
			if c.AllowUnconfined {
				continue
			}
			if c.Options["security_label_disable"].Bool || c.Network == "host" || c.Options["seccomp_profile"].Str == "unconfined" {
				t.Fatalf("container %q switches confinement off without allow_unconfined", c.Name)
			}
			for _, cp := range c.Options["add_capability"].List {
				if slices.Contains(dangerousCaps, NormalCap(cp)) {
					t.Fatalf("capability %s accepted", cp)
				}
			}
		}
		for _, m := range cfg.Mounts {
			bad("mount value", m.What+m.Where+m.Type+m.SELinuxContext+strings.Join(m.Options, ""))
		}
	})
}
