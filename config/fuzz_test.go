package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// FuzzLoad feeds arbitrary text to the loader, beside a file that declares
// the sensitive variable token. It must never panic (nor hang: the fuzzer
// reports a slow input), and:
//   - no diagnostic, as the CLI prints it, shows token's value;
//   - a configuration it accepts holds the value only in environment
//     values marked sensitive;
//   - no value it accepts that reaches a unit or a command line holds a
//     character BadRune refuses or is longer than MaxValueLen;
//   - names and paths are ones seconf can use safely.
//
// The secret is random for each run, so that an input cannot spell it
// (HCL templates can build any string from pieces): if it shows up, it
// came from the variable.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/seed/*.hcl")
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(string(data))
	}
	f.Add("container \"c\" {\n  image = \"i\"\n}\n")
	var rnd [8]byte
	rand.Read(rnd[:])
	secret := "Sx" + hex.EncodeToString(rnd[:])
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "logger.te"), []byte("policy_module(logger, 1.0)\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "0vars.hcl"), []byte("variable \"token\" {\n  sensitive = true\n}\n"), 0o644)
	f.Fuzz(func(t *testing.T, src string) {
		file := filepath.Join(dir, "host.hcl")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, files, diags := Load([]string{dir}, Options{Vars: map[string]string{"token": secret}})
		var text bytes.Buffer
		hcl.NewDiagnosticTextWriter(&text, files, 0, false).WriteDiagnostics(diags)
		if strings.Contains(text.String(), secret) {
			t.Fatalf("a diagnostic shows the sensitive value:\n%s", text.String())
		}
		if diags.HasErrors() {
			return
		}
		value := func(what, s string, multi bool) {
			if strings.Contains(s, secret) {
				t.Fatalf("%s holds the sensitive value: %q", what, s)
			}
			if r, desc, bad := BadRune(s, multi); bad {
				t.Fatalf("%s %q holds %s (%q)", what, s, desc, r)
			}
			if !multi && len(s) > MaxValueLen {
				t.Fatalf("%s is %d bytes", what, len(s))
			}
		}
		for _, c := range cfg.Containers {
			if !validName(c.Name) {
				t.Fatalf("container name %q accepted", c.Name)
			}
			for _, s := range append(append([]string{c.Image, c.Engine, c.SELinuxType, c.SELinuxLevel, c.Network, c.User, c.Restart}, c.Command...), c.Publish...) {
				value("container "+c.Name+" value", s, false)
			}
			for k, v := range c.Environment {
				if c.Sensitive[k] {
					if r, desc, bad := BadRune(k+v, false); bad {
						t.Fatalf("sensitive environment value holds %s (%q)", desc, r)
					}
					continue
				}
				value("environment name", k, false)
				value("environment value of "+k, v, false)
			}
			for k := range c.Sensitive {
				if _, ok := c.Environment[k]; !ok {
					t.Fatalf("sensitive key %q not in the environment", k)
				}
			}
			for _, v := range c.Volumes {
				paths := []string{v.Source, v.Target}
				if v.Named != "" {
					paths = paths[1:] // the source is a named volume
				}
				for _, p := range paths {
					value("volume path", p, false)
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
				for _, x := range append([]string{v.Str}, v.List...) {
					value(attr, x, false)
				}
				for k, e := range v.Map {
					value(attr, k, false)
					value(attr, e, false)
				}
			}
			for _, st := range append(append(slices.Clone(c.Service), c.Unit...), c.Install...) {
				for _, x := range st.Values {
					value(st.Key, x, false)
				}
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
			for _, s := range append([]string{m.What, m.Where, m.Type, m.SELinuxContext}, m.Options...) {
				value("mount "+m.Name+" value", s, false)
			}
		}
		for _, m := range cfg.Modules {
			value("module source", m.Source, false)
			value("module content", m.Content, true)
			if m.Source != "" && !strings.HasPrefix(m.Source, dir+"/") && !filepath.IsAbs(m.Source) {
				t.Fatalf("module source %q", m.Source)
			}
		}
		// A file's content and a secret's value may hold a secret: the
		// file must then be marked sensitive, so that only a keyed hash
		// of it is recorded and no diff shows it.
		for _, fl := range cfg.Files {
			for _, s := range []string{fl.Path, fl.Owner, fl.Group, fl.SELinuxType, fl.Source} {
				value("file "+fl.Name+" value", s, false)
			}
			if strings.Contains(string(fl.Content), secret) && !fl.Sensitive {
				t.Fatalf("file %s holds the sensitive value, not marked sensitive", fl.Name)
			}
		}
		for _, d := range cfg.Directories {
			for _, s := range []string{d.Path, d.Owner, d.Group, d.SELinuxType} {
				value("directory "+d.Name+" value", s, false)
			}
		}
	})
}
