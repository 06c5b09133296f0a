package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"seconf/internal/testenv"
)

// TestBadInputTouchesNothing: a configuration error is printed with file,
// line and source line, exits 1, and leaves the root exactly as it was.
func TestBadInputTouchesNothing(t *testing.T) {
	root := testenv.PolicyRoot(t)
	before := testenv.Snapshot(t, root)
	cases := map[string]string{
		"unknown attribute": "selinux_module \"m\" {\n  content = \"(type m_t)\"\n  format = \"cil\"\n  prioriti = 3\n}\n",
		"unknown type":      "container \"c\" {\n  image = \"i\"\n  selinux_type = \"no_such_container_t\"\n}\n",
		"relabel /var/log":  "container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/var/log\"\n    target = \"/l\"\n    relabel = \"private\"\n  }\n}\n",
	}
	for name, hcl := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": hcl})
			for _, cmd := range []string{"plan", "apply"} {
				_, errs, code := seconf(t, cmd, "--root", root, cfg)
				if code != 1 || !strings.Contains(errs, "host.hcl line ") || !strings.Contains(errs, "Error: ") {
					t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, errs)
				}
			}
		})
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("bad input changed the root:\n%s", testenv.Diff(before, after))
	}
}

func TestJSONPlan(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": "selinux_module \"m\" {\n  content = \"(type m_t)\"\n  format = \"cil\"\n}\n"})
	out := mustSeconf(t, 0, "plan", "--json", "--root", root, cfg)
	var doc struct {
		Plan struct {
			Pending bool
			Changes []struct{ ID, Action, Reason, Diff string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !doc.Plan.Pending || len(doc.Plan.Changes) != 1 || doc.Plan.Changes[0].ID != "selinux_module.m" ||
		doc.Plan.Changes[0].Action != "create" || doc.Plan.Changes[0].Reason == "" {
		t.Errorf("plan document: %+v", doc)
	}
	if doc.Plan.Changes[0].Diff != "" {
		t.Error("diff in JSON without --diff")
	}
	out = mustSeconf(t, 0, "plan", "--json", "--diff", "--root", root, cfg)
	if !strings.Contains(out, "(type m_t)") {
		t.Errorf("--json --diff has no diff:\n%s", out)
	}
}

func TestFmt(t *testing.T) {
	cfg := writeFiles(t, map[string]string{"host.hcl": "selinux_module \"m\" {\ncontent=\"(type m_t)\"\n    format =   \"cil\"\n}\n"})
	file := filepath.Join(cfg, "host.hcl")
	orig, _ := os.ReadFile(file)
	out := mustSeconf(t, 3, "fmt", "--check", cfg)
	if !strings.Contains(out, "host.hcl") {
		t.Errorf("fmt --check does not name the file: %q", out)
	}
	if now, _ := os.ReadFile(file); string(now) != string(orig) {
		t.Error("fmt --check changed the file")
	}
	mustSeconf(t, 0, "fmt", cfg)
	want := "selinux_module \"m\" {\n  content = \"(type m_t)\"\n  format  = \"cil\"\n}\n"
	if now, _ := os.ReadFile(file); string(now) != want {
		t.Errorf("fmt wrote:\n%s\nwant:\n%s", now, want)
	}
	mustSeconf(t, 0, "fmt", "--check", cfg)
	mustSeconf(t, 0, "validate", cfg)
}

// TestFmtKeepsLinksAndOwners: fmt rewrites the file a configuration's
// symbolic link points to and leaves the link a link (a shared file stays
// shared), and a file root formats keeps its owner and mode.
func TestFmtKeepsLinksAndOwners(t *testing.T) {
	shared := t.TempDir()
	target := filepath.Join(shared, "common.hcl")
	if err := os.WriteFile(target, []byte("variable   \"x\" {\ndefault=1\n}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	owned := os.Geteuid() == 0
	if owned {
		if err := os.Chown(target, 4321, 4322); err != nil {
			t.Fatal(err)
		}
	}
	cfg := t.TempDir()
	link := filepath.Join(cfg, "common.hcl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustSeconf(t, 0, "fmt", cfg)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("fmt replaced the symbolic link: %v %v", st.Mode(), err)
	}
	want := "variable \"x\" {\n  default = 1\n}\n"
	if got, _ := os.ReadFile(target); string(got) != want {
		t.Errorf("the link's target holds:\n%s\nwant:\n%s", got, want)
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if sys := st.Sys().(*syscall.Stat_t); owned && (sys.Uid != 4321 || sys.Gid != 4322) {
		t.Errorf("owner %d:%d, want 4321:4322", sys.Uid, sys.Gid)
	}
	if ents, _ := os.ReadDir(shared); len(ents) != 1 {
		t.Errorf("left behind in the target's directory: %v", ents)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if out := mustSeconf(t, 0, "version"); !strings.HasPrefix(out, "seconf ") || !strings.Contains(out, "commit") {
		t.Errorf("version: %q", out)
	}
	out := mustSeconf(t, 0, "apply", "--help")
	for _, want := range []string{"--root", "--lock-timeout", "--json", "--diff", "--var"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply --help lacks %s", want)
		}
	}
	if _, errs, code := seconf(t, "plan"); code != 1 || !strings.Contains(errs, "requires at least 1 arg") {
		t.Errorf("plan without a path: exit %d: %s", code, errs)
	}
}

// TestOnlineWithoutSystemd: online (no --root) on a machine whose systemd
// cannot be reached, plan fails saying so, before anything is written.
func TestOnlineWithoutSystemd(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/seconf-test-bus")
	cfg := writeFiles(t, map[string]string{"host.hcl": "container \"seconf-test-never\" {\n  image = \"i\"\n}\n"})
	_, errs, code := seconf(t, "plan", cfg)
	if code != 1 || !strings.Contains(errs, "cannot reach systemd over D-Bus") || !strings.Contains(errs, "--root") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestValidateRefusesWhatPlanRefuses: what a renderer cannot write is
// refused by validate too, without a host, at the attribute's line.
func TestValidateRefusesWhatPlanRefuses(t *testing.T) {
	cases := map[string]struct{ hcl, line string }{
		"image with a space":        {"container \"c\" {\n  image = \"busy box\"\n}\n", "line 2"},
		"image that is a flag":      {"container \"c\" {\n  image = \"--privileged\"\n}\n", "line 2"},
		"network that is a flag":    {"container \"c\" {\n  image = \"i\"\n  network = \"--privileged\"\n}\n", "line 3"},
		"volume with a colon":       {"container \"c\" {\n  image = \"i\"\n  volume {\n    source = \"/a:b\"\n    target = \"/b\"\n  }\n}\n", "line 4"},
		"mount option with a space": {"mount \"m\" {\n  what = \"/dev/sdb\"\n  where = \"/srv/m\"\n  options = [\"a b\"]\n}\n", "line 4"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			_, errs, code := seconf(t, "validate", cfg)
			if code != 1 || !strings.Contains(errs, "host.hcl "+tc.line) {
				t.Errorf("validate: exit %d, want 1 with %q; stderr:\n%s", code, tc.line, errs)
			}
		})
	}
}

// TestParseCache: apply keeps the decoded configuration in the root's state
// directory, readable by root alone; plan only reads it. What plan says
// with it is what it says without it, a warning's "in container" line
// included, and an edit to the configuration is seen at once.
func TestParseCache(t *testing.T) {
	root := t.TempDir()
	cfg := writeFiles(t, map[string]string{"host.hcl": "container \"web\" {\n  image            = \"registry.example/web:1\"\n  selinux_type     = \"spc_t\"\n  allow_unconfined = true\n}\n"})
	cache := filepath.Join(root, "var/lib/seconf/config-cache")

	mustSeconf(t, 0, "plan", "--root", root, cfg)
	if _, err := os.Stat(cache); err == nil {
		t.Fatal("plan wrote the parse cache")
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	st, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("apply kept no parse cache: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("parse cache mode %v, want 0600 (it holds the configuration)", st.Mode().Perm())
	}
	// The providers validated it without a word (the warning is the
	// plan's, from the host): the entry says so, and a hit skips
	// validating again, yet still warns.
	entry, _ := os.ReadFile(cache)
	if head, _, _ := strings.Cut(string(entry), "\n"); !strings.Contains(head, `"validated":true`) {
		t.Errorf("the entry of a configuration that validated clean is not marked: %s", head)
	}
	withCache := mustSeconf(t, 0, "plan", "--root", root, cfg)
	if !strings.Contains(withCache, `in container "web"`) || !strings.Contains(withCache, "No changes") {
		t.Errorf("plan from the cache:\n%s", withCache)
	}
	os.Remove(cache)
	if without := mustSeconf(t, 0, "plan", "--root", root, cfg); without != withCache {
		t.Errorf("plan differs without the cache:\n%s\nwith it:\n%s", without, withCache)
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	// Same size, one character: the plan sees it.
	data, _ := os.ReadFile(filepath.Join(cfg, "host.hcl"))
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(strings.Replace(string(data), "web:1", "web:2", 1)), 0o644)
	if out := mustSeconf(t, 0, "plan", "--root", root, cfg); !strings.Contains(out, "update   container.web") {
		t.Errorf("plan after an edit, with the old cache:\n%s", out)
	}
}

// TestOlderPodmanOptions: an option podman run has had only since 4.4 or
// later is refused at its line on a root whose podman has no quadlet
// generator (so is older than 4.4), where the unit would fail at its first
// start; a root with the generator, or without podman yet, takes it.
func TestOlderPodmanOptions(t *testing.T) {
	cfg := writeFiles(t, map[string]string{"host.hcl": "container \"db\" {\n  image              = \"docker.io/library/postgres:16\"\n  selinux_type       = \"container_t\"\n  allow_unconfined   = true\n  health_startup_cmd = \"pg_isready\"\n  notify             = \"healthy\"\n}\n"})
	old := t.TempDir()
	writeAt(t, old, "/usr/bin/podman", "")
	_, errs, code := seconf(t, "plan", "--root", old, cfg)
	for _, want := range []string{"host.hcl line 5", "health_startup_cmd needs podman 4.4", "host.hcl line 6", "notify needs podman 5.0"} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("old podman: exit %d, want 1 with %q:\n%s", code, want, errs)
		}
	}
	if st, err := os.Stat(filepath.Join(old, "etc/systemd/system/db.service")); err == nil {
		t.Errorf("a unit was written: %v", st.Mode())
	}
	withQuadlet := t.TempDir()
	writeAt(t, withQuadlet, "/usr/bin/podman", "")
	writeAt(t, withQuadlet, "/usr/libexec/podman/quadlet", "")
	noPodman := t.TempDir()
	for name, root := range map[string]string{"quadlet": withQuadlet, "no podman yet": noPodman} {
		if _, errs, code := seconf(t, "plan", "--root", root, cfg); code != 0 {
			t.Errorf("%s: exit %d:\n%s", name, code, errs)
		}
	}
}

// TestParseCacheHoldsNoSecrets: a configuration with a secret, a
// sensitive environment value or sensitive file content is not kept in the
// parse cache (its values would sit there in clear, and in an image built
// offline), and an entry an earlier apply stored goes.
func TestParseCacheHoldsNoSecrets(t *testing.T) {
	const secret = "HUNTER2-cache-secret"
	root := t.TempDir()
	writeAt(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
	writeAt(t, root, "/etc/group", "root:x:0:\n")
	cache := filepath.Join(root, "var/lib/seconf/config-cache")
	plain := writeFiles(t, map[string]string{"host.hcl": "file \"motd\" {\n  path    = \"/etc/motd\"\n  content = \"hello\\n\"\n}\n"})
	mustSeconf(t, 0, "apply", "--root", root, plain)
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no parse cache for a configuration without secrets: %v", err)
	}
	for name, hcl := range map[string]string{
		"secret":      "secret \"db\" {\n  value = var.s\n}\n",
		"environment": "container \"web\" {\n  image       = \"registry.example/web:1\"\n  environment = { TOKEN = var.s }\n}\n",
		"file":        "file \"key\" {\n  path    = \"/etc/app.key\"\n  content = var.s\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": "variable \"s\" {\n  sensitive = true\n}\n" + hcl})
			mustSeconf(t, 0, "apply", "--root", root, "--var", "s="+secret, cfg)
			if _, err := os.Stat(cache); err == nil {
				t.Error("the parse cache is still there")
			}
			filepath.Walk(filepath.Join(root, "var/lib/seconf"), func(p string, info os.FileInfo, err error) error {
				if err == nil && info.Mode().IsRegular() {
					data, _ := os.ReadFile(p)
					if strings.Contains(string(data), secret) || strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte(secret))) {
						t.Errorf("%s holds the secret", p)
					}
				}
				return nil
			})
			mustSeconf(t, 0, "apply", "--root", root, plain)
		})
	}
}
