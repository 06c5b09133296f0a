package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
	"seconf/modules/timer"
)

// TestSensitiveValuesStaySecret: a value from a sensitive variable never
// shows in plan output, diffs, JSON, the command log, status or the state
// record (its last apply's failure included), and reaches the host only in
// an environment file of mode 0600 that the unit reads.
func TestSensitiveValuesStaySecret(t *testing.T) {
	const secret = "hunter2-do-not-print"
	root := t.TempDir()
	cfg := writeFiles(t, map[string]string{"host.hcl": `
variable "token" {
  sensitive = true
}
container "app" {
  image       = "localhost/app:1"
  quadlet     = false
  environment = { TOKEN = var.token, MODE = "prod", URL = "https://app:${var.token}@db" }
}
`})
	t.Setenv("SECONF_VAR_token", secret)
	for _, args := range [][]string{
		{"validate"}, {"plan", "--diff"}, {"plan", "--json", "--diff"}, {"apply", "-v", "--diff"},
		{"status", "--diff"}, {"status", "--json", "--diff"},
	} {
		out, errs, code := seconf(t, append(args, "--root", root, cfg)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if strings.Contains(out+errs, secret) {
			t.Errorf("%v printed the secret:\n%s\n%s", args, out, errs)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/app.service"))
	if strings.Contains(string(unit), secret) || !strings.Contains(string(unit), "/etc/seconf/env/app.env") {
		t.Errorf("unit file:\n%s", unit)
	}
	env := filepath.Join(root, "etc/seconf/env/app.env")
	st, err := os.Stat(env)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v %v", err, st)
	}
	if data, _ := os.ReadFile(env); !strings.Contains(string(data), "TOKEN="+secret) {
		t.Errorf("env file lacks the secret:\n%s", data)
	}
	state, _ := os.ReadFile(filepath.Join(root, "var/lib/seconf/state.json"))
	if strings.Contains(string(state), secret) {
		t.Error("the state record holds the secret")
	}
	// A changed secret is an update whose diff stays hidden.
	t.Setenv("SECONF_VAR_token", secret+"-2")
	out := mustSeconf(t, 0, "plan", "--diff", "--root", root, cfg)
	if !strings.Contains(out, "~ update") || strings.Contains(out, secret) || !strings.Contains(out, "sensitive") {
		t.Errorf("plan of a changed secret:\n%s", out)
	}
	// An apply that fails after writing the new secret (the .wants
	// directory is a file, so enabling fails): its error, in the output,
	// the state record's last apply and status, names the file, not the
	// value.
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	if err := os.RemoveAll(wants); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wants, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := seconf(t, "apply", "-v", "--root", root, cfg)
	if code != 1 || strings.Contains(out+errs, secret) {
		t.Errorf("failed apply: exit %d, printed:\n%s\n%s", code, out, errs)
	}
	state, _ = os.ReadFile(filepath.Join(root, "var/lib/seconf/state.json"))
	if !strings.Contains(string(state), `"failed"`) || strings.Contains(string(state), secret) {
		t.Errorf("state record after the failure:\n%s", state)
	}
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		out, errs, _ := seconf(t, append(args, "--root", root, cfg)...)
		if strings.Contains(out+errs, secret) || !strings.Contains(out+errs, "multi-user.target.wants") {
			t.Errorf("%v after the failure:\n%s\n%s", args, out, errs)
		}
	}
}

// TestSensitiveValuesRefused: a sensitive value anywhere but in an
// environment value is refused by validate, plan and apply, at its line,
// without printing it, and nothing is written.
func TestSensitiveValuesRefused(t *testing.T) {
	const secret = "hunter2-do-not-print"
	root := t.TempDir()
	cfg := writeFiles(t, map[string]string{"host.hcl": `variable "token" {
  sensitive = true
}
container "app" {
  image   = "localhost/app:1"
  command = ["serve", "--token=${var.token}"]
}
mount "m" {
  what    = "/dev/sdb"
  where   = "/srv/m"
  options = [var.token == "" ? "ro" : "rw"]
}
container "env" {
  image       = "i"
  environment = { for k in [var.token, var.token] : k => "1" }
}
`})
	for _, args := range [][]string{{"validate"}, {"plan", "--json"}, {"apply"}, {"status"}} {
		out, errs, code := seconf(t, append(args, "--var", "token="+secret, "--root", root, cfg)...)
		if code != 1 || strings.Contains(out+errs, secret) {
			t.Errorf("%v: exit %d, printed:\n%s\n%s", args, code, out, errs)
		}
		for _, want := range []string{"host.hcl line 6", "host.hcl line 11", "host.hcl line 15", "Sensitive value not allowed here", "var.token", "environment = { NAME = var.token }", "details are withheld"} {
			if !strings.Contains(errs, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, errs)
			}
		}
	}
	if ents, _ := os.ReadDir(root); len(ents) > 0 {
		t.Errorf("a refused configuration wrote %d entries into the root", len(ents))
	}
}

// TestTimerSecrets: `timer install --var` puts the values of sensitive
// variables into a 0600 environment file the service reads, never into the
// unit, the output or the state record; other values stay visible in the
// unit. Without the configuration to tell which are sensitive, every value
// is treated as one. Remove takes the file away with the units.
func TestTimerSecrets(t *testing.T) {
	const secret = "hunter2 do-not-print"
	root := timerRoot(t)
	if err := os.WriteFile(filepath.Join(root, "etc/seconf/vars.hcl"), []byte("variable \"token\" {\n  sensitive = true\n}\nvariable \"site\" {\n  default = \"x\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testenv.Snapshot(t, root)
	install := []string{"timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf",
		"--var", "token=" + secret, "--var", "site=lab", "/etc/seconf"}
	out, errs, code := seconf(t, install...)
	if code != 0 || strings.Contains(out+errs, secret) {
		t.Fatalf("install: exit %d, printed:\n%s\n%s", code, out, errs)
	}
	svc := unitLines(t, root, timer.Service)
	if got := svc["ExecStart"]; len(got) != 1 || !strings.Contains(got[0], "--var=site=lab") || strings.Contains(got[0], "token") {
		t.Errorf("ExecStart: %q", got)
	}
	if got := svc["EnvironmentFile"]; len(got) != 1 || got[0] != timer.EnvFile {
		t.Errorf("EnvironmentFile: %q", got)
	}
	for _, f := range []string{filepath.Join("etc/systemd/system", timer.Service), filepath.Join("etc/systemd/system", timer.Timer), host.StatePath} {
		if data, _ := os.ReadFile(filepath.Join(root, f)); strings.Contains(string(data), secret) {
			t.Errorf("%s holds the secret", f)
		}
	}
	envPath := filepath.Join(root, timer.EnvFile)
	st, err := os.Stat(envPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("environment file: %v %v", err, st)
	}
	if data, _ := os.ReadFile(envPath); !strings.Contains(string(data), `SECONF_VAR_token="`+secret+`"`) || strings.Contains(string(data), "site") {
		t.Errorf("environment file:\n%s", data)
	}
	verifyInRoot(t, root, timer.Timer, timer.Service)
	if out := mustSeconf(t, 0, install...); !strings.Contains(out, "nothing to do") {
		t.Errorf("second install:\n%s", out)
	}
	mustSeconf(t, 0, "timer", "remove", "--root", root)
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("remove left the root different from before install:\n%s", testenv.Diff(before, after))
	}

	// Offline, before the configuration is in the image: every --var is
	// kept out of the unit.
	bare := t.TempDir()
	os.MkdirAll(filepath.Join(bare, "usr/local/bin"), 0o755)
	out, errs, code = seconf(t, "timer", "install", "--root", bare, "--seconf-path", "/usr/local/bin/seconf",
		"--var", "token="+secret, "--var", "site=lab", "/etc/seconf")
	if code != 0 || strings.Contains(out+errs, secret) {
		t.Fatalf("install without the configuration: exit %d:\n%s\n%s", code, out, errs)
	}
	if got := unitLines(t, bare, timer.Service)["ExecStart"]; strings.Contains(got[0], "--var") {
		t.Errorf("ExecStart without the configuration: %q", got)
	}
	if data, _ := os.ReadFile(filepath.Join(bare, timer.EnvFile)); !strings.Contains(string(data), "SECONF_VAR_site=\"lab\"") {
		t.Errorf("environment file without the configuration:\n%s", data)
	}
}
