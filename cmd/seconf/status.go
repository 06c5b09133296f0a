package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"seconf/engine"
	"seconf/host"
	"seconf/internal/gitsource"
	"seconf/modules/timer"
	"seconf/modules/units"
)

func newStatusCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [PATH...]",
		Short: "Show the last apply and what differs from the configuration now",
		Long: `status reads the state record for the last apply (when it ran, what it
changed, what failed) and whether seconf's convergence timer is installed, then
plans the configuration against the host without changing anything: the drift.

On a host that applies from a source (apply --source, timer install --source),
status also says how the last run went (the ref's commit, applied, failed and
rolled back, refused, or not fetched, and since when) and which commit was the
last good one; without PATH, the drift is against the last good commit's
checkout. status never fetches.

Exit status: 0, or with --detailed-exitcode 2 when the host has drifted, its
source's last run did not apply the ref's commit, or a file of the timer seconf
installed is gone; 1 on error.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error { return o.runStatus(c.Context(), args) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the status as one JSON document")
	cmd.Flags().BoolVar(&o.diff, "diff", false, "show the unified diff of what has drifted (in JSON too)")
	cmd.Flags().BoolVar(&o.detailed, "detailed-exitcode", false, "exit 2 when the host differs from the configuration")
	return cmd
}

// statusDoc is `seconf status --json`.
type statusDoc struct {
	LastApply *jsonSummary `json:"last_apply"`
	Timer     jsonTimer    `json:"timer"`
	// Source is how the last run from a source went, when there is one.
	Source *sourceRecord `json:"source,omitempty"`
	Drift  struct {
		// Checked is false when there was nothing to compare the host with
		// (a source none of whose commits has applied yet).
		Checked     bool         `json:"checked"`
		Pending     bool         `json:"pending"`
		Changes     []jsonChange `json:"changes"`
		Diagnostics []jsonDiag   `json:"diagnostics,omitempty"`
	} `json:"drift"`
}

type jsonSummary struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Changed  []string  `json:"changed"`
	Failed   string    `json:"failed,omitempty"`
}

type jsonTimer struct {
	Installed bool     `json:"installed"`
	Unit      string   `json:"unit,omitempty"`
	Files     []string `json:"files,omitempty"`
	// Missing are the files seconf wrote that are no longer there.
	Missing []string `json:"missing,omitempty"`
}

func (o *options) runStatus(ctx context.Context, paths []string) error {
	h, err := o.host()
	if err != nil {
		return err
	}
	defer h.Close()
	st, err := engine.LoadState(h)
	if err != nil {
		return err
	}
	var doc statusDoc
	if doc.Source, err = loadSourceRecord(st); err != nil {
		return err
	}
	unchecked := "no commit of the source has applied on this host yet"
	if len(paths) == 0 {
		dir, why, err := o.sourceStatusDir(h, doc.Source)
		if err != nil {
			return err
		}
		if why != "" {
			unchecked = why
		}
		if dir != "" {
			paths = []string{dir}
		}
	}
	if l := st.Last; l != nil {
		doc.LastApply = &jsonSummary{Started: l.Started, Finished: l.Finished, Changed: l.Changed, Failed: l.Failed}
		if doc.LastApply.Changed == nil {
			doc.LastApply.Changed = []string{}
		}
	}
	recs, err := units.Records(st, units.Section)
	if err != nil {
		return err
	}
	if u, ok := recs[timer.ID]; ok {
		doc.Timer = jsonTimer{Installed: true, Unit: u.Unit, Files: u.Files}
		for _, f := range u.Files {
			if !h.FS.Exists(f) {
				doc.Timer.Missing = append(doc.Timer.Missing, f)
			}
		}
	}
	doc.Drift.Changes = []jsonChange{}
	var plan *engine.Plan
	if len(paths) > 0 {
		ctx, cfg, e, done, err := o.open(ctx, paths)
		if err != nil {
			return err
		}
		defer done()
		p, diags := e.Plan(ctx, cfg)
		if err := o.planDiags(diags); err != nil {
			return err
		}
		plan = p.Plan
		doc.Drift.Checked = true
		doc.Drift.Pending = p.Plan.Pending()
		doc.Drift.Diagnostics = jsonDiags(p.Plan.Diags)
		for _, c := range p.Plan.Changes {
			if c.Action == engine.NoOp {
				continue
			}
			jc := jsonChange{ID: c.ID, Action: string(c.Action), Reason: c.Reason, Sensitive: c.Sensitive}
			if o.diff {
				jc.Diff = c.Diff()
			}
			doc.Drift.Changes = append(doc.Drift.Changes, jc)
		}
	}
	if o.json {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		o.printStatus(&doc, time.Now())
		if plan != nil {
			o.printPlan(plan)
		} else {
			fmt.Fprintf(o.stdout, "  not checked: %s.\n", unchecked)
		}
	}
	unconverged := doc.Drift.Pending || !doc.Drift.Checked || (doc.Source != nil && doc.Source.Result != resultApplied) || len(doc.Timer.Missing) > 0
	if o.detailed && unconverged {
		return exitError{2}
	}
	return nil
}

// sourceStatusDir is the configuration status compares the host with when
// no PATH is given: the last good commit's checkout. "" means there is
// none, yet (why is "") or any more (why says so).
func (o *options) sourceStatusDir(h *host.Host, rec *sourceRecord) (dir, why string, err error) {
	if rec == nil {
		return "", "", fmt.Errorf("give the configuration's PATH: this host records no source (seconf apply --source records one)")
	}
	if rec.Good == nil {
		return "", "", nil
	}
	src := &gitsource.Source{Host: h}
	if dir, err = src.CheckoutPath(rec.Good.Tree); err != nil {
		return "", "", err
	}
	if _, err := os.Stat(dir); err != nil {
		// The rest of the status (the last apply, the source's last run)
		// still holds: a dashboard needs it most now.
		return "", fmt.Sprintf("the last good commit %s is not checked out (%v); seconf apply --source checks it out again", gitsource.Short(rec.Good.ID), err), nil
	}
	return dir, "", nil
}

// printStatus writes the last apply and the timer, one fact a line, so that
// it reads the same in a terminal and in a log.
func (o *options) printStatus(d *statusDoc, now time.Time) {
	if l := d.LastApply; l == nil {
		fmt.Fprintln(o.stdout, "Last apply: none recorded (no apply has changed this host yet).")
	} else {
		outcome := "succeeded"
		if l.Failed != "" {
			outcome = "FAILED"
		}
		fmt.Fprintf(o.stdout, "Last apply: %s (%s ago), took %s, %s after %d change(s).\n",
			l.Started.UTC().Format(time.RFC3339), now.Sub(l.Started).Round(time.Second),
			l.Finished.Sub(l.Started).Round(time.Millisecond), outcome, len(l.Changed))
		for _, c := range l.Changed {
			fmt.Fprintf(o.stdout, "  %s\n", c)
		}
		if l.Failed != "" {
			fmt.Fprintf(o.stdout, "  error: %s\n", strings.ReplaceAll(l.Failed, "\n", " "))
		}
	}
	if d.Timer.Installed && len(d.Timer.Missing) > 0 {
		fmt.Fprintf(o.stdout, "Convergence timer: %s installed by seconf, but %s is gone: run seconf timer install again, or seconf timer remove.\n", d.Timer.Unit, strings.Join(d.Timer.Missing, " and "))
	} else if d.Timer.Installed {
		fmt.Fprintf(o.stdout, "Convergence timer: %s installed by seconf.\n", d.Timer.Unit)
	} else {
		fmt.Fprintln(o.stdout, "Convergence timer: not installed (seconf timer install PATH).")
	}
	if d.Source != nil {
		printSource(o.stdout, d.Source, now)
	}
	fmt.Fprintln(o.stdout, "Drift:")
}

// printSource writes the source's lines of status.
func printSource(w io.Writer, r *sourceRecord, now time.Time) {
	where := r.Source
	if r.Path != "" {
		where += " (directory " + r.Path + ")"
	}
	fmt.Fprintf(w, "Source: %s\n", where)
	since := fmt.Sprintf("since %s (%s ago)", r.Since.UTC().Format(time.RFC3339), now.Sub(r.Since).Round(time.Second))
	commit := func(c *gitsource.Commit) string {
		if c == nil {
			return "none"
		}
		s := gitsource.Short(c.ID)
		if c.Signer != "" {
			s += ", signed by " + c.Signer
		}
		return s
	}
	oneLine := func(s string) string { return strings.ReplaceAll(s, "\n", " ") }
	switch r.Result {
	case resultApplied:
		fmt.Fprintf(w, "  Last run: applied commit %s, %s.\n", commit(r.Commit), since)
	case resultFailed:
		fmt.Fprintf(w, "  Last run: FAILED to apply commit %s, %s: %s\n", commit(r.Commit), since, oneLine(r.Error))
		switch r.Rollback {
		case "":
		case "succeeded":
			fmt.Fprintf(w, "  Rolled back: the last good commit was applied again.\n")
		default:
			fmt.Fprintf(w, "  Rollback FAILED: %s\n", oneLine(r.Rollback))
		}
	case resultRefused:
		fmt.Fprintf(w, "  Last run: REFUSED %s: %s\n", since, oneLine(r.Error))
	case resultFetchFailed:
		fmt.Fprintf(w, "  Last run: FETCH FAILED %s: %s\n", since, oneLine(r.Error))
	case resultError:
		fmt.Fprintf(w, "  Last run: ERROR %s: %s\n", since, oneLine(r.Error))
	}
	if g := r.Good; g != nil {
		fmt.Fprintf(w, "  Last good: commit %s, applied %s; the host runs it.\n", commit(&g.Commit), g.Applied.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "  Last good: none yet.")
	}
}
