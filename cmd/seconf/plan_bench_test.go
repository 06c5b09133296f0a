package main

import (
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"seconf/internal/testenv"
)

// benchConfig writes bench/gen's configuration of n resources (n/2 mounts,
// n/2 containers each with a volume on its mount) to a new directory.
func benchConfig(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	out, err := exec.Command("../../bench/gen", "units", dir, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		b.Fatalf("bench/gen: %v\n%s", err, out)
	}
	return dir
}

// BenchmarkPlan1000 is the engine's own cost on 1,000 resources (500 mounts,
// 500 containers): parse, evaluate references, render every unit and compare
// it with the root. The root has no policy store and the configuration no
// selinux_module, so no command runs: this is seconf alone. The first plan
// finds nothing on disk (all creates); the no-change plan reads 1,000 unit
// files that match.
func BenchmarkPlan1000(b *testing.B) {
	cfg := benchConfig(b, 1000)
	for _, tc := range []struct {
		name  string
		apply bool
	}{{"create", false}, {"nochange", true}} {
		b.Run(tc.name, func(b *testing.B) {
			root := b.TempDir()
			if tc.apply {
				if code := run([]string{"apply", "--root", root, cfg}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("apply: exit %d", code)
				}
			}
			want := 2
			if tc.apply {
				want = 0
			}
			for b.Loop() {
				if code := run([]string{"plan", "--detailed-exitcode", "--root", root, cfg}, io.Discard, io.Discard); code != want {
					b.Fatalf("plan: exit %d, want %d", code, want)
				}
			}
		})
	}
}

// BenchmarkNoChangeApplyExample is the timer's run on the bundled example
// (container-logger, with refpolicy's container module on Debian 12), in
// process, so that -cpuprofile shows where the time goes. Setup applies it
// once: a policy commit, several seconds, outside the timed loop.
func BenchmarkNoChangeApplyExample(b *testing.B) { benchNoChange(b, "../../examples/container-logger") }

// BenchmarkNoChangeApplyConfined is the same with confine = true: each run
// also reads the root's policy and file contexts and writes the module
// again, to find it unchanged.
func BenchmarkNoChangeApplyConfined(b *testing.B) { benchNoChange(b, "../../examples/confined-logger") }

func benchNoChange(b *testing.B, example string) {
	root := testenv.PolicyRoot(b)
	args := []string{"apply", "--root", root}
	if !testenv.Modules(b, root)["container"] {
		args = append(args, "--var", "refpolicy_services="+testenv.RefpolicyServices(b), "../../examples/debian12-container-policy")
	}
	args = append(args, example)
	var out strings.Builder
	if code := run(args, &out, &out); code != 0 {
		b.Fatalf("first apply: exit %d\n%s", code, out.String())
	}
	commits := testenv.CommitNum(b, root)
	for b.Loop() {
		out.Reset()
		if code := run(args, &out, &out); code != 0 || !strings.Contains(out.String(), "No changes") {
			b.Fatalf("no-change apply: exit %d\n%s", code, out.String())
		}
	}
	if testenv.CommitNum(b, root) != commits {
		b.Fatal("the no-change apply committed the policy")
	}
}

// BenchmarkNoChangeApplyN is the timer's run on bench/gen's configuration of
// N modules and N containers (each under its module's type), N = 1, 10 and
// 100, in process: bench/run's no-change rows, without the process start.
// Setup applies each once (a policy commit, outside the timed loop).
func BenchmarkNoChangeApplyN(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			root := testenv.PolicyRoot(b)
			cfg := b.TempDir()
			out, err := exec.Command("../../bench/gen", "modules", cfg, strconv.Itoa(n), root).CombinedOutput()
			if err != nil {
				b.Fatalf("bench/gen: %v\n%s", err, out)
			}
			args := []string{"apply", "--root", root, cfg}
			var log strings.Builder
			if code := run(args, &log, &log); code != 0 {
				b.Fatalf("first apply: exit %d\n%s", code, log.String())
			}
			commits := testenv.CommitNum(b, root)
			for b.Loop() {
				log.Reset()
				if code := run(args, &log, &log); code != 0 || !strings.Contains(log.String(), "No changes") {
					b.Fatalf("no-change apply: exit %d\n%s", code, log.String())
				}
			}
			if testenv.CommitNum(b, root) != commits {
				b.Fatal("the no-change apply committed the policy")
			}
		})
	}
}
