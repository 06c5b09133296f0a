package policydb

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system time: the machine is shared,
// and wall time per operation swings with the other load while CPU time
// does not (much). It includes the garbage collector's work.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkParse parses the machine's policy (policy.33, about 2 MB).
func BenchmarkParse(b *testing.B) {
	data := readFile(b, machinePolicy)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkParseSymbols stops after the symbol tables.
func BenchmarkParseSymbols(b *testing.B) {
	data := readFile(b, machinePolicy)
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if _, err := ParseSymbols(data); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

func BenchmarkParseHeader(b *testing.B) {
	data := readFile(b, machinePolicy)
	for b.Loop() {
		if _, err := ParseHeader(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstAllowed is the first access query on a fresh parse: it
// builds the rule index.
func BenchmarkFirstAllowed(b *testing.B) {
	data := readFile(b, machinePolicy)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := p.Allowed("httpd_t", "httpd_sys_content_t", "file"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllowed is a query once the index exists: a domain with many
// attributes against a file type with many.
func BenchmarkAllowed(b *testing.B) {
	p := mustParse(b, readFile(b, machinePolicy))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Allowed("unconfined_t", "etc_t", "file"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTypeAttributes(b *testing.B) {
	p := mustParse(b, readFile(b, machinePolicy))
	b.ReportAllocs()
	for b.Loop() {
		p.TypeAttributes("httpd_t")
	}
}
