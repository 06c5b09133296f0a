package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// handSemanage runs semanage on root as a person would on that host, in a
// private mount namespace where the root's policy is the machine's: how the
// tests make changes outside seconf (setsebool -P, semanage fcontext -d).
func handSemanage(t *testing.T, root string, args ...string) {
	t.Helper()
	bin, err := host.Tool("semanage")
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: append(args, "-N"), Sandbox: &host.Sandbox{Binds: []host.Bind{
		{Src: filepath.Join(root, "etc/selinux"), Dst: "/etc/selinux"},
		{Src: filepath.Join(root, "var/lib/selinux"), Dst: "/var/lib/selinux"},
	}}})
	if err != nil {
		t.Fatalf("semanage %s: %v", strings.Join(args, " "), err)
	}
}

// persistentBool is the boolean's value in the root's built policy, as
// seinfo reads it: what the kernel gets at the next boot.
func persistentBool(t *testing.T, root, name string) string {
	t.Helper()
	out, err := exec.Command("seinfo", filepath.Join(root, "etc/selinux/default/policy/policy.33"), "-b", name, "-x").CombinedOutput()
	if err != nil {
		t.Fatalf("seinfo -b %s: %v: %s", name, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(l), ";")); len(f) == 3 && f[0] == "bool" && f[1] == name {
			return f[2]
		}
	}
	t.Fatalf("seinfo does not show boolean %s:\n%s", name, out)
	return ""
}

// portType is the type seinfo gives PROTO port in the root's built policy.
func portType(t *testing.T, root, proto, port string) string {
	t.Helper()
	out, err := exec.Command("seinfo", filepath.Join(root, "etc/selinux/default/policy/policy.33"), "--portcon", port).CombinedOutput()
	if err != nil {
		t.Fatalf("seinfo --portcon %s: %v: %s", port, err, out)
	}
	// The narrowest portcon listed for the protocol is the one that applies.
	best, width := "", 1<<20
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "portcon" || f[1] != proto {
			continue
		}
		lo, hi, _ := strings.Cut(f[2], "-")
		if hi == "" {
			hi = lo
		}
		var a, b int
		json.Unmarshal([]byte(lo), &a)
		json.Unmarshal([]byte(hi), &b)
		if b-a < width {
			best, width = strings.Split(f[3], ":")[2], b-a
		}
	}
	return best
}

// label is what libselinux's own lookup gives path from the root's file
// contexts (it reads .local and .subs beside them).
func label(t *testing.T, root, p string) string {
	t.Helper()
	out, err := exec.Command("selabel_lookup", "-b", "file", "-k", p, "-f", filepath.Join(root, "etc/selinux/default/contexts/files/file_contexts")).CombinedOutput()
	if err != nil {
		t.Fatalf("selabel_lookup %s: %v: %s", p, err, out)
	}
	s := strings.TrimSpace(string(out))
	s = s[strings.LastIndex(s, " ")+1:]
	return strings.Split(s, ":")[2]
}

const settingsHCL = `
selinux_boolean "httpd_can_network_connect" {
  value = true
}
selinux_fcontext "srv_data" {
  path = "/srv/data(/.*)?"
  type = "httpd_sys_content_t"
}
selinux_fcontext "podman" {
  path  = "/usr/lib/podman"
  equal = "/usr/libexec/podman"
}
selinux_port "registry" {
  protocol = "tcp"
  port     = "5005-5006"
  type     = "http_port_t"
}
`

// TestSettingsLifecycle: create in one commit, a no-change apply that
// touches nothing, drift made by hand reported and undone, and removal
// back to the host as it was, each checked with setools and libselinux.
func TestSettingsLifecycle(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": settingsHCL})
	fresh := map[string]string{
		"bool": persistentBool(t, root, "httpd_can_network_connect"), "port": portType(t, root, "tcp", "5005"),
		"data": label(t, root, "/srv/data/x"), "podman": label(t, root, "/usr/lib/podman/x"),
	}
	if fresh["bool"] != "false" || fresh["port"] == "http_port_t" || fresh["data"] == "httpd_sys_content_t" {
		t.Fatalf("the machine's policy is not the stock one this test expects: %v", fresh)
	}

	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	for _, want := range []string{"+ create   selinux_boolean.httpd_can_network_connect", "(off → on)", "+ create   selinux_fcontext.srv_data",
		"+ create   selinux_fcontext.podman", "+ create   selinux_port.registry"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	commits := testenv.CommitNum(t, root)
	_, errs, code := seconf(t, "-v", "apply", "--root", root, cfg)
	if code != 0 {
		t.Fatalf("apply: %d\n%s", code, errs)
	}
	if n := testenv.CommitNum(t, root) - commits; n != 1 {
		t.Errorf("apply made %d commits, want 1", n)
	}
	if n := strings.Count(errs, "run: "); n != 1 || !strings.Contains(errs, "semanage import") {
		t.Errorf("apply ran %d commands, want one semanage import:\n%s", n, errs)
	}
	checks := map[string]string{
		"bool": persistentBool(t, root, "httpd_can_network_connect"), "port": portType(t, root, "tcp", "5006"),
		"data": label(t, root, "/srv/data/x"), "podman": label(t, root, "/usr/lib/podman/x"),
	}
	want := map[string]string{"bool": "true", "port": "http_port_t", "data": "httpd_sys_content_t", "podman": label(t, root, "/usr/libexec/podman/x")}
	for k := range want {
		if checks[k] != want[k] {
			t.Errorf("after apply, %s is %q, want %q", k, checks[k], want[k])
		}
	}

	snap := testenv.Snapshot(t, root)
	_, errs, _ = seconf(t, "-v", "apply", "--root", root, cfg)
	if strings.Contains(errs, "run: ") {
		t.Errorf("the no-change apply ran a command:\n%s", errs)
	}
	if d := testenv.Diff(snap, testenv.Snapshot(t, root)); d != "" {
		t.Errorf("the no-change apply changed files:\n%s", d)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	// Drift: changed by hand after apply.
	handSemanage(t, root, "boolean", "-m", "--off", "httpd_can_network_connect")
	handSemanage(t, root, "fcontext", "-d", "-f", "a", "/srv/data(/.*)?")
	out = mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	for _, w := range []string{"~ update   selinux_boolean.httpd_can_network_connect", "off → on (changed outside seconf)", "~ update   selinux_fcontext.srv_data", "removed outside seconf"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan after drift lacks %q:\n%s", w, out)
		}
	}
	mustSeconf(t, 2, "status", "--detailed-exitcode", "--root", root, cfg)
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if v, l := persistentBool(t, root, "httpd_can_network_connect"), label(t, root, "/srv/data/x"); v != "true" || l != "httpd_sys_content_t" {
		t.Errorf("apply did not undo the drift: boolean %s, label %s", v, l)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	// Removal: back to the host as it was.
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# nothing\n"), 0o644)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	for _, w := range []string{"- delete   selinux_boolean.httpd_can_network_connect", "back to off", "- delete   selinux_port.registry"} {
		if !strings.Contains(out, w) {
			t.Errorf("apply after removal lacks %q:\n%s", w, out)
		}
	}
	checks = map[string]string{
		"bool": persistentBool(t, root, "httpd_can_network_connect"), "port": portType(t, root, "tcp", "5005"),
		"data": label(t, root, "/srv/data/x"), "podman": label(t, root, "/usr/lib/podman/x"),
	}
	if checks["bool"] != fresh["bool"] || checks["port"] != fresh["port"] || checks["data"] != fresh["data"] || checks["podman"] != fresh["podman"] {
		t.Errorf("after removal %v, want the host as before %v", checks, fresh)
	}
	for _, f := range []string{"var/lib/selinux/default/active/file_contexts.local", "var/lib/selinux/default/active/ports.local", "etc/selinux/default/contexts/files/file_contexts.subs"} {
		data, _ := os.ReadFile(filepath.Join(root, f))
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				t.Errorf("%s keeps %q after removal", f, l)
			}
		}
	}
	state, _ := os.ReadFile(filepath.Join(root, host.StatePath))
	if strings.Contains(string(state), `"settings"`) {
		t.Errorf("the state record keeps settings after removal:\n%s", state)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// A module and the settings that use its boolean and type: semanage checks
// a record against the policy before the commit, so these take two commits,
// modules first. Settings that need nothing new share one commit with the
// modules.
func TestSettingsAfterTheirModule(t *testing.T) {
	root := testenv.PolicyRoot(t)
	const cil = `(boolean seconf_web_extra false)
(type seconf_web_content_t)
(roletype object_r seconf_web_content_t)
(typeattributeset file_type (seconf_web_content_t))
(type seconf_web_port_t)
(roletype object_r seconf_web_port_t)
(typeattributeset port_type (seconf_web_port_t))
`
	const mod = `
selinux_module "seconf_web" {
  source = "seconf_web.cil"
}
`
	cfg := writeFiles(t, map[string]string{"seconf_web.cil": cil, "host.hcl": mod + `
selinux_boolean "seconf_web_extra" {
  value = true
}
selinux_fcontext "web" {
  path = "/srv/web(/.*)?"
  type = "seconf_web_content_t"
}
selinux_port "web" {
  protocol = "tcp"
  port     = 5010
  type     = "seconf_web_port_t"
}
`})
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "after selinux_module.seconf_web") {
		t.Errorf("plan does not say the settings wait for the module:\n%s", out)
	}
	commits := testenv.CommitNum(t, root)
	_, errs, code := seconf(t, "-v", "apply", "--root", root, cfg)
	if code != 0 {
		t.Fatalf("apply: %d\n%s", code, errs)
	}
	if n := testenv.CommitNum(t, root) - commits; n != 2 {
		t.Errorf("apply made %d commits, want 2 (modules, then settings)", n)
	}
	if i, j := strings.Index(errs, "semodule"), strings.Index(errs, "semanage import"); i < 0 || j < i {
		t.Errorf("semodule does not run before semanage:\n%s", errs)
	}
	if v, p, l := persistentBool(t, root, "seconf_web_extra"), portType(t, root, "tcp", "5010"), label(t, root, "/srv/web/x"); v != "true" || p != "seconf_web_port_t" || l != "seconf_web_content_t" {
		t.Errorf("boolean %s, port %s, label %s", v, p, l)
	}

	// A module change with settings that need nothing new: one commit.
	os.WriteFile(filepath.Join(cfg, "seconf_web.cil"), []byte(cil+"(type seconf_web_log_t)\n"), 0o644)
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(mod+`
selinux_boolean "httpd_can_network_connect" {
  value = true
}
`), 0o644)
	commits = testenv.CommitNum(t, root)
	_, errs, code = seconf(t, "-v", "apply", "--root", root, cfg)
	if code != 0 {
		t.Fatalf("apply: %d\n%s", code, errs)
	}
	if n := testenv.CommitNum(t, root) - commits; n != 1 || strings.Contains(errs, "semodule ") || !strings.Contains(errs, "module -a ") {
		t.Errorf("%d commits, want 1 semanage import with the module in it:\n%s", n, errs)
	}
	if v := persistentBool(t, root, "httpd_can_network_connect"); v != "true" {
		t.Errorf("httpd_can_network_connect %s", v)
	}
	if !strings.Contains(testenv.ListFull(t, root), "seconf_web") {
		t.Error("module not installed")
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// Local settings someone else made: a block for the same record takes it
// over and restores it on removal; records seconf has no block for are
// never touched.
func TestSettingsTakeOverAndLeaveOthers(t *testing.T) {
	root := testenv.PolicyRoot(t)
	handSemanage(t, root, "port", "-a", "-t", "ssh_port_t", "-p", "tcp", "5022")
	handSemanage(t, root, "port", "-a", "-t", "ssh_port_t", "-p", "tcp", "5023")
	handSemanage(t, root, "boolean", "-m", "--on", "httpd_enable_cgi")
	handSemanage(t, root, "fcontext", "-a", "-t", "var_t", "/srv/mine(/.*)?")
	cfg := writeFiles(t, map[string]string{"host.hcl": `
selinux_port "p" {
  protocol = "tcp"
  port     = 5022
  type     = "http_port_t"
}
selinux_boolean "httpd_enable_cgi" {
  value = false
}
`})
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !strings.Contains(out, "ssh_port_t → http_port_t (takes over the local record; restored on removal)") {
		t.Errorf("apply does not say it takes the port over:\n%s", out)
	}
	if p := portType(t, root, "tcp", "5022"); p != "http_port_t" {
		t.Errorf("tcp/5022 is %s", p)
	}
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# nothing\n"), 0o644)
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if p, q, b, l := portType(t, root, "tcp", "5022"), portType(t, root, "tcp", "5023"), persistentBool(t, root, "httpd_enable_cgi"), label(t, root, "/srv/mine/x"); p != "ssh_port_t" || q != "ssh_port_t" || b != "true" || l != "var_t" {
		t.Errorf("after removal: tcp/5022 %s, tcp/5023 %s, httpd_enable_cgi %s, /srv/mine %s; want ssh_port_t, ssh_port_t, true, var_t", p, q, b, l)
	}
}

// Bad settings are refused at their line before anything is written.
func TestSettingsRefused(t *testing.T) {
	root := testenv.PolicyRoot(t)
	handSemanage(t, root, "fcontext", "-a", "-f", "d", "-t", "var_t", "/srv/taken")
	tests := []struct {
		name, hcl, summary, detail string
		line                       int
		validate                   bool // refused by validate already
	}{
		{"unknown boolean", "selinux_boolean \"no_such_boolean\" {\n  value = true\n}\n", "Unknown SELinux boolean", "no_such_boolean", 1, false},
		{"unknown type", "selinux_fcontext \"f\" {\n  path = \"/srv/x\"\n  type = \"no_such_t\"\n}\n", "Unknown SELinux type", "no_such_t", 3, false},
		{"not a file type", "selinux_fcontext \"f\" {\n  path = \"/srv/x\"\n  type = \"http_port_t\"\n}\n", "Not a file type", "file_type", 3, false},
		{"not a port type", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 5011\n  type = \"var_t\"\n}\n", "Not a port type", "port_type", 4, false},
		{"port of the policy", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 22\n  type = \"http_port_t\"\n}\n", "Port already defined by the policy", "tcp/22 as ssh_port_t", 3, false},
		{"port out of range", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 65536\n  type = \"http_port_t\"\n}\n", "Invalid port", "65535", 3, true},
		{"relative path", "selinux_fcontext \"f\" {\n  path = \"srv/x\"\n  type = \"var_t\"\n}\n", "Invalid path expression", "absolute", 2, true},
		{"malformed regex", "selinux_fcontext \"f\" {\n  path = \"/srv/(x\"\n  type = \"var_t\"\n}\n", "Invalid path expression", "/srv/(x", 2, true},
		{"top-level alternation", "selinux_fcontext \"f\" {\n  path = \"/srv/a|/srv/b\"\n  type = \"var_t\"\n}\n", "Invalid path expression", "Group it", 2, true},
		{"container content label on /etc", "selinux_fcontext \"f\" {\n  path = \"/etc(/.*)?\"\n  type = \"container_file_t\"\n}\n", "Relabelling a system directory refused", "/etc", 3, true},
		{"container content label on everything", "selinux_fcontext \"f\" {\n  path = \"/(.*)\"\n  type = \"container_ro_file_t\"\n}\n", "Relabelling a system directory refused", "system directory /", 3, true},
		{"conflicting pair", "selinux_fcontext \"a\" {\n  path = \"/srv/x\"\n  type = \"var_t\"\n}\nselinux_fcontext \"b\" {\n  path = \"/srv/x\"\n  type = \"etc_t\"\n  file_type = \"directory\"\n}\n", "Conflicting file contexts", "overlap", 6, true},
		{"overlaps a local rule", "selinux_fcontext \"f\" {\n  path = \"/srv/taken\"\n  type = \"etc_t\"\n}\n", "Conflicting local file context", "file_type = \"directory\"", 1, false},
		{"under an equivalence", "selinux_fcontext \"f\" {\n  path = \"/run/lock/x\"\n  type = \"var_t\"\n}\n", "File context under an equivalence", "/var/lock", 2, false},
	}
	snap := testenv.Snapshot(t, root)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			cmds := [][]string{{"plan", "--root", root, cfg}, {"apply", "--root", root, cfg}}
			if tc.validate {
				cmds = append(cmds, []string{"validate", cfg})
			}
			for _, args := range cmds {
				_, errs, code := seconf(t, args...)
				if code != 1 || !strings.Contains(errs, tc.summary) || !strings.Contains(errs, tc.detail) {
					t.Errorf("seconf %s: exit %d, want 1 with %q and %q:\n%s", args[0], code, tc.summary, tc.detail, errs)
				}
				if loc := "host.hcl line " + itoa(tc.line) + ","; !strings.Contains(errs, loc) {
					t.Errorf("seconf %s does not point at %s:\n%s", args[0], loc, errs)
				}
			}
		})
	}
	if d := testenv.Diff(snap, testenv.Snapshot(t, root)); d != "" {
		t.Errorf("refused settings changed the root:\n%s", d)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
