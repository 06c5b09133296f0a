package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSensitiveValuesStaySecret: a value from a sensitive variable never
// shows in plan output, diffs, JSON or the command log, and reaches the host
// only in an environment file of mode 0600 that the unit reads.
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
  environment = { TOKEN = var.token, MODE = "prod" }
}
`})
	t.Setenv("SECONF_VAR_token", secret)
	for _, args := range [][]string{
		{"plan", "--diff"}, {"plan", "--json", "--diff"}, {"apply", "-v", "--diff"},
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
}
