package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"one", []float64{7}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.xs); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
			}
		})
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

// writeData lays out a bench/out directory: samples and tool outputs.
func writeData(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tsv(lines ...string) string {
	return strings.ReplaceAll(strings.Join(lines, "\n"), " | ", "\t") + "\n"
}

// TestResults reads the tables the way a reader would: medians, the
// target's sum, ratios, yes and no, seconf's own time, the extrapolated
// separate calls, system call sums.
func TestResults(t *testing.T) {
	dir := writeData(t, map[string]string{
		"samples.tsv": tsv(
			"info | SIZES | 1 10 100", "info | SEPARATE_MAX | 10", "info | source_dirty | 0",
			// N = 1: met. semodule -l 4, 5, 6 ms; reads 0.3 ms; seconf 6, 7, 8 ms.
			"t | n1.l | 4000 | 3000", "t | n1.l | 6000 | 3000", "t | n1.l | 5000 | 3000",
			"t | n1.read | 300 | 0", "t | n1.noop.seconf | 7000 | 6000", "t | n1.noop.seconf | 6000 | 5000", "t | n1.noop.seconf | 8000 | 9000",
			// N = 100: not met. 9 ms + 3 ms floor → target 16.5 ms; seconf 20 ms.
			"t | n100.l | 9000 | 8000", "t | n100.read | 3000 | 2000", "t | n100.noop.seconf | 20000 | 10000",
			// First apply at N = 10: floor 6 s, seconf 6.1 s with a 6 s transaction inside.
			"t | n10.first.floor | 6000000 | 0", "t | n10.first.seconf | 6100000 | 0", "t | n10.first.seconf.semodule | 6000000 | 0",
			"t | n10.call | 5000000 | 0", "t | n10.call | 7000000 | 0", "t | n10.call | 6000000 | 0", "t | n10.separate | 60000000 | 0",
			"t | n100.first.floor | 8000000 | 0", "t | n100.first.seconf | 9000000 | 0", "t | n100.first.seconf.semodule | 8700000 | 0",
		),
		"strace.n100.txt": `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 40.00    0.004000          10       316        12 openat
 30.00    0.003000           2      1000           newfstatat
  5.00    0.000500           1       837           fstat
  1.00    0.000100          11         9           getdents64
  0.10    0.000010          10         1           execve
------ ----------- ----------- --------- --------- ----------------
100.00    0.010000                  2163        12 total
`,
		"gobench.n.txt": "BenchmarkNoChangeApplyN/N=100-2   100   12000000 ns/op\nPASS\n",
	})
	d, err := load(dir, "samples.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := results(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, row := range []string{
		"| N = 1 | 5.0 ms | 0.3 ms | 7.8 ms | 7.0 ms | 1.40 | **yes** |",
		"| N = 100 | 9.0 ms | 3.0 ms | 16 ms | 20 ms | 2.22 | **no** |",
		// CPU: N = 1 takes 1.5 × 3 + 0 = 4.5 ms against seconf's 6 ms.
		"| N = 1 | 3.0 ms | 0.0 ms | 4.5 ms | 6.0 ms | 2.00 | **no** |",
		"| N = 10 | 6.00 s | 6.10 s | 1.02 | 100 ms | 1.02 | **yes** | 60.00 s (1 run; median call 6.00 s) | 10.00 |",
		// N = 100: own 300 ms, (8 + 0.3) / 8 = 1.04; separate 100 × 6 s.
		"| N = 100 | 8.00 s | 9.00 s | 1.12 | 300 ms | 1.04 | **yes** | 600.00 s **extrapolated**: 100 × the median call at N = 10 | 75.00 |",
		"| seconf, N = 100 | 316 / 1837 / 9 / 1 |",
		"| 100 | 12 ms | 20 ms | 40 % |",
		"| n10.first.seconf.own | 0.10 |",
	} {
		if !strings.Contains(out, row+"\n") {
			t.Errorf("no row %q in:\n%s", row, out)
		}
	}
}

func TestSettings(t *testing.T) {
	dir := writeData(t, map[string]string{"settings.tsv": tsv(
		"info | SAMPLE | 2", "info | booleans | 20", "info | commits | 1", "info | execs | 0",
		"t | settings.floor | 4000000 | 0", "t | settings.first | 5000000 | 0", "t | settings.first.import | 4800000 | 0",
		"t | settings.noop | 90000 | 0", "t | settings.readfloor | 20000 | 0", "t | settings.export | 1500000 | 0",
		// 4 Ansible items in 20 s: 5 s an item, × 60; 2 booleans in 4 s: 2 s each, × 20.
		"t | settings.ansible | 20000000 | 0", "t | settings.booleans | 4000000 | 0",
	)})
	d, err := load(dir, "settings.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := settings(&b, d); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| what") {
			rows = append(rows, l)
		}
	}
	want := []string{
		"| first apply, seconf | 5.00 s | one `semanage import -N` of the 80 records: 4.00 s | 1.25 |",
		"| first apply, seconf's own time (without the import) | 0.20 s | (floor + own) ÷ floor | 1.05 |",
		"| commands the first apply ran | 1 | | |",
		"| one command per setting (Ansible's sefcontext/seport, one semanage boolean -m each; extrapolated from 2 of each) | 340.00 s | seconf's first apply | 68.00 × slower |",
		"| no-change apply | 0.09 s | reading the four local files: 0.02 s; `semanage export`: 1.50 s | |",
		"| commands the no-change apply ran | 0 | | |",
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("SETTINGS.md rows (-want +got):\n%s", diff)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"unknown kind", "sample\tx\t1"},
		{"not a number", "t\tx\tfast\t0"},
		{"missing CPU", "t\tx\t1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parse("", strings.NewReader(tc.line+"\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
				t.Errorf("parse(%q) = %v, want an error naming line 1", tc.line, err)
			}
		})
	}
}
