package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"seconf/engine"
	"seconf/host"
	"seconf/internal/testenv"
	"seconf/modules/selinux"
	"seconf/modules/timer"
	"seconf/modules/units"
)

// timerRoot is a fresh root as an image has it: the usual directories,
// systemd's units, a seconf binary and the container-logger configuration
// in /etc/seconf.
func timerRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc/systemd/system", "etc/seconf", "var/lib", "run", "usr/local/bin", "usr/lib/systemd"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"host.hcl", "container_logger.te"} {
		data, err := os.ReadFile(filepath.Join("../../examples/container-logger", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/seconf", f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "usr/local/bin/seconf"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The vendor units, for systemd-analyze verify --root.
	if _, err := os.Stat("/usr/lib/systemd/system"); err == nil {
		if out, err := exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
			t.Fatalf("copy vendor units: %v: %s", err, out)
		}
	}
	return root
}

// stateFile is the state record as a person reads it in the file.
type stateFile struct {
	Version int                            `json:"version"`
	Modules map[string]selinux.ModuleState `json:"modules"`
	Units   map[string]units.UnitState     `json:"units"`
	Last    *engine.ApplySummary           `json:"last_apply"`
}

func readState(t *testing.T, root string) *stateFile {
	t.Helper()
	st := &stateFile{}
	data, err := os.ReadFile(filepath.Join(root, host.StatePath))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		t.Fatal(err)
	}
	return st
}

// unitLines returns a unit file's KEY=VALUE lines by key, in order.
func unitLines(t *testing.T, root, name string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(units.Header)) {
		t.Errorf("%s does not start with the header %q:\n%s", name, units.Header, data)
	}
	out := map[string][]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// TestTimerOffline installs the timer into a fresh root, checks everything
// it left there, installs it again (nothing changes), changes its interval,
// and removes it: the root is then exactly as before.
func TestTimerOffline(t *testing.T) {
	root := timerRoot(t)
	before := testenv.Snapshot(t, root)
	install := []string{"timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf"}

	out := mustSeconf(t, 0, install...)
	if !strings.Contains(out, "timer.seconf-converge: create done\n") {
		t.Errorf("install output:\n%s", out)
	}
	svc := unitLines(t, root, timer.Service)
	tmr := unitLines(t, root, timer.Timer)
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"ExecStart", svc["ExecStart"], []string{"/usr/local/bin/seconf apply --lock-timeout=15m0s -- /etc/seconf"}},
		{"Type", svc["Type"], []string{"oneshot"}},
		{"OnBootSec", tmr["OnBootSec"], []string{"5min"}},
		{"OnUnitActiveSec", tmr["OnUnitActiveSec"], []string{"30min"}},
		{"RandomizedDelaySec", tmr["RandomizedDelaySec"], []string{"5min"}},
		{"WantedBy", tmr["WantedBy"], []string{"timers.target"}},
	} {
		if d := cmp.Diff(tc.want, tc.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	link, err := os.Readlink(filepath.Join(root, "etc/systemd/system/timers.target.wants", timer.Timer))
	if err != nil || link != "/etc/systemd/system/"+timer.Timer {
		t.Errorf("timers.target.wants link: %q, %v", link, err)
	}
	wantUnits := map[string]units.UnitState{timer.ID: {
		Unit:  timer.Timer,
		Files: []string{"/etc/systemd/system/" + timer.Service, "/etc/systemd/system/" + timer.Timer},
	}}
	st := readState(t, root)
	if d := cmp.Diff(wantUnits, st.Units, cmpopts.IgnoreFields(units.UnitState{}, "Sums")); d != "" {
		t.Errorf("state record units (-want +got):\n%s", d)
	}
	if st.Last != nil {
		t.Errorf("installing the timer recorded an apply: %+v", st.Last)
	}
	verifyInRoot(t, root, timer.Timer, timer.Service)

	snap := testenv.Snapshot(t, root)
	out = mustSeconf(t, 0, install...)
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second install:\n%s", out)
	}
	if after := testenv.Snapshot(t, root); after != snap {
		t.Errorf("second install wrote to the root:\n%s", testenv.Diff(snap, after))
	}

	out = mustSeconf(t, 0, append([]string{"timer", "install", "--every", "2h"}, install[2:]...)...)
	if !strings.Contains(out, "timer.seconf-converge: update done\n") {
		t.Errorf("install --every 2h:\n%s", out)
	}
	if got := unitLines(t, root, timer.Timer)["OnUnitActiveSec"]; !cmp.Equal(got, []string{"2h"}) {
		t.Errorf("OnUnitActiveSec after --every 2h: %q", got)
	}

	out = mustSeconf(t, 0, "timer", "remove", "--root", root)
	if !strings.Contains(out, "timer.seconf-converge: delete done\n") {
		t.Errorf("remove output:\n%s", out)
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("remove left the root different from before install:\n%s", testenv.Diff(before, after))
	}
	out = mustSeconf(t, 0, "timer", "remove", "--root", root)
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second remove:\n%s", out)
	}
}

// TestTimerOwnership: the timer's provider touches the timer only. What the
// state record says about modules and the last apply survives install and
// remove, and a unit file seconf did not write is never overwritten.
func TestTimerOwnership(t *testing.T) {
	t.Run("state-kept", func(t *testing.T) {
		root := timerRoot(t)
		prior := `{"version": 1, "modules": {"container_logger": {"priority": 400, "checksum": "sha256:00"}}, "units": {},
  "last_apply": {"started": "2025-01-02T03:04:05Z", "finished": "2025-01-02T03:04:07Z", "changed": ["create selinux_module.container_logger"]}}`
		if err := os.MkdirAll(filepath.Join(root, "var/lib/seconf"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, host.StatePath), []byte(prior), 0o600); err != nil {
			t.Fatal(err)
		}
		want := readState(t, root)
		mustSeconf(t, 0, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf")
		got := readState(t, root)
		if d := cmp.Diff(want.Modules, got.Modules); d != "" {
			t.Errorf("modules after install (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want.Last, got.Last); d != "" {
			t.Errorf("last apply after install (-want +got):\n%s", d)
		}
		mustSeconf(t, 0, "timer", "remove", "--root", root)
		got = readState(t, root)
		want.Units = nil
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("state after remove (-want +got):\n%s", d)
		}
	})
	t.Run("foreign-file", func(t *testing.T) {
		root := timerRoot(t)
		foreign := filepath.Join(root, "etc/systemd/system", timer.Service)
		data := []byte("[Service]\nExecStart=/bin/true\n")
		if err := os.WriteFile(foreign, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, errs, code := seconf(t, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf")
		// The timer's name is seconf's: no advice to change it.
		if code != 1 || !strings.Contains(errs, "was not written by seconf") || strings.Contains(errs, "another name") {
			t.Errorf("install over a foreign unit: exit %d, stderr:\n%s", code, errs)
		}
		if got, _ := os.ReadFile(foreign); !bytes.Equal(got, data) {
			t.Errorf("foreign unit changed:\n%s", got)
		}
		// Not in the state record, so not seconf's to remove.
		mustSeconf(t, 0, "timer", "remove", "--root", root)
		if _, err := os.Stat(foreign); err != nil {
			t.Errorf("remove deleted a unit seconf does not own: %v", err)
		}
	})
}

func TestTimerInstallRefuses(t *testing.T) {
	root := timerRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"relative-path-offline", []string{"--root", root, "--seconf-path", "/usr/local/bin/seconf", "etc/seconf"}, "absolute path on the target host"},
		{"relative-binary", []string{"--root", root, "--seconf-path", "seconf", "/etc/seconf"}, "give an absolute path"},
		{"too-often", []string{"--root", root, "--seconf-path", "/usr/local/bin/seconf", "--every", "10s", "/etc/seconf"}, "at least 1m0s"},
		{"bad-var", []string{"--root", root, "--seconf-path", "/usr/local/bin/seconf", "--var", "novalue", "/etc/seconf"}, "write --var NAME=VALUE"},
		{"missing-config-online", []string{"--seconf-path", "/usr/local/bin/seconf", filepath.Join(root, "nowhere")}, "nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := seconf(t, append([]string{"timer", "install"}, tc.args...)...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want 1 with %q in stderr:\n%s", code, tc.want, errs)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system", timer.Timer)); err == nil {
		t.Error("a refused install wrote the timer")
	}
}

// verifyInRoot runs the real systemd-analyze verify on units installed in
// root, which holds this machine's vendor units (timerRoot copies them) for
// what the units refer to: it must have nothing at all to say.
func verifyInRoot(t *testing.T, root string, units ...string) {
	t.Helper()
	bin := testenv.Tool(t, "", "systemd-analyze", "install systemd (scripts/deps does)")
	cmd := exec.Command(bin, append([]string{"verify", "--root=" + root}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify --root=%s %s: %v\n%s", root, strings.Join(units, " "), err, out)
	}
}

// TestTimerStatusMissing: status reads the timer from the state record,
// and says when a file of it was deleted by hand since (exit 2 with
// --detailed-exitcode): the host no longer converges.
func TestTimerStatusMissing(t *testing.T) {
	root := timerRoot(t)
	mustSeconf(t, 0, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf")
	if err := os.Remove(filepath.Join(root, "etc/systemd/system", timer.Timer)); err != nil {
		t.Fatal(err)
	}
	cfg := writeFiles(t, map[string]string{"host.hcl": mountHCL("10m")})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	out := mustSeconf(t, 2, "status", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "/etc/systemd/system/"+timer.Timer+" is gone") {
		t.Errorf("status:\n%s", out)
	}
	var doc struct {
		Timer struct {
			Missing []string `json:"missing"`
		} `json:"timer"`
	}
	if err := json.Unmarshal([]byte(mustSeconf(t, 0, "status", "--json", "--root", root, cfg)), &doc); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"/etc/systemd/system/" + timer.Timer}, doc.Timer.Missing); d != "" {
		t.Errorf("status --json timer.missing (-want +got):\n%s", d)
	}
	mustSeconf(t, 0, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf")
	mustSeconf(t, 0, "status", "--detailed-exitcode", "--root", root, cfg)
}
