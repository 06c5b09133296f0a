package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"seconf/host"
	"seconf/internal/testenv"
)

// moduleTE declares a type a container may run under. Debian 12's policy
// has no container module, so the module declares the container_domain
// attribute itself (seconf holds container types to it), with two members
// and a rule on another type, or the compiler would expand it away.
const moduleTE = `policy_module(seconf_demo, 1.0)
attribute container_domain;
type seconf_demo_t, container_domain;
type seconf_demo_peer_t, container_domain;
allow container_domain seconf_demo_exec_t:file read;
type seconf_demo_exec_t;
`

const moduleHCL = `
selinux_module "seconf_demo" {
  source = "seconf_demo.te"
}
`

// TestPolicyLifecycle drives the real semodule on a private store through
// create, no-op, update, prune, as a user of seconf would see it.
func TestPolicyLifecycle(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": moduleHCL, "seconf_demo.te": moduleTE})

	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "+ create   selinux_module.seconf_demo") {
		t.Errorf("plan does not announce the create:\n%s", out)
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !testenv.Modules(t, root)["seconf_demo"] {
		t.Fatal("semodule -l does not list seconf_demo after apply")
	}
	commits := testenv.CommitNum(t, root)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !strings.Contains(out, "No changes") {
		t.Errorf("second apply is not a no-op:\n%s", out)
	}
	if got := testenv.CommitNum(t, root); got != commits {
		t.Errorf("second apply committed the policy: commit_num %d → %d", commits, got)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	// A changed source is an update, and --diff shows the new rule.
	os.WriteFile(filepath.Join(cfg, "seconf_demo.te"), []byte(moduleTE+"type seconf_demo_log_t;\n"), 0o644)
	out = mustSeconf(t, 2, "plan", "--detailed-exitcode", "--diff", "--root", root, cfg)
	if !strings.Contains(out, "~ update   selinux_module.seconf_demo") || !strings.Contains(out, "+(type seconf_demo_log_t)") {
		t.Errorf("plan after a source change:\n%s", out)
	}
	before := testenv.Checksums(t, root)["400 seconf_demo"]
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if after := testenv.Checksums(t, root)["400 seconf_demo"]; after == before {
		t.Errorf("checksum unchanged after update: %s", after)
	}

	// Disabling is an update that semodule -lfull shows.
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(strings.Replace(moduleHCL, "}", "  enabled = false\n}", 1)), 0o644)
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
	if l := lfull(t, root); !strings.Contains(l, "disabled") {
		t.Errorf("module not disabled:\n%s", lfull(t, root))
	}

	// Out of the config, out of the store.
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# nothing\n"), 0o644)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !strings.Contains(out, "- delete   selinux_module.seconf_demo") {
		t.Errorf("apply does not announce the delete:\n%s", out)
	}
	if testenv.Modules(t, root)["seconf_demo"] {
		t.Error("seconf_demo still installed after it left the config")
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

func lfull(t *testing.T, root string) string {
	for _, l := range strings.Split(testenv.ListFull(t, root), "\n") {
		if strings.Contains(l, " seconf_demo ") {
			return l
		}
	}
	return ""
}

// TestUnownedModuleNeverRemoved: seconf prunes only what it installed.
func TestUnownedModuleNeverRemoved(t *testing.T) {
	root := testenv.PolicyRoot(t)
	// A module somebody else installed, and one seconf installs in the same commit.
	cfg := writeFiles(t, map[string]string{
		"host.hcl": moduleHCL + `
selinux_module "theirs" {
  content = "(type theirs_t)"
  format  = "cil"
}
`, "seconf_demo.te": moduleTE})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	// Forget "theirs" from the state record: now seconf did not install it.
	var st map[string]any
	statePath := filepath.Join(root, "var/lib/seconf/state.json")
	data, _ := os.ReadFile(statePath)
	json.Unmarshal(data, &st)
	delete(st["modules"].(map[string]any), "theirs")
	data, _ = json.Marshal(st)
	os.WriteFile(statePath, data, 0o600)

	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# empty\n"), 0o644)
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	if strings.Contains(out, "theirs") {
		t.Errorf("plan mentions a module seconf does not own:\n%s", out)
	}
	mods := testenv.Modules(t, root)
	if !mods["theirs"] {
		t.Error("seconf removed a module it did not install")
	}
	if mods["seconf_demo"] {
		t.Error("seconf did not remove its own module")
	}
}

// TestCompileErrorLeavesStoreUntouched: a .te that does not compile stops
// the apply before semodule runs, and the message points at the source line.
func TestCompileErrorLeavesStoreUntouched(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{
		"host.hcl":       moduleHCL + "selinux_module \"other\" {\n  content = \"(type other_t)\"\n  format = \"cil\"\n}\n",
		"seconf_demo.te": "policy_module(seconf_demo, 1.0)\n\ntype seconf_demo_t\nallow seconf_demo_t self:file read;\n",
	})
	before := testenv.Snapshot(t, root)
	_, errs, code := seconf(t, "apply", "--root", root, cfg)
	if code != 1 {
		t.Fatalf("apply of a broken module exited %d", code)
	}
	want := filepath.Join(cfg, "seconf_demo.te") + ":4:ERROR 'syntax error'"
	if !strings.Contains(errs, want) {
		t.Errorf("error does not point at the source line; want %q in:\n%s", want, errs)
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("a failed compile changed the root:\n%s", testenv.Diff(before, after))
	}
}

// TestConcurrentApply: two applies on one root; one waits for the other,
// both succeed, the store and the state record stay whole.
func TestConcurrentApply(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": moduleHCL, "seconf_demo.te": moduleTE})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	outs := make([]string, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _, codes[i] = seconf(t, "apply", "--root", root, cfg)
		}()
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("exit codes %v:\n%s\n%s", codes, outs[0], outs[1])
	}
	if n := strings.Count(outs[0]+outs[1], "create done"); n != 1 {
		t.Errorf("the module was installed %d times; the lock should make the second apply a no-op:\n%s\n%s", n, outs[0], outs[1])
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// TestLockTimeoutNamesHolder: with the lock held, apply gives up after
// --lock-timeout and says who holds it.
func TestLockTimeoutNamesHolder(t *testing.T) {
	root := t.TempDir()
	cfg := writeFiles(t, map[string]string{"host.hcl": "# empty\n"})
	h, _ := host.New(root, host.Offline, nil)
	unlock, err := h.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, errs, code := seconf(t, "apply", "--lock-timeout", "300ms", "--root", root, cfg)
	if code != 1 || !strings.Contains(errs, "another seconf holds the lock") || !strings.Contains(errs, "pid ") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestModuleChangeRestartsItsContainers: a container whose selinux_type a
// module of the config declares restarts when that module changes, though
// its unit file does not.
func TestModuleChangeRestartsItsContainers(t *testing.T) {
	root := testenv.PolicyRoot(t)
	hcl := moduleHCL + `
container "app" {
  image        = "localhost/app:1"
  selinux_type = "seconf_demo_t"
}
container "other" {
  image = "localhost/other:1"
}
`
	cfg := writeFiles(t, map[string]string{"host.hcl": hcl, "seconf_demo.te": moduleTE})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	os.WriteFile(filepath.Join(cfg, "seconf_demo.te"), []byte(moduleTE+"type seconf_demo_log_t;\n"), 0o644)
	out := mustSeconf(t, 0, "plan", "--root", root, cfg)
	if !strings.Contains(out, "~ restart  container.app") || !strings.Contains(out, "selinux_module.seconf_demo updates") {
		t.Errorf("plan does not restart the container whose type changed:\n%s", out)
	}
	if strings.Contains(out, "container.other") {
		t.Errorf("plan restarts an unrelated container:\n%s", out)
	}
}
