package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/internal/testenv"
	"seconf/modules/timer"
)

// opsHCL declares two CIL modules: two actions per apply, no compile.
const opsHCL = `
selinux_module "seconf_ops_a" {
  content = "(type seconf_ops_a_t)"
  format  = "cil"
}
selinux_module "seconf_ops_b" {
  content = "(type seconf_ops_b_t)"
  format  = "cil"
}
`

// Lines a non-terminal apply may print: plan lines, the plan's count, one
// line per action done, the outcome.
var applyLine = []*regexp.Regexp{
	regexp.MustCompile(`^ *(\+|~|-|-/\+) +[a-z-]+ +[a-z_]+\.[A-Za-z0-9_-]+ +\(.+\)$`),
	regexp.MustCompile(`^Plan: \d+ to create, \d+ to update, \d+ to restart, \d+ to delete\.$`),
	regexp.MustCompile(`^[a-z_]+\.[A-Za-z0-9_-]+: [a-z-]+ done$`),
	regexp.MustCompile(`^Apply complete: \d+ change\(s\)\.$`),
}

// checkLogLines holds a non-terminal apply's output to what journald keeps
// well: no ANSI codes, every line one of applyLine, and for every action
// exactly one "ID: action done" line.
func checkLogLines(t *testing.T, out string, wantDone []string) {
	t.Helper()
	if strings.Contains(out, "\x1b") {
		t.Errorf("ANSI escape in output without a terminal:\n%q", out)
	}
	var done []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		matched := false
		for _, re := range applyLine {
			matched = matched || re.MatchString(l)
		}
		if !matched {
			t.Errorf("unexpected line %q in:\n%s", l, out)
		}
		if strings.HasSuffix(l, " done") {
			done = append(done, l)
		}
	}
	sort.Strings(done)
	if d := cmp.Diff(wantDone, done); d != "" {
		t.Errorf("action lines (-want +got):\n%s", d)
	}
}

// TestOperations follows a host as the timer and cloud-init see it: status
// before anything, the timer installed, an apply without a terminal, status
// after it, and drift after the configuration changes. The configuration's
// apply must leave the timer alone.
func TestOperations(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": opsHCL})

	type step struct {
		name string
		run  func(t *testing.T)
	}
	steps := []step{
		{"status-before-apply", func(t *testing.T) {
			out := mustSeconf(t, 2, "status", "--detailed-exitcode", "--root", root, cfg)
			for _, want := range []string{"Last apply: none recorded", "Convergence timer: not installed", "+ create   selinux_module.seconf_ops_a"} {
				if !strings.Contains(out, want) {
					t.Errorf("status lacks %q:\n%s", want, out)
				}
			}
			mustSeconf(t, 0, "status", "--root", root, cfg)
		}},
		{"timer-install", func(t *testing.T) {
			mustSeconf(t, 0, "timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", cfg)
		}},
		{"apply-without-terminal", func(t *testing.T) {
			out, errs, code := seconf(t, "apply", "--root", root, cfg)
			if code != 0 || errs != "" {
				t.Fatalf("apply: exit %d\n%s\n%s", code, out, errs)
			}
			checkLogLines(t, out, []string{"selinux_module.seconf_ops_a: create done", "selinux_module.seconf_ops_b: create done"})
		}},
		{"timer-survives-apply", func(t *testing.T) {
			if _, ok := readState(t, root).Units[timer.ID]; !ok {
				t.Error("the apply dropped the timer from the state record")
			}
			if _, err := os.Stat(filepath.Join(root, "etc/systemd/system", timer.Timer)); err != nil {
				t.Errorf("the apply removed the timer: %v", err)
			}
		}},
		{"status-after-apply", func(t *testing.T) {
			out := mustSeconf(t, 0, "status", "--detailed-exitcode", "--root", root, cfg)
			for _, re := range []string{
				`(?m)^Last apply: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \([0-9hms]+ ago\), took [0-9hms.]+, succeeded after 2 change\(s\)\.$`,
				`(?m)^  create selinux_module.seconf_ops_a$`,
				`(?m)^Convergence timer: seconf-converge.timer installed by seconf\.$`,
				`(?m)^No changes\.`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("status does not match %s:\n%s", re, out)
				}
			}
			var doc statusDoc
			if err := json.Unmarshal([]byte(mustSeconf(t, 0, "status", "--json", "--root", root, cfg)), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.LastApply == nil {
				t.Fatal("status --json: no last_apply")
			}
			got := struct {
				Changed []string
				Failed  string
				Timer   jsonTimer
				Pending bool
			}{doc.LastApply.Changed, doc.LastApply.Failed, doc.Timer, doc.Drift.Pending}
			want := got
			want.Changed = []string{"create selinux_module.seconf_ops_a", "create selinux_module.seconf_ops_b"}
			want.Failed, want.Pending = "", false
			want.Timer = jsonTimer{Installed: true, Unit: timer.Timer, Files: []string{"/etc/systemd/system/" + timer.Service, "/etc/systemd/system/" + timer.Timer}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("status --json (-want +got):\n%s", d)
			}
		}},
		{"drift", func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(strings.Replace(opsHCL, "(type seconf_ops_b_t)", "(type seconf_ops_b_t) (type seconf_ops_c_t)", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := mustSeconf(t, 2, "status", "--detailed-exitcode", "--root", root, cfg)
			if !strings.Contains(out, "~ update   selinux_module.seconf_ops_b") {
				t.Errorf("status after a change:\n%s", out)
			}
			var doc statusDoc
			if err := json.Unmarshal([]byte(mustSeconf(t, 2, "status", "--json", "--detailed-exitcode", "--root", root, cfg)), &doc); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range doc.Drift.Changes {
				ids = append(ids, c.Action+" "+c.ID)
			}
			if d := cmp.Diff([]string{"update selinux_module.seconf_ops_b"}, ids); d != "" {
				t.Errorf("drift (-want +got):\n%s", d)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			break
		}
	}
}
