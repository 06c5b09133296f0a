package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// results writes RESULTS.md from bench/run's samples.
func results(w io.Writer, d *data) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	in := d.info
	sizes := strings.Fields(in["SIZES"])
	dirty := ""
	if n, _ := strconv.Atoi(in["source_dirty"]); n > 0 {
		dirty = fmt.Sprintf(" with %d uncommitted changes outside bench/", n)
	}
	ansible := "already installed"
	if s := in["ansible_install"]; s != "" {
		ansible = s
	}

	p("# Benchmarks (issue #7)")
	p("")
	p("Written by `bench/run` and `bench/report` on %s: %s, %s cores,", in["started"], in["os"], in["cores"])
	p("kernel %s, policycoreutils %s,", in["kernel"], in["policycoreutils"])
	p("ansible-core %s, %s; %s min in all.", in["ansible_core"], in["go"], in["minutes"])
	p("Source measured: commit %s%s.", in["source_rev"], dirty)
	p("Private roots (copies of the machine's policy store) only; `semodule -p ROOT -n`, `seconf --root ROOT`.")
	p("")
	p("Medians. Runs: %s of each measurement that commits the policy, %s of each", in["RUNS"], in["FAST_RUNS"])
	p("no-change run and of `semodule -l`, %s of the Ansible no-change run, %s of each", in["PEER_RUNS"], in["plan_runs"])
	p("1,000-resource CLI run. The machine is shared (other engineers' work), so timings drift:")
	var loads []string
	for _, k := range append(append([]string{"example_first", "example_nochange"}, prefixed("n", sizes)...), "plan", "gotest", "end") {
		if l := in["load."+k]; l != "" {
			loads = append(loads, strings.ReplaceAll(k, "_", " ")+" "+l)
		}
	}
	p("load average (1, 5, 15 min) at the start of each part: %s.", strings.Join(loads, "; "))
	p("Ansible: %s (`apt-get install -y --no-install-recommends ansible`).", ansible)
	p("")
	p("The example is `examples/container-logger` (module `container_logger`, one container);")
	if in["container_policy"] == "true" {
		p("on Debian 12 with `examples/debian12-container-policy` (refpolicy's `container` module, priority 200) in the same configuration, so 2 modules.")
	}
	p("N is N CIL modules (`bench/gen modules`: each declares a type, a container domain) and N containers, each")
	p("running under its module's type: N unit files.")
	p("")

	// 1. The timer's run.
	p("## 1. The timer's run: no-change apply against its floor")
	p("")
	p("Floor: `semodule -l` (one process listing the store) plus reading the unit files (bash's `mapfile`,")
	p("no process). Target: seconf ≤ 1.5 × `semodule -l` + reading the units.")
	p("")
	p("| configuration | `semodule -l` | read units | target | seconf no-change apply | × `semodule -l` | target met |")
	p("|---|---:|---:|---:|---:|---:|:---:|")
	rows := []struct{ label, key string }{{"example", "ex"}}
	for _, n := range sizes {
		rows = append(rows, struct{ label, key string }{"N = " + n, "n" + n})
	}
	for _, r := range rows {
		l, rd, no := d.med(r.key+".l"), d.med(r.key+".read"), d.med(r.key+".noop.seconf")
		target := 1.5*l + rd
		p("| %s | %s | %s | %s | %s | %s | %s |", r.label, ms(l), ms(rd), ms(target), ms(no), ratio(no, l), yesno(no <= target))
	}
	p("")
	p("The same runs in CPU time (user + system of the process and its children, from bash's `times`, in")
	p("1 ms steps), which a shared machine's load disturbs less than wall time:")
	p("")
	p("| configuration | `semodule -l` | read units | target | seconf no-change apply | × `semodule -l` | target met |")
	p("|---|---:|---:|---:|---:|---:|:---:|")
	for _, r := range rows {
		l, rd, no := d.medCPU(r.key+".l"), d.medCPU(r.key+".read"), d.medCPU(r.key+".noop.seconf")
		target := 1.5*l + rd
		p("| %s | %s | %s | %s | %s | %s | %s |", r.label, ms(l), ms(rd), ms(target), ms(no), ratio(no, l), yesno(no <= target))
	}
	p("")
	p("For scale: `semodule -lfull -m` (every module's checksum, what a tool without seconf's direct")
	p("store reads runs) %s; `seconf version` (the process alone: start, package", ms(d.med("ex.lfull")))
	p("init, no work) %s, %s of CPU.", ms(d.med("ex.version")), ms(d.medCPU("ex.version")))
	p("")

	// 2. The first apply.
	p("## 2. The first apply against one policy transaction")
	p("")
	p("Floor: one `semodule -p ROOT -n -i … -i …` of the same modules (for the example, the .pp files")
	p("compiled beforehand). Separate: one `semodule -i` per module, as one-module-at-a-time tools do.")
	p("Target: seconf ≤ 1.2 × the floor. Commit times drift between runs by more than seconf's own")
	p("work, so besides the ratio of medians the table gives seconf's own time: each run's wall time less")
	p("the `semodule` transaction inside it (as `seconf -v` logs it), and (floor + own) ÷ floor, which")
	p("decides the target.")
	p("")
	p("| configuration | one transaction (floor) | seconf first apply | × floor | seconf's own time | (floor + own) ÷ floor | target met | N separate `semodule -i` | separate ÷ floor |")
	p("|---|---:|---:|---:|---:|---:|:---:|---:|---:|")
	firstRow := func(label, key string, separate float64, note string) {
		fl, first, own := d.med(key+".first.floor"), d.med(key+".first.seconf"), median(d.own(key+".first.seconf", key+".first.seconf.semodule"))
		est := (fl + own) / fl
		sep, sepRatio := "", ""
		if !math.IsNaN(separate) {
			sep, sepRatio = ms(separate), ratio(separate, fl)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s%s | %s |", label, ms(fl), ms(first), ratio(first, fl), ms(own), ratio(est, 1), yesno(est <= 1.2), sep, note, sepRatio)
	}
	firstRow("example", "ex", math.NaN(), "")
	// The largest N timed call by call gives the per-call time the larger
	// ones are extrapolated from.
	sepN, perCall := "", math.NaN()
	for _, n := range sizes {
		if len(d.wall["n"+n+".separate"]) > 0 {
			sepN, perCall = n, d.med("n"+n+".call")
		}
	}
	for _, n := range sizes {
		k := "n" + n
		switch nn, _ := strconv.Atoi(n); {
		case nn == 1:
			firstRow("N = "+n, k, d.med(k+".first.floor"), " (= the floor: one call)")
		case len(d.wall[k+".separate"]) > 0:
			firstRow("N = "+n, k, d.med(k+".separate"), fmt.Sprintf(" (1 run; median call %s)", ms(d.med(k+".call"))))
		case sepN != "":
			firstRow("N = "+n, k, perCall*float64(nn), fmt.Sprintf(" **extrapolated**: %s × the median call at N = %s", n, sepN))
		default:
			firstRow("N = "+n, k, math.NaN(), "")
		}
	}
	p("")
	p("The example's seconf first apply includes compiling its .te sources (devel Makefile, pp to CIL),")
	p("which the floor does not (it gets the .pp files): compiling them alone takes %s.", ms(d.med("ex.compile")))
	p("")

	// 3. The peer.
	exFirst, exNoop := d.med("ex.first.seconf"), d.med("ex.noop.seconf")
	peerFirst, peerNoop := d.med("ex.first.peer"), d.med("ex.noop.peer")
	p("## 3. The peer: the same job as an Ansible playbook")
	p("")
	p("`bench/peer/logger.yml`, `ansible-playbook -c local` against a private root: builds each module with")
	p("the devel Makefile, compares the sha256 of its CIL with `semodule -lfull -m`, installs it with")
	p("`semodule -p ROOT -n -X PRIO -i` (one task iteration, so one transaction, per module) when it differs,")
	p("copies the unit file and makes the `multi-user.target.wants` link. Neither tool reloads systemd or")
	p("starts the unit offline (the playbook's handler is skipped; `seconf --root` has no D-Bus).")
	p("Both left the same modules with the same checksums in their roots: %s.", in["same_job"])
	p("")
	p("| run | seconf apply | ansible-playbook | Ansible ÷ seconf |")
	p("|---|---:|---:|---:|")
	p("| first (compile, install, write) | %s | %s | %s |", ms(exFirst), ms(peerFirst), ratio(peerFirst, exFirst))
	p("| no change (the timer's run) | %s | %s | %s |", ms(exNoop), ms(peerNoop), ratio(peerNoop, exNoop))
	exEst := d.med("ex.first.floor") + median(d.own("ex.first.seconf", "ex.first.seconf.semodule"))
	p("")
	p("The playbook's first run makes one policy commit per module, seconf's one in all. With seconf's")
	p("first apply taken as the floor plus its own time (%s, free of the drift in commit", ms(exEst))
	p("times), the first-run ratio is %s.", ratio(peerFirst, exEst))
	p("")

	// 4. 1,000 resources.
	plan := d.read("gobench.plan.txt")
	p("## 4. The engine's own cost: 1,000 resources")
	p("")
	p("`bench/gen units`: 500 mounts and 500 containers, each container with a volume on its mount.")
	p("No policy store and no module: no command runs, this is parse, graph, render and diff.")
	p("")
	p("| run | CLI (`seconf …`) | in process (`go test -bench`) |")
	p("|---|---:|---:|")
	p("| plan, nothing on disk (1,000 creates) | %s | %s |", ms(d.med("u.plan.create")), ms(gobench(plan, "Plan1000/create")))
	p("| plan, no change (reads 1,000 unit files) | %s | %s |", ms(d.med("u.plan.noop")), ms(gobench(plan, "Plan1000/nochange")))
	p("| apply, no change | %s | |", ms(d.med("u.apply.noop")))
	p("| reading the 1,000 unit files (bash `mapfile`) | %s | |", ms(d.med("u.read")))
	p("")

	// 5. Where the no-change time goes.
	p("## 5. Where the no-change time goes")
	p("")
	p("System calls of one no-change run (`strace -f -c`): opens / stats / directory reads / programs run.")
	p("")
	p("| run | opens / stats / dir reads / execs |")
	p("|---|---|")
	p("| `semodule -l` | %s |", syscalls(d.read("strace.l.txt")))
	p("| seconf, example | %s |", syscalls(d.read("strace.ex.txt")))
	for _, n := range sizes {
		p("| seconf, N = %s | %s |", n, syscalls(d.read("strace.n"+n+".txt")))
	}
	files := d.read("files.ex.txt")
	p("")
	p("File system calls of the example's no-change run: %d, of which", lines(files, ""))
	p("%d on `/usr/share/selinux/devel/include` (the compile cache's tool chain fingerprint).", lines(files, "devel/include"))
	p("")
	noop := gobench(d.read("gobench.noop.txt"), "NoChangeApplyExample")
	p("In process, the whole no-change apply of the example: %s", ms(noop))
	p("(`BenchmarkNoChangeApplyExample`), against %s for the CLI (the difference is the", ms(exNoop))
	p("process: start, loading the binary, package init). At N modules and containers")
	p("(`BenchmarkNoChangeApplyN`):")
	p("")
	p("| N | in process | CLI | the process's share |")
	p("|---|---:|---:|---:|")
	nout := d.read("gobench.n.txt")
	for _, n := range sizes {
		inproc, cli := gobench(nout, "NoChangeApplyN/N="+n), d.med("n"+n+".noop.seconf")
		p("| %s | %s | %s | %.0f %% |", n, ms(inproc), ms(cli), 100*(cli-inproc)/cli)
	}
	p("")
	p("The selinux provider's steps, one at a time (`BenchmarkNoChangeParts`, modules/selinux):")
	p("")
	p("| step | time | sizes |")
	p("|---|---:|---|")
	for _, l := range strings.Split(d.read("gobench.parts.txt"), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkNoChangeParts/") || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			continue
		}
		var sizes []string
		for i := 4; i+1 < len(f); i += 2 {
			sizes = append(sizes, f[i]+" "+f[i+1])
		}
		t := fmt.Sprintf("%.0f µs", ns/1000)
		if ns >= 1e6 {
			t = fmt.Sprintf("%.1f ms", ns/1e6)
		}
		p("| %s | %s | %s |", trimProcs(strings.TrimPrefix(f[0], "BenchmarkNoChangeParts/")), t, strings.Join(sizes, ", "))
	}
	p("")
	p("Steps under `if-changed/` are not on the no-change path: they run when a module or its state")
	p("record changed. A module's stored CIL is bzip2, and Go's `compress/bzip2` allocates and clears a")
	p("table for a whole 900 kB block for every reader, so decompressing even a 0.5 KiB module costs")
	p("about a millisecond.")
	p("")
	p("Where the playbook's no-change run goes (one more run with `profile_tasks`; each task starts")
	p("Python modules anew):")
	p("")
	p("```")
	prof := d.read("peer.profile.txt")
	if i := strings.Index(prof, "====="); i >= 0 {
		for _, l := range strings.Split(prof[i:], "\n")[1:] {
			if strings.TrimSpace(l) != "" {
				p("%s", l)
			}
		}
	}
	p("```")
	p("")

	// Raw samples.
	p("## Raw samples of the runs that commit the policy (seconds, in run order)")
	p("")
	p("| measurement | samples |")
	p("|---|---|")
	keys := []string{"ex.first.floor", "ex.first.seconf", "ex.first.seconf.own", "ex.first.peer", "ex.compile"}
	for _, n := range sizes {
		keys = append(keys, "n"+n+".first.floor", "n"+n+".first.seconf", "n"+n+".first.seconf.own", "n"+n+".call")
	}
	for _, k := range keys {
		xs := d.wall[k]
		if base, ok := strings.CutSuffix(k, ".own"); ok {
			xs = d.own(base, base+".semodule")
		}
		if len(xs) == 0 {
			continue
		}
		var s []string
		for _, x := range xs {
			s = append(s, fmt.Sprintf("%.2f", x/1e6))
		}
		p("| %s | %s |", k, strings.Join(s, " "))
	}
	return nil
}

func prefixed(prefix string, xs []string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, prefix+x)
	}
	return out
}

// lines counts the non-empty lines of text that contain sub.
func lines(text, sub string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if l != "" && strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
