package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/internal/testenv"
)

// exampleArgs returns the paths and flags that apply an example on this
// machine: on Debian 12, refpolicy's container module joins the example's
// configuration, as the README's demo does.
func exampleArgs(t *testing.T, root, dir string) []string {
	t.Helper()
	args := []string{"--root", root}
	if filepath.Base(dir) == "debian12-container-policy" || !testenv.Modules(t, root)["container"] {
		args = append(args, "--var", "refpolicy_services="+testenv.RefpolicyServices(t))
		if filepath.Base(dir) != "debian12-container-policy" {
			args = append(args, "../../examples/debian12-container-policy")
		}
	}
	return append(args, dir)
}

// TestExamples validates every configuration in examples/ and applies it
// twice to a private root: the second apply must change nothing at all.
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	n := 0
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "host.hcl")); err != nil {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			if filepath.Base(dir) == "data-volume-docker" {
				// The host's docker labels containers, as the example says
				// it must: seconf refuses SELinux labels docker would ignore.
				writeAt(t, root, "/etc/docker/daemon.json", "{\"selinux-enabled\": true}\n")
			}
			args := exampleArgs(t, root, dir)
			mustSeconf(t, 0, append([]string{"validate"}, args[2:]...)...)
			out := mustSeconf(t, 2, append([]string{"plan", "--detailed-exitcode"}, args...)...)
			if !strings.Contains(out, "+ create") {
				t.Errorf("first plan creates nothing:\n%s", out)
			}
			mustSeconf(t, 0, append([]string{"apply"}, args...)...)
			commits := testenv.CommitNum(t, root)
			snap := testenv.Snapshot(t, root)
			out = mustSeconf(t, 0, append([]string{"apply"}, args...)...)
			if !strings.Contains(out, "No changes") {
				t.Errorf("second apply:\n%s", out)
			}
			if testenv.CommitNum(t, root) != commits {
				t.Error("second apply committed the policy")
			}
			if after := testenv.Snapshot(t, root); after != snap {
				t.Errorf("second apply wrote to the root:\n%s", testenv.Diff(snap, after))
			}
			mustSeconf(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
		})
	}
	if n < 2 {
		t.Fatalf("found %d examples", n)
	}
}
