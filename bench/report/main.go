package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	dataDir := flag.String("data", "bench/out", "directory of the samples and tool outputs")
	out := flag.String("out", "", "file to write (default bench/RESULTS.md or bench/SETTINGS.md)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/report [-data DIR] [-out FILE] run|settings")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var write func(io.Writer, *data) error
	file, def := "", ""
	switch flag.Arg(0) {
	case "run":
		write, file, def = results, "samples.tsv", "bench/RESULTS.md"
	case "settings":
		write, file, def = settings, "settings.tsv", "bench/SETTINGS.md"
	default:
		flag.Usage()
		os.Exit(2)
	}
	if *out == "" {
		*out = def
	}
	d, err := load(*dataDir, file)
	if err == nil {
		var b bytes.Buffer
		if err = write(&b, d); err == nil {
			err = os.WriteFile(*out, b.Bytes(), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// data is one run's samples.
type data struct {
	dir  string
	info map[string]string
	// wall and cpu are each measurement's samples in µs, in run order.
	wall, cpu map[string][]float64
}

func load(dir, file string) (*data, error) {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(dir, f)
}

func parse(dir string, r io.Reader) (*data, error) {
	d := &data{dir: dir, info: map[string]string{}, wall: map[string][]float64{}, cpu: map[string][]float64{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Split(sc.Text(), "\t")
		switch {
		case len(f) == 3 && f[0] == "info":
			d.info[f[1]] = f[2]
		case len(f) == 4 && f[0] == "t":
			w, err1 := strconv.ParseFloat(f[2], 64)
			c, err2 := strconv.ParseFloat(f[3], 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("line %d: not a number of µs: %q", n, sc.Text())
			}
			d.wall[f[1]] = append(d.wall[f[1]], w)
			d.cpu[f[1]] = append(d.cpu[f[1]], c)
		default:
			return nil, fmt.Errorf("line %d: neither \"info KEY VALUE\" nor \"t NAME WALL CPU\": %q", n, sc.Text())
		}
	}
	return d, sc.Err()
}

// med is the median of a measurement's wall times (NaN when it has none).
func (d *data) med(name string) float64 { return median(d.wall[name]) }

// medCPU is the median of its CPU times.
func (d *data) medCPU(name string) float64 { return median(d.cpu[name]) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// own is seconf's own time in each run of name: its wall time less the
// transaction inside it (inner, as seconf -v logged it, one a run).
func (d *data) own(name, inner string) []float64 {
	var out []float64
	in := d.wall[inner]
	for i, w := range d.wall[name] {
		if i < len(in) {
			out = append(out, w-in[i])
		}
	}
	return out
}

// read returns a tool output bench/run left beside the samples ("" if none).
func (d *data) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(d.dir, name))
	return string(b)
}

// ms writes µs as the tables do: 0.1 ms steps below 10 ms, whole ms below
// a second, then seconds.
func ms(us float64) string {
	switch {
	case math.IsNaN(us):
		return "–"
	case us < 10000:
		return fmt.Sprintf("%.1f ms", us/1000)
	case us < 1e6:
		return fmt.Sprintf("%.0f ms", us/1000)
	}
	return fmt.Sprintf("%.2f s", us/1e6)
}

func ratio(a, b float64) string { return fmt.Sprintf("%.2f", a/b) }

func yesno(ok bool) string {
	if ok {
		return "**yes**"
	}
	return "**no**"
}

// gobench is the time per op, in µs, of benchmark name in go test -bench
// output (NaN if it is not there).
func gobench(out, name string) float64 {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[3] == "ns/op" && trimProcs(f[0]) == "Benchmark"+name {
			if ns, err := strconv.ParseFloat(f[2], 64); err == nil {
				return ns / 1000
			}
		}
	}
	return math.NaN()
}

// trimProcs drops go test's -GOMAXPROCS suffix from a benchmark's name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// syscalls sums an strace -c summary: opens / stats / directory reads /
// programs run.
func syscalls(summary string) string {
	var o, s, dr, e int
	for _, l := range strings.Split(summary, "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		calls, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		switch name := f[len(f)-1]; {
		case name == "openat" || name == "open":
			o += calls
		case strings.Contains(name, "stat"):
			s += calls
		case name == "getdents64":
			dr += calls
		case name == "execve":
			e += calls
		}
	}
	return fmt.Sprintf("%d / %d / %d / %d", o, s, dr, e)
}
