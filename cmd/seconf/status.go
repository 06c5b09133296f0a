package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"seconf/engine"
	"seconf/modules/timer"
	"seconf/modules/units"
)

func newStatusCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status PATH...",
		Short: "Show the last apply and what differs from the configuration now",
		Long: `status reads the state record for the last apply (when it ran, what it
changed, what failed) and whether seconf's convergence timer is installed, then
plans the configuration against the host without changing anything: the drift.
Exit status: 0, or with --detailed-exitcode 2 when the host has drifted; 1 on
error.`,
		Args: cobra.MinimumNArgs(1),
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
	Drift     struct {
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
}

func (o *options) runStatus(ctx context.Context, paths []string) error {
	ctx, cfg, e, done, err := o.open(ctx, paths)
	if err != nil {
		return err
	}
	defer done()
	st, err := engine.LoadState(e.Host)
	if err != nil {
		return err
	}
	p, diags := e.Plan(ctx, cfg)
	if err := o.planDiags(diags); err != nil {
		return err
	}
	var doc statusDoc
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
	}
	doc.Drift.Pending = p.Plan.Pending()
	doc.Drift.Diagnostics = jsonDiags(p.Plan.Diags)
	doc.Drift.Changes = []jsonChange{}
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
	if o.json {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		o.printStatus(&doc, time.Now())
		o.printPlan(p.Plan)
	}
	if o.detailed && doc.Drift.Pending {
		return exitError{2}
	}
	return nil
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
	if d.Timer.Installed {
		fmt.Fprintf(o.stdout, "Convergence timer: %s installed by seconf.\n", d.Timer.Unit)
	} else {
		fmt.Fprintln(o.stdout, "Convergence timer: not installed (seconf timer install PATH).")
	}
	fmt.Fprintln(o.stdout, "Drift:")
}
