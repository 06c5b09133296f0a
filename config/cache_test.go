package config

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// cacheConfig is a configuration with most of the language: variables (one
// sensitive, unused: a configuration holding a secret is never cached), a
// .te module (read by decoding) and a .cil one (looked at),
// settings, a mount, named volumes and networks, containers with options.
var cacheConfig = map[string]string{
	"host.hcl": `variable "image" {
  default = "registry.example/app:1"
}
variable "token" {
  default   = "s3cret"
  sensitive = true
}
selinux_module "logger" {
  source = "logger.te"
}
selinux_module "extra" {
  source   = "extra.cil"
  priority = 300
}
selinux_boolean "container_manage_cgroup" {
  value = true
}
selinux_fcontext "data" {
  path = "/srv/data(/.*)?"
  type = "container_file_t"
}
selinux_port "web" {
  protocol = "tcp"
  port     = 8080
  type     = "http_port_t"
}
mount "data" {
  what    = "/dev/disk/by-label/data"
  where   = "/srv/data"
  type    = "ext4"
  options = ["noatime"]
}
volume "cache" {}
network "lan" {}
container "app" {
  image        = var.image
  selinux_type = "logger_t"
  command      = ["serve", "--port", "8080"]
  environment  = { TOKEN = "t0ken", MODE = "prod" }
  publish      = ["8080:8080"]
  depends_on   = [selinux_module.logger]
  volume {
    source = mount.data.where
    target = "/data"
  }
  volume {
    source = volume.cache.name
    target = "/cache"
  }
  network = network.lan.name
}
`,
	"more.hcl": `container "side" {
  image   = "registry.example/side:1"
  engine  = "docker"
  enabled = false
}
`,
	"logger.te":  "policy_module(logger, 1.0)\ntype logger_t;\n",
	"extra.cil":  "(type extra_t)\n",
	"README.txt": "not configuration",
}

// TestCacheHitIsTheLoad: a configuration taken from the cache is the one
// parsing gives, field for field, for the examples and cacheConfig; after a
// hit no new entry is made, and the files still serve diagnostics.
func TestCacheHitIsTheLoad(t *testing.T) {
	services := write(t, map[string]string{
		"container.te": "policy_module(container, 1.0)\ntype container_t;\n",
		"container.fc": "",
	})
	quadletOff := strings.Replace(cacheConfig["host.hcl"], `network "lan" {}`, "network \"lan\" {\n  quadlet = false\n}", 1)
	for _, tc := range []struct {
		name  string
		paths []string
		opts  Options
		codec string
	}{
		{"container-logger", []string{"../examples/container-logger"}, Options{}, "gob"},
		{"web-app", []string{"../examples/web-app"}, Options{}, "gob"},
		{"data-volume-docker", []string{"../examples/data-volume-docker"}, Options{}, "gob"},
		{"two directories", []string{"../examples/debian12-container-policy", "../examples/container-logger"},
			Options{Vars: map[string]string{"refpolicy_services": services}}, "gob"},
		{"most of the language", []string{write(t, cacheConfig)}, Options{Environ: []string{"SECONF_VAR_image=other:2"}}, "gob"},
		// gob would lose a pointer to false: the entry is JSON.
		{"quadlet = false", []string{write(t, map[string]string{"host.hcl": quadletOff, "logger.te": cacheConfig["logger.te"], "extra.cil": cacheConfig["extra.cil"]})}, Options{}, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _, diags := Load(tc.paths, tc.opts)
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			miss, _, c, diags := LoadCached(tc.paths, tc.opts, nil)
			entry := c.Entry
			if len(diags) > 0 || entry == nil || c.Hit {
				t.Fatalf("no entry from a clean load: %v", diags)
			}
			if diff := cmp.Diff(want, miss); diff != "" {
				t.Fatalf("LoadCached's parse differs from Load's (-Load +LoadCached):\n%s", diff)
			}
			head, _, _ := bytes.Cut(entry, []byte("\n"))
			var h cacheHead
			if err := json.Unmarshal(head, &h); err != nil || h.Codec != tc.codec {
				t.Errorf("codec %q (%v), want %q", h.Codec, err, tc.codec)
			}
			hit, files, again, diags := LoadCached(tc.paths, tc.opts, entry)
			if len(diags) > 0 || again.Entry != nil || !again.Hit {
				t.Fatalf("the same inputs missed the cache: new entry %v, %v", again.Entry != nil, diags)
			}
			if again.Validated {
				t.Error("an entry never marked came back validated")
			}
			// Marked after the providers found nothing to say, a hit
			// says so, and is still the same configuration.
			marked, _, c2, _ := LoadCached(tc.paths, tc.opts, MarkValidated(entry))
			if !c2.Hit || !c2.Validated {
				t.Errorf("a marked entry: hit %v, validated %v; want both", c2.Hit, c2.Validated)
			}
			if diff := cmp.Diff(want, marked); diff != "" {
				t.Errorf("the marked entry's configuration differs (-parsed +cached):\n%s", diff)
			}
			if diff := cmp.Diff(want, hit); diff != "" {
				t.Errorf("the cached configuration differs (-parsed +cached):\n%s", diff)
			}
			for name, f := range Parsed(files) {
				src, err := os.ReadFile(name)
				if err != nil || !bytes.Equal(f.Bytes, src) || f.Body == nil {
					t.Errorf("%s: the files of a hit do not serve diagnostics (%v)", name, err)
				}
			}
		})
	}
}

// TestCacheMisses: any change to what the configuration is read from, or
// to what decoding looked at, is a miss, and the result is what a fresh
// Load gives, diagnostics included; a change to nothing it reads is a hit.
func TestCacheMisses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string, opts *Options, entry *[]byte)
		hit    bool
	}{
		{"nothing changed", func(*testing.T, string, *Options, *[]byte) {}, true},
		{"another environment variable", func(_ *testing.T, _ string, o *Options, _ *[]byte) {
			o.Environ = append(o.Environ, "HOME=/elsewhere")
		}, true},
		{"one character of a file, same size", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			edit(t, filepath.Join(dir, "more.hcl"), "side:1", "side:2")
		}, false},
		{"a file added", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			writeFile(t, filepath.Join(dir, "third.hcl"), "mount \"m\" {\n  what = \"/dev/x\"\n  where = \"/srv/m\"\n  type = \"ext4\"\n}\n")
		}, false},
		{"a file removed", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			os.Remove(filepath.Join(dir, "more.hcl"))
		}, false},
		{"a .te source edited (read by decoding)", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			edit(t, filepath.Join(dir, "logger.te"), "type logger_t;", "type logger_t;\n# a comment")
		}, false},
		{"a .te source renamed inside", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			edit(t, filepath.Join(dir, "logger.te"), "policy_module(logger", "policy_module(other")
		}, false},
		{"a .cil source deleted", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			os.Remove(filepath.Join(dir, "extra.cil"))
		}, false},
		{"a .cil source turned into a directory", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			os.Remove(filepath.Join(dir, "extra.cil"))
			os.Mkdir(filepath.Join(dir, "extra.cil"), 0o755)
		}, false},
		{"a .cil source swapped for a symlink out of the directory, same text", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			data, _ := os.ReadFile(filepath.Join(dir, "extra.cil"))
			out := filepath.Join(t.TempDir(), "extra.cil")
			writeFile(t, out, string(data))
			os.Remove(filepath.Join(dir, "extra.cil"))
			os.Symlink(out, filepath.Join(dir, "extra.cil"))
		}, false},
		{"a .if beside the .te appears as a FIFO", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			if err := syscall.Mkfifo(filepath.Join(dir, "logger.if"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a .fc beside the .te appears", func(t *testing.T, dir string, _ *Options, _ *[]byte) {
			writeFile(t, filepath.Join(dir, "logger.fc"), "")
		}, false},
		{"-var given", func(_ *testing.T, _ string, o *Options, _ *[]byte) {
			o.Vars = map[string]string{"image": "other:3"}
		}, false},
		{"SECONF_VAR_ set", func(_ *testing.T, _ string, o *Options, _ *[]byte) {
			o.Environ = append(o.Environ, "SECONF_VAR_token=other")
		}, false},
		{"entry cut short", func(_ *testing.T, _ string, _ *Options, e *[]byte) {
			*e = (*e)[:len(*e)-10]
		}, false},
		{"entry of another configuration", func(t *testing.T, _ string, o *Options, e *[]byte) {
			other := write(t, map[string]string{"host.hcl": "container \"x\" {\n  image = \"i\"\n}\n"})
			_, _, c, _ := LoadCached([]string{other}, *o, nil)
			*e = MarkValidated(c.Entry)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, cacheConfig)
			opts := Options{Environ: []string{"PATH=/usr/bin"}}
			_, _, c, diags := LoadCached([]string{dir}, opts, nil)
			entry := MarkValidated(c.Entry)
			if c.Entry == nil {
				t.Fatalf("no entry: %v", diags)
			}
			tc.change(t, dir, &opts, &entry)
			want, _, wantDiags := Load([]string{dir}, opts)
			got, _, again, diags := LoadCached([]string{dir}, opts, entry)
			if hit := again.Hit && again.Entry == nil && len(diags) == 0; hit != tc.hit {
				t.Errorf("hit = %v, want %v", hit, tc.hit)
			}
			// A miss never passes an entry's mark on.
			if !tc.hit && again.Validated {
				t.Error("a miss came back validated")
			}
			if diff := cmp.Diff(summaries(wantDiags), summaries(diags)); diff != "" {
				t.Errorf("diagnostics differ from a fresh Load's (-Load +LoadCached):\n%s", diff)
			}
			if len(wantDiags) == 0 {
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("configuration differs from a fresh Load's (-Load +LoadCached):\n%s", diff)
				}
			}
		})
	}
}

func edit(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil || !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s lacks %q (%v)", file, old, err)
	}
	writeFile(t, file, strings.Replace(string(data), old, new, 1))
}

func writeFile(t *testing.T, file, data string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func summaries(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary)
	}
	return out
}

// TestCacheKeyCoversOptions: every Load option is part of the cache key. A
// new one must be added to cacheKey, and here.
func TestCacheKeyCoversOptions(t *testing.T) {
	var got []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(Options{})) {
		got = append(got, f.Name)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"Environ", "Vars"}, got); diff != "" {
		t.Errorf("Options changed (-known to cacheKey +now):\n%s", diff)
	}
}

// TestConfigReadsThroughDeps holds the package to reading files through the
// loader's stat and readFile, which record what the cache must re-check:
// a file read any other way would go unnoticed when it changed.
func TestConfigReadsThroughDeps(t *testing.T) {
	allowed := map[string]bool{
		"stat": true, "readFile": true, "unchanged": true, // the recorders and their re-check
		"programID": true, "SourceFiles": true, "load": true, // the key's own inputs
		"ReadFile": true, "readRegular": true, // the .hcl files, the key's inputs too
		"checkRegular": true, "sourceVerdict": true, "sourceAbsent": true, "dir": true, "file": true, // judgments the recorders re-make
	}
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || allowed[fn.Name.Name] {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if ok && (pkg.Name == "os" && fileCalls[sel.Sel.Name] || pkg.Name == "filepath" && (sel.Sel.Name == "Glob" || strings.HasPrefix(sel.Sel.Name, "Walk")) || pkg.Name == "ioutil") {
					t.Errorf("%s: %s reads the file system with %s.%s: use l.stat or l.readFile, so that the parse cache re-checks it",
						fset.Position(sel.Pos()), fn.Name.Name, pkg.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

var fileCalls = map[string]bool{"ReadFile": true, "Stat": true, "Lstat": true, "Open": true, "OpenFile": true, "ReadDir": true, "Readlink": true, "DirFS": true}

// TestCacheKeepsNoSecrets: a configuration holding a secret's value, or a
// sensitive variable's in an environment or a file's content, makes no
// entry and asks for the stored one to go; one that declares a sensitive
// variable it does not use is cached as any other.
func TestCacheKeepsNoSecrets(t *testing.T) {
	for name, tc := range map[string]struct {
		hcl     string
		secrets bool
	}{
		"secret":             {"secret \"db\" {\n  value = \"pw\"\n}\n", true},
		"environment":        {"container \"c\" {\n  image = \"i\"\n  environment = { T = var.s }\n}\n", true},
		"file":               {"file \"f\" {\n  path = \"/etc/f\"\n  content = var.s\n}\n", true},
		"declared, not used": {"container \"c\" {\n  image = \"i\"\n  environment = { T = \"x\" }\n}\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": "variable \"s\" {\n  default = \"v\"\n  sensitive = true\n}\n" + tc.hcl})
			_, _, c, diags := LoadCached([]string{dir}, Options{}, nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if c.Drop != tc.secrets || (c.Entry == nil) != tc.secrets {
				t.Errorf("Drop %v, entry %v; want drop and no entry: %v", c.Drop, c.Entry != nil, tc.secrets)
			}
		})
	}
}
