package filecontexts

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU this process has used. The benchmarks report it per
// operation as cpu-ns/op beside the wall time, which other work on a
// shared machine inflates.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// machineFiles reads this machine's file contexts into memory, so that the
// benchmarks measure parsing and matching, not the disk.
func machineFiles(b *testing.B) func(string) ([]byte, error) {
	fc := machinePolicy(b)
	files := map[string][]byte{}
	for _, suffix := range []string{"", ".homedirs", ".local", ".subs_dist", ".subs"} {
		if data, err := os.ReadFile(fc + suffix); err == nil {
			files[PolicyFile("bench")+suffix] = data
		}
	}
	return func(name string) ([]byte, error) {
		if data, ok := files[name]; ok {
			return data, nil
		}
		return nil, os.ErrNotExist
	}
}

// BenchmarkOpen is loading the machine's policy (about 5,600 specs).
func BenchmarkOpen(b *testing.B) {
	read := machineFiles(b)
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Open(read, PolicyFile("bench")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAndLookup is what a plan that needs one label pays: load,
// then look up a container volume's label (its regexes compiled on the way).
func BenchmarkOpenAndLookup(b *testing.B) {
	read := machineFiles(b)
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		s, err := Open(read, PolicyFile("bench"))
		if err != nil {
			b.Fatal(err)
		}
		if c, ok := s.Lookup("/var/log", Directory); !ok || c.Type != "var_log_t" {
			b.Fatalf("/var/log: %v", c)
		}
		if c, ok := s.Lookup("/etc/fluentd/fluent.conf", Regular); !ok || c.Type != "etc_t" {
			b.Fatalf("/etc/fluentd/fluent.conf: %v", c)
		}
	}
}

// BenchmarkLookup is one lookup of a path of this machine, with the
// regexes it needs already compiled (as when walking a tree).
func BenchmarkLookup(b *testing.B) {
	s, err := Open(machineFiles(b), PolicyFile("bench"))
	if err != nil {
		b.Fatal(err)
	}
	paths := sample(walk(machineDirs...), 10000)
	for _, p := range paths {
		s.Lookup(p, Any)
	}
	i := 0
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		s.Lookup(paths[i%len(paths)], Regular)
		i++
	}
}
