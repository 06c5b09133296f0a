package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const te = "policy_module(logger, 1.0)\ntype logger_t;\n"

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		hcl     string
		files   map[string]string
		vars    map[string]string
		summary string // the diagnostic's summary
		line    int    // the line its subject starts on
	}{
		{"syntax error", "selinux_module \"x\" {\n  source = \n}\n", nil, nil, "Invalid expression", 2},
		{"unknown block", "service \"x\" {}\n", nil, nil, "Unsupported block type", 1},
		{"unknown attribute", "selinux_module \"logger\" {\n  source = \"logger.te\"\n  prio = 3\n}\n", nil, nil, "Unsupported argument", 3},
		{"wrong type", "selinux_module \"logger\" {\n  source = \"logger.te\"\n  priority = \"high\"\n}\n", nil, nil, "Incorrect attribute value type", 3},
		{"duplicate name", "selinux_module \"logger\" {\n  source = \"logger.te\"\n}\nselinux_module \"logger\" {\n  source = \"logger.te\"\n}\n", nil, nil, "Duplicate selinux_module block", 4},
		{"undeclared reference", "container \"c\" {\n  image = \"i\"\n  depends_on = [selinux_module.nope]\n}\n", nil, nil, "Reference to undeclared resource", 3},
		{"undeclared reference in a value", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = mount.data.where\n    target = \"/data\"\n  }\n}\n", nil, nil, "Reference to undeclared resource", 4},
		{"undeclared variable", "container \"c\" {\n  image = var.image\n}\n", nil, nil, "Reference to undeclared variable", 2},
		{"unknown reference", "container \"c\" {\n  image = local.image\n}\n", nil, nil, "Unknown reference", 2},
		{"cycle", "container \"a\" {\n  image = \"i\"\n  depends_on = [container.b]\n}\ncontainer \"b\" {\n  image = \"i\"\n  depends_on = [container.a]\n}\n", nil, nil, "Dependency cycle", 7},
		{"missing source file", "selinux_module \"logger\" {\n  source = \"nope.te\"\n}\n", nil, nil, "Missing source file", 2},
		{"source outside the configuration", "selinux_module \"logger\" {\n  source = \"../logger.te\"\n}\n", nil, nil, "Source outside the configuration", 2},
		{"unknown format", "selinux_module \"logger\" {\n  source = \"logger.txt\"\n}\n", map[string]string{"logger.txt": te}, nil, "Unknown policy format", 2},
		{"module name mismatch", "selinux_module \"other\" {\n  source = \"logger.te\"\n}\n", nil, nil, "Module name mismatch", 2},
		{"no module statement", "selinux_module \"logger\" {\n  content = \"type x_t;\"\n  format = \"te\"\n}\n", nil, nil, "No module statement", 2},
		{"content of no known language", "selinux_module \"logger\" {\n  content = \"type x_t;\"\n}\n", nil, nil, "Cannot tell the policy language", 2},
		{"content with a pp format", "selinux_module \"logger\" {\n  content = \"(type x_t)\"\n  format = \"pp\"\n}\n", nil, nil, "Invalid format", 3},
		{"disabling with a priority", "selinux_module \"sshd\" {\n  enabled = false\n  priority = 100\n}\n", nil, nil, "Argument without meaning here", 3},
		{"no source, enabled", "selinux_module \"sshd\" {\n  enabled = true\n}\n", nil, nil, "Missing policy source", 1},
		{"source and content", "selinux_module \"logger\" {\n  source = \"logger.te\"\n  content = \"x\"\n}\n", nil, nil, "Conflicting arguments", 3},
		{"no source", "selinux_module \"logger\" {\n}\n", nil, nil, "Missing policy source", 1},
		{"priority out of range", "selinux_module \"logger\" {\n  source = \"logger.te\"\n  priority = 1000\n}\n", nil, nil, "Invalid priority", 3},
		{"not a policy package", "selinux_module \"logger\" {\n  source = \"logger.pp\"\n}\n", map[string]string{"logger.pp": "junk"}, nil, "Not a policy package", 2},
		{"missing variable value", "variable \"image\" {}\ncontainer \"c\" {\n  image = var.image\n}\n", nil, nil, "No value for required variable", 1},
		{"invalid name", "container \"../etc\" {\n  image = \"i\"\n}\n", nil, nil, "Invalid name", 1},
		{"control character", "container \"c\" {\n  image = \"i\\nExecStartPre=/bin/sh\"\n}\n", nil, nil, "Invalid character in value", 2},
		{"missing image", "container \"c\" {\n}\n", nil, nil, "Missing required argument", 1},
		{"bad engine", "container \"c\" {\n  image = \"i\"\n  engine = \"lxc\"\n}\n", nil, nil, "Invalid value for engine", 3},
		{"relative volume", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"data\"\n    target = \"/data\"\n  }\n}\n", nil, nil, "Invalid path", 4},
		{"unnormalised path", "mount \"m\" {\n  what = \"/dev/sdb\"\n  where = \"/srv//data/../x\"\n}\n", nil, nil, "Invalid path", 3},
		{"privileged", "container \"c\" {\n  image = \"i\"\n  privileged = true\n}\n", nil, nil, "Unconfined container refused", 3},
		{"spc_t", "container \"c\" {\n  image = \"i\"\n  selinux_type = \"spc_t\"\n}\n", nil, nil, "Unconfined container refused", 3},
		{"relabel /var/log", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/var/log\"\n    target = \"/var/log\"\n    relabel = \"private\"\n  }\n}\n", nil, nil, "Relabelling a system directory refused", 3},
		{"relabel under /usr", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/usr/share\"\n    target = \"/x\"\n    relabel = \"shared\"\n  }\n}\n", nil, nil, "Relabelling a system directory refused", 3},
		{"file mode as a number", "file \"f\" {\n  path = \"/etc/f\"\n  content = \"\"\n  mode = 0644\n}\n", nil, nil, "Mode must be a string", 4},
		{"file mode with setuid", "file \"f\" {\n  path = \"/etc/f\"\n  content = \"\"\n  mode = \"4755\"\n}\n", nil, nil, "Invalid mode", 4},
		{"file without content", "file \"f\" {\n  path = \"/etc/f\"\n}\n", nil, nil, "Missing file content", 1},
		{"file with content and source", "file \"f\" {\n  path = \"/etc/f\"\n  content = \"\"\n  source = \"logger.te\"\n}\n", nil, nil, "Conflicting arguments", 4},
		{"two blocks, one path", "file \"f\" {\n  path = \"/etc/f\"\n  content = \"\"\n}\ndirectory \"d\" {\n  path = \"/etc/f\"\n}\n", nil, nil, "Two blocks manage one path", 6},
		{"file owner not a name", "file \"f\" {\n  path = \"/etc/f\"\n  content = \"\"\n  owner = \"root:root\"\n}\n", nil, nil, "Invalid owner", 4},
		{"file in /var/run is in /run/systemd", "file \"f\" {\n  path = \"/var/run/systemd/x\"\n  content = \"\"\n}\n", nil, nil, "File path refused", 2},
		{"directory on /var/log", "directory \"d\" {\n  path = \"/var/log\"\n}\n", nil, nil, "Directory path refused", 2},
		{"secret without value", "secret \"s\" {\n}\n", nil, nil, "Missing required argument", 1},
		{"undeclared file", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = file.nope.path\n    target = \"/x\"\n  }\n}\n", nil, nil, "Reference to undeclared resource", 4},
		{"undeclared -var", "", nil, map[string]string{"nope": "1"}, "Value for undeclared variable", 0},
		{"confine with selinux_type", "container \"c\" {\n  image = \"i\"\n  selinux_type = \"logger_t\"\n  confine = true\n}\n", nil, nil, "Conflicting SELinux type", 4},
		{"confine privileged", "container \"c\" {\n  image = \"i\"\n  confine = true\n  privileged = true\n  allow_unconfined = true\n}\n", nil, nil, "Confine and privileged", 3},
		{"confine with a file type", "container \"c\" {\n  image = \"i\"\n  confine = true\n  security_label_file_type = \"x_file_t\"\n}\n", nil, nil, "Confine and security_label_file_type", 4},
		{"confined names collide", "container \"web-1\" {\n  image = \"i\"\n  confine = true\n}\ncontainer \"web.1\" {\n  image = \"i\"\n  confine = true\n}\n", nil, nil, "Generated module name taken", 7},
		{"confined name is a module's", "selinux_module \"seconf_logger\" {\n  content = \"(type x_t)\"\n  format = \"cil\"\n}\ncontainer \"logger\" {\n  image = \"i\"\n  confine = true\n}\n", nil, nil, "Generated module name taken", 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"host.hcl": tc.hcl, "logger.te": te}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := write(t, files)
			_, _, diags := Load([]string{dir}, Options{Vars: tc.vars})
			if !diags.HasErrors() {
				t.Fatalf("no error")
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Errorf("summary %q, want %q (detail: %s)", d.Summary, tc.summary, d.Detail)
			}
			if tc.line == 0 {
				return
			}
			if d.Subject == nil {
				t.Fatalf("no source range: %s: %s", d.Summary, d.Detail)
			}
			if got := d.Subject.Start.Line; got != tc.line || filepath.Base(d.Subject.Filename) != "host.hcl" {
				t.Errorf("subject %s:%d, want host.hcl:%d", d.Subject.Filename, got, tc.line)
			}
			if d.Detail == "" {
				t.Error("no detail saying what to change")
			}
		})
	}
}

func TestLoadExample(t *testing.T) {
	dir := write(t, map[string]string{
		"host.hcl": `
variable "image" { default = "docker.io/fluent/fluentd:v1.17-1" }
variable "token" {
  default   = "s3cret"
  sensitive = true
}
selinux_module "logger" {
  source = "logger.te"
}
mount "data" {
  what            = "/dev/disk/by-label/data"
  where           = "/srv/data"
  type            = "xfs"
  selinux_context = "system_u:object_r:container_file_t:s0"
}
container "logger" {
  image        = var.image
  selinux_type = "logger_t"
  environment  = { TOKEN = var.token, MODE = "x" }
  depends_on   = [selinux_module.logger]
  volume {
    source = "/var/log"
    target = "/var/log"
  }
  volume {
    source    = mount.data.where
    target    = "/data"
    read_only = true
  }
}
`, "logger.te": te})
	t.Setenv("SECONF_VAR_image", "from-env")
	cfg, _, diags := Load([]string{dir}, Options{Environ: os.Environ(), Vars: map[string]string{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := cfg.Containers[0]
	if c.Image != "from-env" {
		t.Errorf("SECONF_VAR_image not used: %q", c.Image)
	}
	var deps []string
	for _, d := range c.Deps {
		deps = append(deps, d.ID())
	}
	if diff := cmp.Diff([]string{"selinux_module.logger", "mount.data"}, deps); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}
	want := []Volume{
		{Source: "/var/log", Target: "/var/log", Relabel: "none"},
		{Source: "/srv/data", Target: "/data", ReadOnly: true, Relabel: "none", Mount: "data"},
	}
	for i := range c.Volumes {
		c.Volumes[i].Range = want[i].Range
	}
	if diff := cmp.Diff(want, c.Volumes); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	if !c.Sensitive["TOKEN"] || c.Sensitive["MODE"] || c.Environment["TOKEN"] != "s3cret" {
		t.Errorf("sensitivity: %v %v", c.Sensitive, c.Environment)
	}
	if c.Engine != "podman" || c.Restart != "always" || !c.Enabled {
		t.Errorf("defaults: engine %q restart %q enabled %v", c.Engine, c.Restart, c.Enabled)
	}
	m := cfg.Modules[0]
	if m.Priority != 400 || !m.Enabled || m.Format != FormatTE || !strings.HasSuffix(m.Source, "/logger.te") {
		t.Errorf("module: %+v", m)
	}
	cfg, _, diags = Load([]string{dir}, Options{Vars: map[string]string{"image": "from-flag"}, Environ: os.Environ()})
	if diags.HasErrors() || cfg.Containers[0].Image != "from-flag" {
		t.Errorf("-var does not win over the environment: %v %v", diags, cfg.Containers[0].Image)
	}
}

// TestModuleForms: the inline forms the README shows, the format inferred
// from the text, and the block that only disables an installed module.
func TestModuleForms(t *testing.T) {
	tests := []struct {
		name string
		hcl  string
		want Module // Format, Enabled, Override, Existing, Priority
	}{
		{"inline CIL heredoc", "selinux_module \"x\" {\n  content = <<-EOT\n    ; a comment\n    (type x_t)\n  EOT\n}\n",
			Module{Format: FormatCIL, Enabled: true, Priority: 400}},
		{"inline te heredoc", "selinux_module \"x\" {\n  content = <<-EOT\n    # comment\n    policy_module(x, 1.0)\n    type x_t;\n  EOT\n}\n",
			Module{Format: FormatTE, Enabled: true, Priority: 400}},
		{"inline raw te", "selinux_module \"x\" {\n  content = <<-EOT\n    module x 1.0;\n    type x_t;\n  EOT\n}\n",
			Module{Format: FormatTE, Enabled: true, Priority: 400}},
		{"format given", "selinux_module \"x\" {\n  content = \"(type x_t)\"\n  format = \"cil\"\n}\n",
			Module{Format: FormatCIL, Enabled: true, Priority: 400}},
		{"override", "selinux_module \"x\" {\n  content = \"(type x_t)\"\n  priority = 450\n  override = true\n}\n",
			Module{Format: FormatCIL, Enabled: true, Priority: 450, Override: true}},
		{"disable an installed module", "selinux_module \"x\" {\n  enabled = false\n}\n",
			Module{Enabled: false, Existing: true, Priority: 400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := Load([]string{write(t, map[string]string{"host.hcl": tc.hcl})}, Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			m := cfg.Modules[0]
			got := Module{Format: m.Format, Enabled: m.Enabled, Override: m.Override, Existing: m.Existing, Priority: m.Priority}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestPPName(t *testing.T) {
	if _, err := PPName([]byte("junk")); err == nil {
		t.Error("junk parsed as a policy package")
	}
}

// TestConfinedType: confine = true names the container's type after the
// container, with what SELinux identifiers cannot hold mapped to '_', and
// sets it as the container's selinux_type for the renderers.
func TestConfinedType(t *testing.T) {
	dir := write(t, map[string]string{"host.hcl": `
container "web-1.blue" {
  image   = "i"
  confine = true
}
container "plain" {
  image = "i"
}
`})
	cfg, _, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := map[string][2]string{}
	for _, c := range cfg.Containers {
		got[c.Name] = [2]string{c.SELinuxType, fmt.Sprint(c.Confine)}
	}
	want := map[string][2]string{"web-1.blue": {"seconf_web_1_blue_t", "true"}, "plain": {"", "false"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	if m := ConfinedModule("web-1.blue"); m != "seconf_web_1_blue" {
		t.Errorf("module %q", m)
	}
}

// TestVarComplexValues: a variable whose default is a list or a map takes
// an HCL value from --var or the environment, as Terraform reads one; a
// value that is not one is refused at the variable, naming the flag.
func TestVarComplexValues(t *testing.T) {
	dir := write(t, map[string]string{"host.hcl": `
variable "ports" { default = ["24224:24224"] }
variable "labels" { default = { app = "logger" } }
variable "secret_list" {
  default   = ["a"]
  sensitive = true
}
container "c" {
  image   = "i"
  publish = var.ports
  label   = var.labels
}
`})
	cfg, _, diags := Load([]string{dir}, Options{
		Vars:    map[string]string{"ports": `["8080:80", "8443:443"]`},
		Environ: []string{`SECONF_VAR_labels={ app = "web", tier = "front" }`},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := cfg.Containers[0]
	if got := strings.Join(c.Publish, " "); got != "8080:80 8443:443" {
		t.Errorf("publish from --var: %q", got)
	}
	if got := c.Options["label"]; !strings.Contains(fmt.Sprint(got), "web") || !strings.Contains(fmt.Sprint(got), "front") {
		t.Errorf("label from SECONF_VAR_labels: %v", got)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"a string for a list", map[string]string{"ports": "8080:80"}, "--var ports: "},
		{"a map for a list", map[string]string{"ports": `{ a = "b" }`}, "the default is a list"},
		{"a list for a map", map[string]string{"labels": `["x"]`}, "the default is a map"},
		{"a reference", map[string]string{"ports": `[var.x]`}, "--var ports: not an HCL literal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, diags := Load([]string{dir}, Options{Vars: tc.vars})
			if !diags.HasErrors() || diags[0].Summary != "Invalid value for variable" || !strings.Contains(diags[0].Detail, tc.want) {
				t.Fatalf("want %q, got %v", tc.want, diags)
			}
			if d := diags[0]; d.Subject == nil || d.Subject.Start.Line < 2 || d.Subject.Start.Line > 3 {
				t.Errorf("not at the variable: %v", d.Subject)
			}
		})
	}
	const secret = "hunter2-in-a-list"
	_, _, diags = Load([]string{dir}, Options{Vars: map[string]string{"secret_list": secret}})
	if !diags.HasErrors() || strings.Contains(diags.Error(), secret) || !strings.Contains(diags[0].Detail, "--var secret_list") {
		t.Errorf("a sensitive variable's bad value: %v", diags)
	}
}

// TestConfineAdvice: a refusal does not tell a container that already has
// a type of its own (confine = true) to get one.
func TestConfineAdvice(t *testing.T) {
	for _, confine := range []bool{false, true} {
		dir := write(t, map[string]string{"host.hcl": fmt.Sprintf("container \"c\" {\n  image = \"i\"\n  confine = %v\n  add_capability = [\"SYS_ADMIN\"]\n}\n", confine)})
		_, _, diags := Load([]string{dir}, Options{})
		if !diags.HasErrors() || diags[0].Summary != "Unconfined container refused" {
			t.Fatalf("confine = %v: %v", confine, diags)
		}
		if advises := strings.Contains(diags[0].Detail, "Give the container its own SELinux type"); advises == confine {
			t.Errorf("confine = %v: %s", confine, diags[0].Detail)
		}
	}
}

// TestSELinuxLevelEveryCategory: a level that holds every category
// dominates every container's, so it is refused as unconfining; a level of
// a few categories (to share files between two containers) is not.
func TestSELinuxLevelEveryCategory(t *testing.T) {
	for level, refused := range map[string]bool{
		"s0:c0.c1023":           true,
		"s0-s0:c0.c1023":        true,
		"s0-s15:c0.c1023":       true,
		"s0:c0.c511,c512.c1023": true,
		"s0:c0,c1.c1022,c1023":  true,
		"s0:c0.c1022":           false,
		"s0:c100,c200":          false,
		"s0":                    false,
		"s0:c1,c2,c3":           false,
		"s0:c0.c1023,c5.c2":     false, // malformed: left to the engine
	} {
		dir := write(t, map[string]string{"host.hcl": fmt.Sprintf("container \"c\" {\n  image = \"i\"\n  confine = true\n  selinux_level = %q\n}\n", level)})
		_, _, diags := Load([]string{dir}, Options{})
		got := diags.HasErrors() && diags[0].Summary == "Unconfined container refused" && diags[0].Subject != nil && diags[0].Subject.Start.Line == 4
		if got != refused {
			t.Errorf("%s: refused %v, want %v: %v", level, got, refused, diags)
		}
	}
}
