package main

import (
	"fmt"
	"io"
	"strconv"
)

// settings writes SETTINGS.md from bench/settings' samples.
func settings(w io.Writer, d *data) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	in := d.info
	secs := func(us float64) string { return fmt.Sprintf("%.2f", us/1e6) }
	sample, err := strconv.Atoi(in["SAMPLE"])
	if err != nil || sample < 1 {
		return fmt.Errorf("settings.tsv: SAMPLE %q is not a positive number", in["SAMPLE"])
	}
	bools, _ := strconv.Atoi(in["booleans"])
	first, floor := d.med("settings.first"), d.med("settings.floor")
	own := median(d.own("settings.first", "settings.first.import"))
	// Ansible's run includes its start-up (about a second): charged once, the
	// rest shared evenly by its 2 × SAMPLE items; 60 file contexts and ports,
	// and one semanage command per boolean.
	ansible, booleans := d.med("settings.ansible"), d.med("settings.booleans")
	separate := ansible/float64(2*sample)*60 + booleans/float64(sample)*float64(bools)

	p("# Settings benchmark")
	p("")
	p("%s, %s CPUs, load %s; %d booleans, 50 file contexts, 10 ports; medians of %s (commits) and %s (no-change) runs. Written by `bench/settings` and `bench/report`.",
		in["date"], in["cpus"], in["load"], bools, in["RUNS"], in["FAST_RUNS"])
	p("")
	p("| what | time | against | ratio |")
	p("|---|---|---|---|")
	p("| first apply, seconf | %s s | one `semanage import -N` of the %d records: %s s | %s |", secs(first), bools+60, secs(floor), ratio(first, floor))
	p("| first apply, seconf's own time (without the import) | %s s | (floor + own) ÷ floor | %s |", secs(own), ratio(floor+own, floor))
	p("| commands the first apply ran | %s | | |", in["commits"])
	p("| one command per setting (Ansible's sefcontext/seport, one semanage boolean -m each; extrapolated from %d of each) | %s s | seconf's first apply | %s × slower |", sample, secs(separate), ratio(separate, first))
	p("| no-change apply | %s s | reading the four local files: %s s; `semanage export`: %s s | |", secs(d.med("settings.noop")), secs(d.med("settings.readfloor")), secs(d.med("settings.export")))
	p("| commands the no-change apply ran | %s | | |", in["execs"])
	p("")
	p("Ansible (%s): %d items (sefcontext, seport) in %s s, %s reported changed; %d `semanage boolean -m` in %s s.",
		in["ansible_version"], 2*sample, secs(ansible), in["ansible_changed"], sample, secs(booleans))
	p("Targets: first apply ≤ 1.2 × the one-import floor; ≥ 10 × faster than one command per setting; no command on the no-change path.")
	return nil
}
