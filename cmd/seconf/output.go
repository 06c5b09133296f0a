package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"golang.org/x/term"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var actionColor = map[engine.Action]string{
	engine.Create: "\x1b[32m", engine.Update: "\x1b[33m", engine.Restart: "\x1b[33m",
	engine.Delete: "\x1b[31m", engine.Forget: "\x1b[35m",
}

func (o *options) printPlan(p *engine.Plan) {
	color := o.color(o.stdout)
	if !p.Pending() {
		fmt.Fprintln(o.stdout, "No changes. The host matches the configuration.")
		return
	}
	width := 0
	for _, c := range p.Changes {
		if c.Action != engine.NoOp && len(c.ID) > width {
			width = len(c.ID)
		}
	}
	for _, c := range p.Changes {
		if c.Action == engine.NoOp {
			continue
		}
		mark, end := "", ""
		if color {
			mark, end = actionColor[c.Action], "\x1b[0m"
		}
		fmt.Fprintf(o.stdout, "%s%3s %-8s %-*s%s  (%s)\n", mark, c.Action.Symbol(), c.Action, width, c.ID, end, c.Reason)
		if o.diff {
			if d := c.Diff(); d != "" {
				fmt.Fprint(o.stdout, indent(d, "      "))
			}
		}
	}
	n := p.Counts()
	fmt.Fprintf(o.stdout, "Plan: %d to create, %d to update, %d to restart, %d to delete.\n",
		n[engine.Create], n[engine.Update], n[engine.Restart], n[engine.Delete])
	if n[engine.Forget] > 0 {
		fmt.Fprintf(o.stdout, "%d resource(s) seconf no longer manages will be forgotten and left on the host as they are.\n", n[engine.Forget])
	}
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "")
}

// printResult writes one line per applied change, so that journald (timer,
// cloud-init) keeps a line an action with its resource ID.
func (o *options) printResult(res *engine.Result, err error) {
	for _, c := range res.Applied {
		fmt.Fprintf(o.stdout, "%s: %s done\n", c.ID, c.Action)
	}
	if err != nil {
		fmt.Fprintf(o.stdout, "Apply failed after %d change(s); run apply again once the cause is fixed.\n", len(res.Applied))
		return
	}
	fmt.Fprintf(o.stdout, "Apply complete: %d change(s).\n", len(res.Applied))
}

type jsonChange struct {
	ID        string `json:"id"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	Diff      string `json:"diff,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// jsonDiag is a diagnostic as --json prints it.
type jsonDiag struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

func jsonDiags(diags hcl.Diagnostics) []jsonDiag {
	var out []jsonDiag
	for _, d := range diags {
		jd := jsonDiag{Severity: "warning", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			jd.Severity = "error"
		}
		if d.Subject != nil {
			jd.File, jd.Line, jd.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, jd)
	}
	return out
}

type jsonDoc struct {
	Plan struct {
		Changes     []jsonChange `json:"changes"`
		Pending     bool         `json:"pending"`
		Diagnostics []jsonDiag   `json:"diagnostics,omitempty"`
	} `json:"plan"`
	Apply *struct {
		Applied []string `json:"applied"`
		Error   string   `json:"error,omitempty"`
	} `json:"apply,omitempty"`
}

func writeJSON(w io.Writer, p *engine.Plan, res *engine.Result, diff bool) error {
	var d jsonDoc
	d.Plan.Changes = []jsonChange{}
	for _, c := range p.Changes {
		jc := jsonChange{ID: c.ID, Action: string(c.Action), Reason: c.Reason, Sensitive: c.Sensitive}
		if diff && c.Action != engine.NoOp {
			jc.Diff = c.Diff()
		}
		d.Plan.Changes = append(d.Plan.Changes, jc)
	}
	d.Plan.Pending = p.Pending()
	d.Plan.Diagnostics = jsonDiags(p.Diags)
	if res != nil {
		d.Apply = &struct {
			Applied []string `json:"applied"`
			Error   string   `json:"error,omitempty"`
		}{Applied: []string{}, Error: res.Error}
		for _, c := range res.Applied {
			d.Apply.Applied = append(d.Apply.Applied, c.ID)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func (o *options) runFmt(path string) error {
	files, diags := config.SourceFiles(path)
	if diags.HasErrors() {
		o.printDiags(o.stderr, diags)
		return exitError{1}
	}
	o.files = map[string]*hcl.File{}
	unformatted := 0
	for _, f := range files {
		// Read as validate reads: regular files only, pre-scanned, so that
		// fmt neither hangs on a FIFO nor crashes in the parser.
		src, diags := config.ReadFile(f)
		if diags.HasErrors() {
			o.printDiags(o.stderr, diags)
			return exitError{1}
		}
		o.files[f] = &hcl.File{Bytes: src}
		// Format only valid HCL: formatting broken input would hide the error.
		if _, diags := hclwrite.ParseConfig(src, f, hcl.InitialPos); diags.HasErrors() {
			o.printDiags(o.stderr, diags)
			return exitError{1}
		}
		out := hclwrite.Format(src)
		if string(out) == string(src) {
			continue
		}
		unformatted++
		fmt.Fprintln(o.stdout, f)
		if !o.check {
			if err := rewrite(f, out); err != nil {
				return err
			}
		}
	}
	if o.check && unformatted > 0 {
		return exitError{3}
	}
	return nil
}

// rewrite replaces the file f names with data, atomically, as the same
// file: through a symbolic link (replacing the link with a copy would cut
// it from what it shares, as gofmt and terraform fmt do not), with its
// mode, and with its owner when root rewrites another user's file.
func rewrite(f string, data []byte) error {
	target, err := filepath.EvalSymlinks(f)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		return (host.FS{}).WriteFileAttrs(target, data, host.Attrs{Perm: st.Mode().Perm(), UID: int(sys.Uid), GID: int(sys.Gid)})
	}
	// Not root: the new file is the user's, as a file the user writes is.
	return (host.FS{}).WriteFile(target, data, st.Mode().Perm())
}

func buildVersion() (string, string) {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && c != "" && !strings.HasSuffix(c, "-dirty") {
				c += "-dirty"
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}
