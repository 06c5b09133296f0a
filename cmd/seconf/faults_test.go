package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"seconf/host"
	"seconf/internal/testenv"
)

// buildSeconf builds the real binary, for tests that kill it or run it in a
// namespace of its own.
func buildSeconf(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "seconf")
	if _, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "go", Args: []string{"build", "-o", bin, "."}}); err != nil {
		t.Fatal(err)
	}
	return bin
}

// children lists the commands of a process's children (scanning /proc:
// not every kernel has /proc/PID/task/PID/children).
func children(pid int) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		j := strings.IndexByte(s, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, s[j+1:i])
		}
	}
	return out
}

// faultTE declares a container type (see moduleTE).
const faultTE = `policy_module(seconf_fault, 1.0)
attribute container_domain;
type seconf_fault_t, container_domain;
type seconf_fault_peer_t, container_domain;
type seconf_fault_exec_t;
allow container_domain seconf_fault_exec_t:file read;
`

const faultHCL = `
selinux_module "seconf_fault" {
  source = "seconf_fault.te"
}
container "faulty" {
  image        = "localhost/busybox:latest"
  selinux_type = "seconf_fault_t"
}
`

// TestKillAnywhereConverges kills a real seconf apply (with its whole
// process group, as systemd kills a timed-out unit) at several points, then
// checks that the next apply converges and owns what it made.
func TestKillAnywhereConverges(t *testing.T) {
	bin := buildSeconf(t)
	points := []struct {
		name  string
		child string        // kill once a child with this command runs...
		after time.Duration // ...this long after it appeared
		gone  bool          // ...or once it has finished
	}{
		{"compiling", "make", 0, false},
		{"committing", "semodule", 0, false},
		{"mid-commit", "semodule", 2 * time.Second, false},
		{"after the commit", "semodule", 0, true},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			cfg := writeFiles(t, map[string]string{"host.hcl": faultHCL, "seconf_fault.te": faultTE})
			cmd := &syscall.SysProcAttr{Setpgid: true}
			proc, err := os.StartProcess(bin, []string{bin, "apply", "--root", root, cfg},
				&os.ProcAttr{Files: []*os.File{nil, nil, nil}, Sys: cmd})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Minute)
			seen := false
			for time.Now().Before(deadline) {
				has := false
				for _, c := range children(proc.Pid) {
					has = has || c == p.child
				}
				if has && !seen {
					seen = true
					if !p.gone {
						time.Sleep(p.after)
						break
					}
				}
				if seen && p.gone && !has {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			syscall.Kill(-proc.Pid, syscall.SIGKILL)
			st, _ := proc.Wait()
			if !seen {
				t.Fatalf("never saw %s running (seconf ended: %v): the kill point was missed", p.child, st)
			}
			if !testenv.Modules(t, root)["selinux"] && len(testenv.Modules(t, root)) < 100 {
				t.Fatal("the policy store is damaged after the kill")
			}
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
			if !testenv.Modules(t, root)["seconf_fault"] {
				t.Error("module not installed after the rerun")
			}
			if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/faulty.service")); err != nil {
				t.Error("unit not written after the rerun")
			}
			// Everything made is owned: removing it from the config removes it.
			os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# empty\n"), 0o644)
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			if testenv.Modules(t, root)["seconf_fault"] {
				t.Error("module left behind: seconf lost ownership of it")
			}
			if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/faulty.service")); err == nil {
				t.Error("unit left behind: seconf lost ownership of it")
			}
		})
	}
}

// TestKillDuringUpdateConverges kills (with its process group) an apply that
// updates a module seconf installed before, on either side of the commit,
// then reruns with the same configuration, another one, or the block gone:
// each converges, and seconf still owns the module. A claim that forgot the
// copy it replaced left, when the commit never happened, a module every
// later plan refused as someone else's.
func TestKillDuringUpdateConverges(t *testing.T) {
	bin := buildSeconf(t)
	v := func(n int) string {
		extra := ""
		for i := 2; i <= n; i++ {
			extra += fmt.Sprintf("type seconf_fault_v%d_t;\n", i)
		}
		return faultTE + extra
	}
	for _, tc := range []struct {
		name  string
		gone  bool   // kill once semodule has finished, else as soon as it runs
		rerun string // the configuration's module source at the rerun; "" removes the block
	}{
		{"before the commit, same configuration", false, v(2)},
		{"before the commit, block removed", false, ""},
		{"after the commit, configuration changed again", true, v(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			cfg := writeFiles(t, map[string]string{"host.hcl": faultHCL, "seconf_fault.te": v(1)})
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			os.WriteFile(filepath.Join(cfg, "seconf_fault.te"), []byte(v(2)), 0o644)
			proc, err := os.StartProcess(bin, []string{bin, "apply", "--root", root, cfg},
				&os.ProcAttr{Files: []*os.File{nil, nil, nil}, Sys: &syscall.SysProcAttr{Setpgid: true}})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Minute)
			seen := false
			for time.Now().Before(deadline) {
				has := slices.Contains(children(proc.Pid), "semodule")
				seen = seen || has
				if seen && (!tc.gone || !has) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			syscall.Kill(-proc.Pid, syscall.SIGKILL)
			proc.Wait()
			if !seen {
				t.Fatal("never saw semodule running: the kill point was missed")
			}
			if tc.rerun == "" {
				os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# empty\n"), 0o644)
				mustSeconf(t, 0, "apply", "--root", root, cfg)
				if testenv.Modules(t, root)["seconf_fault"] {
					t.Error("module left behind: seconf lost ownership of it")
				}
				return
			}
			os.WriteFile(filepath.Join(cfg, "seconf_fault.te"), []byte(tc.rerun), 0o644)
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
			os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# empty\n"), 0o644)
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			if testenv.Modules(t, root)["seconf_fault"] {
				t.Error("module left behind: seconf lost ownership of it")
			}
		})
	}
}

// TestSemoduleFailureChangesNothing: a module that compiles but does not
// link into the policy fails the one transaction; nothing is committed, no
// unit is written, and the error carries semodule's words.
func TestSemoduleFailureChangesNothing(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": `
selinux_module "good" {
  content = "(type good_t)"
  format  = "cil"
}
selinux_module "broken" {
  content = "(allow broken_t no_such_type_t (file (read)))"
  format  = "cil"
}
container "c" {
  image        = "i"
  selinux_type = "good_t"
}
`})
	commits := testenv.CommitNum(t, root)
	_, errs, code := seconf(t, "apply", "--root", root, cfg)
	if code != 1 || !strings.Contains(errs, "semodule") || !strings.Contains(errs, "nothing was committed") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if testenv.CommitNum(t, root) != commits || testenv.Modules(t, root)["good"] {
		t.Error("a failed transaction committed something")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/c.service")); err == nil {
		t.Error("a unit was written for a type whose policy failed")
	}
}

// TestDiskFullKeepsOldUnit runs seconf on a root that is a tiny tmpfs in a
// mount namespace of its own: a write that hits ENOSPC fails the apply,
// leaves the old unit whole, and the next apply converges.
func TestDiskFullKeepsOldUnit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for unshare -m")
	}
	bin := buildSeconf(t)
	cfg := writeFiles(t, map[string]string{
		"v1.hcl": "container \"c\" {\n  image = \"i\"\n}\n",
		"v2.hcl": "container \"c\" {\n  image = \"i\"\n  command = [\"" + strings.Repeat("x", 4000) + "\"]\n}\n",
	})
	root := t.TempDir()
	script := `set -u
mount -t tmpfs -o size=256k tmpfs "$ROOT"
"$BIN" apply --root "$ROOT" "$CFG/v1.hcl" >/dev/null || exit 10
before=$(sha256sum <"$ROOT/etc/systemd/system/c.service")
dd if=/dev/zero of="$ROOT/filler" bs=1k 2>/dev/null
"$BIN" apply --root "$ROOT" "$CFG/v2.hcl" 2>"$WORK/err" && exit 11
grep -q "no space left on device" "$WORK/err" || { cat "$WORK/err"; exit 12; }
[ "$(sha256sum <"$ROOT/etc/systemd/system/c.service")" = "$before" ] || exit 13
rm "$ROOT/filler"
"$BIN" apply --root "$ROOT" "$CFG/v2.hcl" >/dev/null || exit 14
"$BIN" plan --detailed-exitcode --root "$ROOT" "$CFG/v2.hcl" >/dev/null || exit 15
grep -q xxxx "$ROOT/etc/systemd/system/c.service" || exit 16
`
	res, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{
		Name: "unshare", Args: []string{"-m", "--propagation", "private", "sh", "-c", script},
		Env: []string{"ROOT=" + root, "BIN=" + bin, "CFG=" + cfg, "WORK=" + t.TempDir()},
	})
	if err != nil {
		t.Fatalf("disk-full scenario failed (%v): stdout %s", err, res.Stdout)
	}
}
