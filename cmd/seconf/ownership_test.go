package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
	"seconf/modules/units"
)

// unitRoot is a root with no policy store: units only.
func unitRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc/systemd/system", "usr/lib/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func writeAt(t *testing.T, root, p, data string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readAt(t *testing.T, root, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return string(data)
}

// lieInState rewrites the units section of the state record.
func lieInState(t *testing.T, root string, edit func(map[string]units.UnitState)) {
	t.Helper()
	p := filepath.Join(root, host.StatePath)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	recs := map[string]units.UnitState{}
	if err := json.Unmarshal(top["units"], &recs); err != nil {
		t.Fatal(err)
	}
	edit(recs)
	top["units"], _ = json.Marshal(recs)
	data, _ = json.Marshal(top)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

const oneContainer = `container "app" {
  image   = "docker.io/library/busybox"
  quadlet = false
}
`

// TestStateRecordIsNoProof: a state record that names files and units
// seconf never wrote gets nothing deleted, stopped or unlinked; seconf
// says what it leaves and forgets it.
func TestStateRecordIsNoProof(t *testing.T) {
	cases := []struct {
		name string
		lie  func(map[string]units.UnitState)
		// files that must survive, with their content
		keep map[string]string
	}{
		{"passwd under a unit in the config",
			func(r map[string]units.UnitState) {
				st := r["container.app"]
				st.Files = append(st.Files, "/etc/passwd")
				r["container.app"] = st
			},
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/sh\n"}},
		{"passwd under a unit gone from the config",
			func(r map[string]units.UnitState) {
				r["container.old"] = units.UnitState{Unit: "old.service", Files: []string{"/etc/passwd"}}
			},
			map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/sh\n"}},
		{"a vendor unit named as seconf's",
			func(r map[string]units.UnitState) {
				r["container.ssh"] = units.UnitState{Unit: "ssh.service", Files: []string{"/usr/lib/systemd/system/ssh.service"}}
			},
			map[string]string{"/usr/lib/systemd/system/ssh.service": "[Service]\nExecStart=/usr/sbin/sshd\n"}},
		{"an admin's unit in seconf's directory",
			func(r map[string]units.UnitState) {
				r["container.web"] = units.UnitState{Unit: "web.service", Files: []string{"/etc/systemd/system/web.service"}}
			},
			map[string]string{"/etc/systemd/system/web.service": "[Service]\nExecStart=/bin/true\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := unitRoot(t)
			for p, data := range tc.keep {
				writeAt(t, root, p, data)
			}
			// The admin's web.service is enabled: its link must stay too.
			if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system/multi-user.target.wants"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/usr/lib/systemd/system/ssh.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ssh.service")); err != nil {
				t.Fatal(err)
			}
			cfg := writeFiles(t, map[string]string{"host.hcl": oneContainer})
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			lieInState(t, root, tc.lie)
			out := mustSeconf(t, 0, "apply", "--root", root, cfg)
			if !strings.Contains(out, "left in place") {
				t.Errorf("apply does not say what it leaves:\n%s", out)
			}
			for p, data := range tc.keep {
				if got := readAt(t, root, p); got != data {
					t.Errorf("%s changed: %q", p, got)
				}
			}
			if _, err := os.Readlink(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ssh.service")); err != nil {
				t.Errorf("ssh.service's link went: %v", err)
			}
			// Forgotten: the next plan has nothing to do.
			mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
		})
	}
}

// TestLeftoverReplacedByHand: a file seconf wrote and no longer renders is
// removed only while it is still seconf's. Switching a container from
// quadlet to a plain service leaves a .container a person put in its place.
func TestLeftoverReplacedByHand(t *testing.T) {
	root := unitRoot(t)
	quadletCfg := writeFiles(t, map[string]string{"host.hcl": strings.Replace(oneContainer, "quadlet = false", "quadlet = true", 1)})
	mustSeconf(t, 0, "apply", "--root", root, quadletCfg)
	const mine = "[Container]\nImage=docker.io/library/nginx\n"
	writeAt(t, root, "/etc/containers/systemd/app.container", mine)
	plainCfg := writeFiles(t, map[string]string{"host.hcl": oneContainer})
	// The person's quadlet file would become app.service as well: seconf
	// refuses the name rather than shadow it.
	_, errs, code := seconf(t, "apply", "--root", root, plainCfg)
	if code != 1 || !strings.Contains(errs, "/etc/containers/systemd/app.container") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	if got := readAt(t, root, "/etc/containers/systemd/app.container"); got != mine {
		t.Errorf("the person's quadlet file changed:\n%s", got)
	}

	// Edited in place, header kept: no longer what seconf wrote, so it is
	// not deleted when the container goes.
	root = unitRoot(t)
	mustSeconf(t, 0, "apply", "--root", root, plainCfg)
	edited := readAt(t, root, "/etc/systemd/system/app.service") + "Environment=EDITED=1\n"
	writeAt(t, root, "/etc/systemd/system/app.service", edited)
	empty := writeFiles(t, map[string]string{"host.hcl": "\n"})
	out := mustSeconf(t, 0, "apply", "--root", root, empty)
	if !strings.Contains(out, "changed since seconf wrote it") {
		t.Errorf("apply output:\n%s", out)
	}
	if got := readAt(t, root, "/etc/systemd/system/app.service"); got != edited {
		t.Errorf("the edited unit changed or went")
	}
}

// TestUnitNamesTaken: a unit name is checked against every directory
// systemd reads, podman's quadlet directories, and the other resources.
func TestUnitNamesTaken(t *testing.T) {
	cases := []struct {
		name, file, hcl, want string
	}{
		{"vendor unit", "/usr/lib/systemd/system/app.service", oneContainer, "/usr/lib/systemd/system/app.service"},
		{"local admin unit", "/usr/local/lib/systemd/system/app.service", oneContainer, "/usr/local/lib/systemd/system/app.service"},
		{"runtime unit", "/run/systemd/system/app.service", oneContainer, "/run/systemd/system/app.service"},
		{"vendor quadlet", "/usr/share/containers/systemd/app.container", oneContainer, "/usr/share/containers/systemd/app.container"},
		{"vendor mount", "/usr/lib/systemd/system/srv-data.mount", "mount \"data\" {\n  what = \"/dev/sdb1\"\n  where = \"/srv/data\"\n}\n", "/usr/lib/systemd/system/srv-data.mount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := unitRoot(t)
			writeAt(t, root, tc.file, "[Unit]\n")
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			before := testenv.Snapshot(t, root)
			for _, cmd := range []string{"plan", "apply"} {
				_, errs, code := seconf(t, cmd, "--root", root, cfg)
				if code != 1 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "host.hcl line ") {
					t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, errs)
				}
			}
			if after := testenv.Snapshot(t, root); after != before {
				t.Errorf("the root changed")
			}
		})
	}

	t.Run("two mounts on one mount point", func(t *testing.T) {
		cfg := writeFiles(t, map[string]string{"host.hcl": "mount \"a\" {\n  what = \"/dev/sdb1\"\n  where = \"/srv/data\"\n}\nmount \"b\" {\n  what = \"/dev/sdc1\"\n  where = \"/srv/data\"\n}\n"})
		_, errs, code := seconf(t, "validate", cfg)
		if code != 1 || !strings.Contains(errs, "mount.a") || !strings.Contains(errs, "mount.b") {
			t.Errorf("validate: exit %d, stderr:\n%s", code, errs)
		}
	})

	t.Run("a container named like the timer", func(t *testing.T) {
		root := unitRoot(t)
		mustSeconf(t, 0, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "/etc/seconf")
		timerService := readAt(t, root, "/etc/systemd/system/seconf-converge.service")
		cfg := writeFiles(t, map[string]string{"host.hcl": strings.Replace(oneContainer, `"app"`, `"seconf-converge"`, 1)})
		_, errs, code := seconf(t, "apply", "--root", root, cfg)
		if code != 1 || !strings.Contains(errs, "timer.seconf-converge") {
			t.Errorf("exit %d, stderr:\n%s", code, errs)
		}
		if readAt(t, root, "/etc/systemd/system/seconf-converge.service") != timerService {
			t.Error("the timer's service was overwritten")
		}
	})
}
