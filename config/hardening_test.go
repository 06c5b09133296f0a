package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// secret is the value of var.token in these tests: no diagnostic may show it.
const secret = "s3cr3t-Value-42"

// diagText is every diagnostic as the CLI prints it, source lines included.
func diagText(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var b bytes.Buffer
	hcl.NewDiagnosticTextWriter(&b, files, 0, false).WriteDiagnostics(diags)
	return b.String()
}

const tokenVar = "variable \"token\" {\n  sensitive = true\n}\n"

// TestSensitiveRefused: a value computed from a sensitive variable is
// refused everywhere but in environment values, at the attribute's line,
// with a message that names the variable and not its value.
func TestSensitiveRefused(t *testing.T) {
	for _, tc := range []struct {
		name, hcl string
		line      int
	}{
		{"image", "container \"c\" {\n  image = var.token\n}\n", 5},
		{"interpolated", "container \"c\" {\n  image = \"reg/${var.token}:1\"\n}\n", 5},
		{"list element", "container \"c\" {\n  image = \"i\"\n  command = [\"run\", var.token]\n}\n", 6},
		{"conditional", "container \"c\" {\n  image = \"i\"\n  user = var.token == \"x\" ? \"a\" : \"b\"\n}\n", 6},
		{"template directive", "container \"c\" {\n  image = \"i\"\n  network = \"%{ if var.token != \"\" }host%{ endif }\"\n}\n", 6},
		{"bool", "container \"c\" {\n  image = \"i\"\n  enabled = var.token != \"\"\n}\n", 6},
		{"selinux_level", "container \"c\" {\n  image = \"i\"\n  selinux_level = var.token\n}\n", 6},
		{"publish", "container \"c\" {\n  image = \"i\"\n  publish = [var.token]\n}\n", 6},
		{"volume source", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/srv/${var.token}\"\n    target = \"/d\"\n  }\n}\n", 7},
		{"mount what", "mount \"m\" {\n  what = var.token\n  where = \"/srv/m\"\n}\n", 5},
		{"mount options", "mount \"m\" {\n  what = \"/dev/sdb\"\n  where = \"/srv/m\"\n  options = [\"x\", var.token]\n}\n", 7},
		{"selinux_context", "mount \"m\" {\n  what = \"/dev/sdb\"\n  where = \"/srv/m\"\n  selinux_context = var.token\n}\n", 7},
		{"module content", "selinux_module \"m\" {\n  content = var.token\n  format = \"cil\"\n}\n", 5},
		{"module priority", "selinux_module \"m\" {\n  content = \"(type m_t)\"\n  format = \"cil\"\n  priority = var.token\n}\n", 7},
		{"index by a secret", "container \"c\" {\n  image = \"i\"\n  environment = { X = \"a\" }\n  network = { (var.token) = \"n\" }[var.token]\n}\n", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": tokenVar + tc.hcl})
			_, files, diags := Load([]string{dir}, Options{Vars: map[string]string{"token": secret}})
			if !diags.HasErrors() {
				t.Fatal("accepted")
			}
			d := diags[0]
			if d.Summary != "Sensitive value not allowed here" || d.Subject == nil || d.Subject.Start.Line != tc.line {
				t.Errorf("got %q at %v, want the refusal at line %d:\n%s", d.Summary, d.Subject, tc.line, diagText(files, diags))
			}
			if !strings.Contains(d.Detail, "var.token") || !strings.Contains(d.Detail, "environment") {
				t.Errorf("the message names neither the variable nor where it may go: %s", d.Detail)
			}
			if out := diagText(files, diags); strings.Contains(out, secret) {
				t.Errorf("the secret is printed:\n%s", out)
			}
		})
	}
}

// TestSensitiveEnvironment: environment values may be sensitive; which ones
// are is followed through interpolation, whole maps and computed keys.
func TestSensitiveEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, hcl string
		env       map[string]string
		sensitive map[string]bool
	}{
		{"one value", "environment = { TOKEN = var.token, MODE = \"prod\" }",
			map[string]string{"TOKEN": secret, "MODE": "prod"}, map[string]bool{"TOKEN": true}},
		{"interpolated", "environment = { URL = \"https://u:${var.token}@h\" }",
			map[string]string{"URL": "https://u:" + secret + "@h"}, map[string]bool{"URL": true}},
		{"conditional", "environment = { X = var.token != \"\" ? \"set\" : \"unset\" }",
			map[string]string{"X": "set"}, map[string]bool{"X": true}},
		{"a sensitive map", "environment = var.envmap",
			map[string]string{"A": "1", "B": "2"}, map[string]bool{"A": true, "B": true}},
		{"a key from a secret", "environment = { (var.token) = \"1\", OTHER = \"2\" }",
			map[string]string{secret: "1", "OTHER": "2"}, map[string]bool{secret: true, "OTHER": true}},
		{"for expression", "environment = { for k in [\"A\", \"B\"] : k => var.token }",
			map[string]string{"A": secret, "B": secret}, map[string]bool{"A": true, "B": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tokenVar + "variable \"envmap\" {\n  sensitive = true\n  default = { A = \"1\", B = 2 }\n}\n" +
				"container \"c\" {\n  image = \"i\"\n  " + tc.hcl + "\n}\n"
			dir := write(t, map[string]string{"host.hcl": src})
			cfg, files, diags := Load([]string{dir}, Options{Vars: map[string]string{"token": secret}})
			if diags.HasErrors() {
				t.Fatal(diagText(files, diags))
			}
			c := cfg.Containers[0]
			if d := cmp.Diff(tc.env, c.Environment); d != "" {
				t.Errorf("environment (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.sensitive, c.Sensitive); d != "" {
				t.Errorf("sensitive keys (-want +got):\n%s", d)
			}
		})
	}
}

// TestSensitiveErrorsWithheld: errors about environment values and HCL's
// own messages never show a secret, where they would show any other value.
func TestSensitiveErrorsWithheld(t *testing.T) {
	for _, tc := range []struct {
		name, hcl, summary string
		token              string
	}{
		// HCL names the duplicate key of a for expression.
		{"duplicate for key", "environment = { for k in [var.token, var.token] : k => \"1\" }", "Duplicate object key", secret},
		{"control character in a value", "environment = { T = var.token }", "Invalid character in value", secret + "\n"},
		{"invisible character in a value", "environment = { T = var.token }", "Invalid character in value", secret + "\u200b"},
		{"key from a secret with a space", "environment = { (var.token) = \"1\" }", "Invalid environment name", secret + " x"},
		{"value too long", "environment = { T = var.token }", "Value too long", strings.Repeat(secret, 5000)},
		{"list as a value", "environment = { T = [var.token] }", "Incorrect attribute value type", secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tokenVar + "container \"c\" {\n  image = \"i\"\n  " + tc.hcl + "\n}\n"
			dir := write(t, map[string]string{"host.hcl": src})
			_, files, diags := Load([]string{dir}, Options{Vars: map[string]string{"token": tc.token}})
			if !diags.HasErrors() || diags[0].Summary != tc.summary {
				t.Fatalf("want %q:\n%s", tc.summary, diagText(files, diags))
			}
			if out := diagText(files, diags); strings.Contains(out, secret) {
				t.Errorf("the secret is printed:\n%s", out)
			}
			if diags[0].Subject == nil || diags[0].Subject.Start.Line != 6 {
				t.Errorf("not at the attribute's line 6: %v", diags[0].Subject)
			}
		})
	}
}

// TestInvisibleCharacters: characters a reader cannot see, or takes for an
// ASCII space, are refused in every value at its line, whether the file
// spells them or a variable brings them; comments may hold them, but for
// the bidirectional controls, which are refused anywhere.
func TestInvisibleCharacters(t *testing.T) {
	for _, tc := range []struct {
		name, hcl string
		vars      map[string]string
		summary   string
		line      int
	}{
		{"nbsp in image", "container \"c\" {\n  image = \"busy\u00a0box\"\n}\n", nil, "Invalid character in value", 2},
		{"en quad in user", "container \"c\" {\n  image = \"i\"\n  user = \"a\u2000b\"\n}\n", nil, "Invalid character in value", 3},
		{"zero width space in a command", "container \"c\" {\n  image = \"i\"\n  command = [\"ls\", \"-\u200bl\"]\n}\n", nil, "Invalid character in value", 3},
		{"right-to-left mark", "container \"c\" {\n  image = \"i\"\n  network = \"a\u200fb\"\n}\n", nil, "Bidirectional control character", 3},
		{"line separator in a path", "mount \"m\" {\n  what = \"/dev/sdb\u2028\"\n  where = \"/srv/m\"\n}\n", nil, "Invalid character in value", 2},
		{"paragraph separator", "mount \"m\" {\n  what = \"/dev/sdb\"\n  where = \"/srv/m\"\n  type = \"xfs\u2029\"\n}\n", nil, "Invalid character in value", 4},
		{"bom in a volume", "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/srv\ufeff/d\"\n    target = \"/d\"\n  }\n}\n", nil, "Invalid character in value", 4},
		{"word joiner in an environment name", "container \"c\" {\n  image = \"i\"\n  environment = { \"A\u2060B\" = \"1\" }\n}\n", nil, "Invalid character in value", 3},
		{"C1 control", "container \"c\" {\n  image = \"i\"\n  selinux_level = \"s0\u0085\"\n}\n", nil, "Invalid character in value", 3},
		{"hangul filler", "container \"c\" {\n  image = \"i\"\n  user = \"\u3164\"\n}\n", nil, "Invalid character in value", 3},
		{"override in a comment", "# \u202eevil\ncontainer \"c\" {\n  image = \"i\"\n}\n", nil, "Bidirectional control character", 1},
		{"isolate in a string", "container \"c\" {\n  image = \"i\u2066\"\n}\n", nil, "Bidirectional control character", 2},
		{"nbsp from a variable", "variable \"u\" {}\ncontainer \"c\" {\n  image = \"i\"\n  user = var.u\n}\n", map[string]string{"u": "a\u00a0b"}, "Invalid character in value", 4},
		{"invalid UTF-8 from a variable", "variable \"u\" {}\ncontainer \"c\" {\n  image = \"i\"\n  user = var.u\n}\n", map[string]string{"u": "a\xffb"}, "Invalid character in value", 4},
		{"invalid UTF-8 in a file's content", "file \"f\" {\n  path = \"/srv/a\"\n  content = \"a\xb6\"\n}\n", nil, "Invalid character encoding", 3},
		{"value too long", "variable \"u\" {}\ncontainer \"c\" {\n  image = var.u\n}\n", map[string]string{"u": strings.Repeat("x", MaxValueLen+1)}, "Value too long", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": tc.hcl})
			_, files, diags := Load([]string{dir}, Options{Vars: tc.vars})
			if !diags.HasErrors() {
				t.Fatal("accepted")
			}
			d := diags[0]
			if d.Summary != tc.summary || d.Subject == nil || d.Subject.Start.Line != tc.line {
				t.Errorf("got %q at %v, want %q at line %d:\n%s", d.Summary, d.Subject, tc.summary, tc.line, diagText(files, diags))
			}
		})
	}
	// What stays allowed: such characters in comments (but bidi), ASCII
	// spaces in a command argument, non-ASCII letters, a heredoc's lines.
	ok := "# Größe\u00a0: NBSP in a comment\ncontainer \"c\" {\n  image = \"i\"\n  command = [\"echo\", \"héllo wörld\"]\n}\n" +
		"selinux_module \"m\" {\n  format = \"cil\"\n  content = <<-EOT\n    (type m_t)\n    (roletype object_r m_t)\n  EOT\n}\n"
	dir := write(t, map[string]string{"host.hcl": ok})
	cfg, files, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatal(diagText(files, diags))
	}
	if got := cfg.Modules[0].Content; got != "(type m_t)\n(roletype object_r m_t)\n" {
		t.Errorf("heredoc content %q", got)
	}
}

// TestPrescan: what would crash, hang or exhaust HCL's parser is refused
// before it runs, at the line where the limit is crossed; what is only
// quoted or commented is not counted.
func TestPrescan(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name, src, summary string
		line               int
	}{
		{"brackets", "a = 1\nb = " + deep("[", "]", 200_000) + "\n", "Expression nested too deeply", 2},
		{"parentheses", "x = " + deep("(", ")", 200_000) + "\n", "Expression nested too deeply", 1},
		{"objects", "x = " + deep("{a = ", "}", 50_000) + "\n", "Expression nested too deeply", 1},
		{"templates", "x = \"" + strings.Repeat("${\"", 50_000) + strings.Repeat("\"}", 50_000) + "\"\n", "Expression nested too deeply", 1},
		{"unary operators", "x = " + strings.Repeat("!", 500_000) + "true\n", "Expression nested too deeply", 1},
		{"binary operators", "x = " + strings.Repeat("1 + ", 200_000) + "1\n", "Expression nested too deeply", 1},
		{"conditionals", "x = " + strings.Repeat("true ? 1 : ", 100_000) + "2\n", "Expression nested too deeply", 1},
		{"indexes", "x = a" + strings.Repeat("[0]", 200_000) + "\n", "Expression nested too deeply", 1},
		{"template ifs", "x = \"" + strings.Repeat("%{if true}", 5_000) + strings.Repeat("%{endif}", 5_000) + "\"\n", "Expression nested too deeply", 1},
		{"heredoc interpolations", "x = <<EOT\n" + strings.Repeat("${(", 5_000) + "\nEOT\n", "Expression nested too deeply", 2},
		// A block or object inside another counts twice (the bracket, and the
		// bracket as a postfix of what precedes it): 50 levels.
		{"blocks", strings.Repeat("a {\n", 5_000), "Expression nested too deeply", 51},
		{"nested for", "x = [for a in [1, 2] : [for b in [1, 2] : a]]\n", "Nested for expression", 1},
		{"for in a template for", "x = \"%{for a in [1]}${[for b in [1] : b]}%{endfor}\"\n", "Nested for expression", 1},
		{"too many tokens", "x = [" + strings.Repeat("1,", MaxTokens) + "]\n", "Configuration file too large", 1},
		{"heredoc lines count", "x = <<EOT\n" + strings.Repeat("\n", MaxTokens+1) + "EOT\n", "Configuration file too large", MaxTokens/2 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": tc.src})
			_, _, diags := Load([]string{dir}, Options{})
			if !diags.HasErrors() {
				t.Fatal("accepted")
			}
			d := diags[0]
			if d.Summary != tc.summary || d.Subject == nil {
				t.Fatalf("got %q (%s), want %q", d.Summary, d.Detail, tc.summary)
			}
			if tc.line > 0 && tc.summary != "Configuration file too large" && d.Subject.Start.Line != tc.line {
				t.Errorf("at line %d, want %d", d.Subject.Start.Line, tc.line)
			}
		})
	}
	// Quoted and commented brackets, operators and for keywords are not
	// nesting; a moderately nested real expression passes.
	ok := "# " + strings.Repeat("[(", 500) + "\n/* " + strings.Repeat("{", 500) + " */\n" +
		"variable \"v\" {\n  default = \"" + strings.Repeat("[(${\"\"}-+", 300) + "\"\n}\n" +
		"selinux_module \"m\" {\n  format = \"cil\"\n  content = <<-EOT\n" + strings.Repeat("    (((((((((( for x in y\n", 300) + "  EOT\n}\n" +
		"container \"c\" {\n  image = \"i\"\n  command = [for x in [[1, 2], [3, 4]] : \"${x[0]}-${x[1] + 1 * 2 - 3}\"]\n" +
		"  environment = { A = \"%{ for x in [1, 2] }${x}%{ endfor }\", B = \"%%{ for }$${x}\" }\n}\n"
	dir := write(t, map[string]string{"host.hcl": ok})
	cfg, files, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatal(diagText(files, diags))
	}
	if got := cfg.Containers[0].Command; !cmp.Equal(got, []string{"1-1", "3-3"}) {
		t.Errorf("command %q", got)
	}
}

// TestFileLimits: a file over MaxFileSize is refused without reading it
// into the parser.
func TestFileLimits(t *testing.T) {
	dir := write(t, map[string]string{"host.hcl": "# " + strings.Repeat("x", MaxFileSize) + "\n"})
	_, _, diags := Load([]string{dir}, Options{})
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "more than the") {
		t.Errorf("a %d-byte file: %v", MaxFileSize+3, diags)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSpecialFiles: FIFOs, devices, sockets and directories where a file is
// expected are refused at once, naming what they are; editors' dot files
// in a configuration directory are left out.
func TestSpecialFiles(t *testing.T) {
	const ok = "container \"c\" {\n  image = \"i\"\n}\n"
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to load
		want  string
	}{
		{"fifo given as the file", func(t *testing.T, dir string) string {
			mkfifo(t, filepath.Join(dir, "x.hcl"))
			return filepath.Join(dir, "x.hcl")
		}, "named pipe (FIFO)"},
		{"fifo in the directory", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(ok), 0o644)
			mkfifo(t, filepath.Join(dir, "b.hcl"))
			return dir
		}, "b.hcl is a named pipe (FIFO)"},
		{"device given as the file", func(t *testing.T, dir string) string { return "/dev/null" }, "character device"},
		{"directory named .hcl", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(ok), 0o644)
			os.Mkdir(filepath.Join(dir, "sub.hcl"), 0o755)
			return dir
		}, "sub.hcl is a directory"},
		{"empty directory", func(t *testing.T, dir string) string { return dir }, "holds no *.hcl file"},
		{"missing path", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, "no such file or directory"},
		{"empty path", func(t *testing.T, dir string) string { return "" }, "An empty path"},
		{"fifo as a module source", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("selinux_module \"m\" {\n  source = \"m.te\"\n}\n"), 0o644)
			mkfifo(t, filepath.Join(dir, "m.te"))
			return dir
		}, "m.te is a named pipe (FIFO)"},
		{"fifo as the .if beside a .te", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("selinux_module \"m\" {\n  source = \"m.te\"\n}\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "m.te"), []byte("policy_module(m, 1.0)\n"), 0o644)
			mkfifo(t, filepath.Join(dir, "m.if"))
			return dir
		}, "m.if is a named pipe (FIFO)"},
		{"device as an absolute source", func(t *testing.T, dir string) string {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.cil")); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("selinux_module \"m\" {\n  source = \""+filepath.Join(dir, "zero.cil")+"\"\n}\n"), 0o644)
			return dir
		}, "character device"},
		{"directory as a source", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("selinux_module \"m\" {\n  source = \"m.cil\"\n}\n"), 0o644)
			os.Mkdir(filepath.Join(dir, "m.cil"), 0o755)
			return dir
		}, "m.cil is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.setup(t, t.TempDir())
			done := make(chan hcl.Diagnostics, 1)
			go func() {
				_, _, diags := Load([]string{p}, Options{})
				done <- diags
			}()
			select {
			case diags := <-done:
				if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tc.want) {
					t.Errorf("want an error with %q, got %v", tc.want, diags)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load hangs")
			}
		})
	}
	// An editor's lock file (Emacs: a dangling symlink .#host.hcl) is not
	// part of the configuration.
	dir := write(t, map[string]string{"host.hcl": ok})
	os.Symlink("root@host.1234:1700000000", filepath.Join(dir, ".#host.hcl"))
	if _, _, diags := Load([]string{dir}, Options{}); diags.HasErrors() {
		t.Errorf("an editor's lock file broke the load: %v", diags)
	}
}

// TestSourceSymlinks: a relative module source, and the .if and .fc beside
// a .te, must really be inside the configuration's directory; a symlink
// within it is fine.
func TestSourceSymlinks(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "shadow.cil"), []byte("(type x_t)\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "m.fc"), []byte("/x -- gen_context(system_u:object_r:m_t,s0)\n"), 0o644)
	const hclSrc = "selinux_module \"m\" {\n  source = \"%s\"\n}\n"
	for _, tc := range []struct {
		name  string
		setup func(dir string) string // returns the source attribute
		want  string                  // "" accepts
	}{
		{"link to a file outside", func(dir string) string {
			os.Symlink(filepath.Join(outside, "shadow.cil"), filepath.Join(dir, "m.cil"))
			return "m.cil"
		}, "outside the configuration's directory"},
		{"relative link climbing out", func(dir string) string {
			os.Symlink("../../../../../../../../"+outside+"/shadow.cil", filepath.Join(dir, "m.cil"))
			return "m.cil"
		}, "outside the configuration's directory"},
		{"directory link", func(dir string) string {
			os.Symlink(outside, filepath.Join(dir, "pol"))
			return "pol/shadow.cil"
		}, "outside the configuration's directory"},
		{"fc beside the te links outside", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "m.te"), []byte("policy_module(m, 1.0)\n"), 0o644)
			os.Symlink(filepath.Join(outside, "m.fc"), filepath.Join(dir, "m.fc"))
			return "m.te"
		}, "m.fc is a symbolic link to"},
		{"dangling link", func(dir string) string {
			os.Symlink(filepath.Join(outside, "nope.cil"), filepath.Join(dir, "m.cil"))
			return "m.cil"
		}, "leads nowhere"},
		{"link inside the directory", func(dir string) string {
			os.Mkdir(filepath.Join(dir, "policy"), 0o755)
			os.WriteFile(filepath.Join(dir, "policy", "real.cil"), []byte("(type m_t)\n"), 0o644)
			os.Symlink("policy/real.cil", filepath.Join(dir, "m.cil"))
			return "m.cil"
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := tc.setup(dir)
			os.WriteFile(filepath.Join(dir, "host.hcl"), []byte(strings.Replace(hclSrc, "%s", src, 1)), 0o644)
			cfg, _, diags := Load([]string{dir}, Options{})
			switch {
			case tc.want == "" && diags.HasErrors():
				t.Errorf("refused: %v", diags)
			case tc.want == "" && cfg.Modules[0].Source != filepath.Join(dir, src):
				t.Errorf("source %q", cfg.Modules[0].Source)
			case tc.want != "" && (!diags.HasErrors() || !strings.Contains(diags[0].Detail, tc.want)):
				t.Errorf("want an error with %q, got %v", tc.want, diags)
			case tc.want != "" && diags[0].Subject.Start.Line != 2:
				t.Errorf("not at the source line: %v", diags[0].Subject)
			}
		})
	}
}

// BenchmarkLoadLongList: lists are converted element by element, in linear
// time (cty's tuple conversion took minutes for 100,000 strings).
func BenchmarkLoadLongList(b *testing.B) {
	dir := b.TempDir()
	src := "container \"c\" {\n  image = \"i\"\n  command = [" + strings.Repeat("\"a\",", 50_000) + "\"a\"]\n}\n"
	os.WriteFile(filepath.Join(dir, "host.hcl"), []byte(src), 0o644)
	for b.Loop() {
		if _, _, diags := Load([]string{dir}, Options{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
