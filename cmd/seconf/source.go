package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"seconf/engine"
	"seconf/host"
	"seconf/internal/gitsource"
	"seconf/internal/lazyre"
	"seconf/modules/selinux"
)

// sourceOptions are --source and the flags that go with it.
type sourceOptions struct {
	spec           string
	allowedSigners string
	path           string
	allowRewind    bool
}

func (so *sourceOptions) set() bool { return so.spec != "" }

// addSourceFlags adds --source, --allowed-signers and --path to c; oneOff
// adds --allow-rewind too, which a timer must never carry.
func addSourceFlags(c *cobra.Command, so *sourceOptions, oneOff bool) {
	f := c.Flags()
	f.StringVar(&so.spec, "source", "", "take the configuration from git instead of PATH: an https, http, ssh, git or file `git+URL[#REF]`, REF a branch or tag (default: the remote's HEAD)")
	f.StringVar(&so.allowedSigners, "allowed-signers", "", "with --source: the keys a commit must be signed by, an SSH allowed-signers `FILE` (ssh-keygen(1)) or OpenPGP public keys (gpg --export)")
	f.StringVar(&so.path, "path", "", "with --source: the configuration's `DIR` inside the repository (default its top)")
	if oneOff {
		f.BoolVar(&so.allowRewind, "allow-rewind", false, "with --source: accept a commit that does not descend from the last good one (history rewritten on purpose, another repository)")
	}
}

// pathArgs is the positional arguments' rule of plan and apply: PATH...,
// or none with --source, which replaces them.
func (o *options) pathArgs(c *cobra.Command, args []string) error {
	if o.source.set() {
		if len(args) > 0 {
			return fmt.Errorf("--source replaces PATH: give one or the other (--path DIR names a directory inside the repository)")
		}
		return nil
	}
	for _, name := range []string{"allowed-signers", "path", "allow-rewind"} {
		if f := c.Flags().Lookup(name); f != nil && f.Changed {
			return fmt.Errorf("--%s goes with --source", name)
		}
	}
	return cobra.MinimumNArgs(1)(c, args)
}

// sourceSection is the state record's section for the source.
const sourceSection = "source"

// Results of a run from a source, as the state record and status say them.
const (
	resultApplied     = "applied"      // the ref's commit is applied
	resultFailed      = "failed"       // its apply failed; the last good one was applied again
	resultRefused     = "refused"      // not signed by an allowed key, not descending, or not checked out
	resultFetchFailed = "fetch-failed" // the ref could not be fetched
	resultError       = "error"        // neither: the allowed signers, git, the disk
)

// sourceRecord is the source's section of the state record: how the last
// run went, and the last good commit. It changes only when the outcome
// does, so that a run that finds nothing new writes nothing.
type sourceRecord struct {
	Source string `json:"source"` // git+URL#REF, without credentials
	Path   string `json:"path,omitempty"`
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Since is when a run first had this outcome; later runs with the same
	// one leave it.
	Since time.Time `json:"since"`
	// Commit is the ref's commit on the last run that got one (fetched;
	// signed or not).
	Commit *gitsource.Commit `json:"commit,omitempty"`
	// Rollback is how applying the last good commit again went after
	// Commit failed: "succeeded", or the error.
	Rollback string `json:"rollback,omitempty"`
	// Good is the last commit whose apply succeeded: what the host runs.
	Good *goodCommit `json:"last_good,omitempty"`
}

type goodCommit struct {
	gitsource.Commit
	Applied time.Time `json:"applied"`
	// Signers is the sha256 of the allowed-signers file the commit was
	// verified against: while both stay the same, so does the answer.
	Signers string `json:"allowed_signers_sha256,omitempty"`
}

func loadSourceRecord(st *engine.State) (*sourceRecord, error) {
	var rec *sourceRecord
	if err := st.Section(sourceSection, &rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// elapsed is how long curl says it tried ("Failed to connect to h port
// 443 after 130004 ms", "Operation timed out after 300001 milliseconds"),
// which differs from one failed fetch to the next.
var elapsed = lazyre.New(`\bafter [0-9]+ (ms|milliseconds)\b`)

// sameOutcome reports whether two records say the same but for Since, and
// for how long the fetch took to fail: a server down for a day is one
// outcome, since the first run that found it down.
func sameOutcome(a, b *sourceRecord) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Since, y.Since = time.Time{}, time.Time{}
	x.Error, y.Error = elapsed.ReplaceAllString(x.Error, "after some time"), elapsed.ReplaceAllString(y.Error, "after some time")
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// saveSourceRecord writes rec into the state record unless the outcome is
// the one already there, and returns the error to report, if any.
func saveSourceRecord(h *host.Host, old, rec *sourceRecord) error {
	if sameOutcome(old, rec) {
		return nil
	}
	rec.Since = time.Now().UTC()
	st, err := engine.LoadState(h)
	if err != nil {
		return err
	}
	if err := st.SetSection(sourceSection, rec); err != nil {
		return err
	}
	if err := st.Save(h); err != nil {
		return fmt.Errorf("save state record: %w", err)
	}
	return nil
}

// newSource checks the flags. Open makes seconf's repository.
func (o *options) newSource(h *host.Host) (*gitsource.Source, error) {
	spec, err := gitsource.Parse(o.source.spec)
	if err != nil {
		return nil, err
	}
	if o.source.allowedSigners == "" {
		return nil, fmt.Errorf("--source needs --allowed-signers FILE: the keys its commits must be signed by")
	}
	signers, err := filepath.Abs(o.source.allowedSigners)
	if err != nil {
		return nil, err
	}
	p, err := gitsource.CleanPath(o.source.path)
	if err != nil {
		return nil, err
	}
	return &gitsource.Source{Host: h, Spec: spec, AllowedSigners: signers, Path: p}, nil
}

// sourceErr says what a failed run means for the host.
func sourceErr(spec string, err error, good *goodCommit) error {
	stays := "nothing was changed"
	if good != nil {
		stays += fmt.Sprintf("; the host stays on commit %s", gitsource.Short(good.ID))
	}
	return fmt.Errorf("source %s: %w; %s", spec, err, stays)
}

// fetchVerified fetches the ref and checks its commit: signed by an
// allowed key and, unless --allow-rewind, descending from the last good
// commit. It returns the commit and its checkout. The error says whether
// it is the fetch or the commit that failed.
func (o *options) fetchVerified(ctx context.Context, src *gitsource.Source, old *sourceRecord) (*gitsource.Commit, string, error) {
	var good *goodCommit
	if old != nil {
		good = old.Good
	}
	id, err := src.Fetch(ctx)
	if err != nil {
		return nil, "", err
	}
	digest, err := src.SignersDigest()
	if err != nil {
		return nil, "", err
	}
	var c gitsource.Commit
	if good != nil && good.ID == id && old.Path == src.Path && good.Signers == digest {
		// The commit, directory and allowed signers of the last good run:
		// its verification and tree stand. A key taken out of the file
		// changes the digest, and the commit is verified again.
		c = good.Commit
	} else if c, err = src.Verify(ctx, id); err != nil {
		return &gitsource.Commit{ID: id}, "", err
	}
	if good != nil && !o.source.allowRewind {
		ok, err := src.Descends(ctx, id, good.ID)
		if err != nil {
			return &c, "", err
		}
		if !ok {
			return &c, "", &gitsource.RefusedError{Commit: id, Reason: fmt.Sprintf(
				"it does not descend from the last good commit %s (the ref moved backwards or its history was rewritten); to accept it, apply it once with --allow-rewind",
				gitsource.Short(good.ID))}
		}
	}
	dir, err := src.Checkout(ctx, &c)
	if err != nil {
		return &c, "", err
	}
	return &c, dir, nil
}

func (o *options) sourceLine(spec string, c *gitsource.Commit) {
	if o.json {
		return
	}
	fmt.Fprintf(o.stdout, "Source %s: commit %s, signed by %s (%s).\n", spec, gitsource.Short(c.ID), c.Signer, c.Key)
}

// runSourcePlan plans the ref's commit against the host, recording nothing.
func (o *options) runSourcePlan(ctx context.Context) error {
	ctx, cancel := signalContext(ctx)
	defer cancel()
	h, err := o.host()
	if err != nil {
		return err
	}
	defer h.Close()
	unlock, err := h.Lock(ctx, o.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	src, err := o.newSource(h)
	if err != nil {
		return err
	}
	if err := src.Open(ctx); err != nil {
		return err
	}
	st, err := engine.LoadState(h)
	if err != nil {
		return err
	}
	rec, err := loadSourceRecord(st)
	if err != nil {
		return err
	}
	c, dir, err := o.fetchVerified(ctx, src, rec)
	if err != nil {
		return fmt.Errorf("source %s: %w", src.Spec.Redacted(), err)
	}
	o.sourceLine(src.Spec.Redacted(), c)
	return o.runPlan(ctx, []string{dir})
}

// runSourceApply is apply --source: fetch, verify, check out, apply, and
// on failure apply the last good commit again. Everything happens under
// the apply lock, so that two runs never share the repository.
func (o *options) runSourceApply(ctx context.Context) error {
	ctx, cancel := signalContext(ctx)
	defer cancel()
	h, err := o.host()
	if err != nil {
		return err
	}
	defer h.Close()
	unlock, err := h.Lock(ctx, o.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	src, err := o.newSource(h)
	if err != nil {
		return err
	}
	st, err := engine.LoadState(h)
	if err != nil {
		return err
	}
	old, err := loadSourceRecord(st)
	if err != nil {
		return err
	}
	spec := src.Spec.Redacted()
	rec := &sourceRecord{Source: spec, Path: src.Path}
	if old != nil {
		rec.Good, rec.Commit, rec.Since = old.Good, old.Commit, old.Since
	}
	var runs []json.RawMessage
	finish := func(runErr error) error {
		if err := saveSourceRecord(h, old, rec); err != nil && runErr == nil {
			runErr = err
		}
		if o.json {
			doc := struct {
				Source *sourceRecord     `json:"source"`
				Runs   []json.RawMessage `json:"runs"`
			}{rec, runs}
			if doc.Runs == nil {
				doc.Runs = []json.RawMessage{}
			}
			enc := json.NewEncoder(o.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil && runErr == nil {
				runErr = err
			}
			if runErr != nil {
				fmt.Fprintln(o.stderr, "Error:", runErr)
				return exitError{1}
			}
		}
		return runErr
	}

	// A run that cannot even start (the allowed signers are not root's
	// alone, no git) is recorded too: a dashboard must see it.
	err = src.Open(ctx)
	var c *gitsource.Commit
	var dir string
	if err == nil {
		c, dir, err = o.fetchVerified(ctx, src, old)
	}
	if err != nil {
		var fe *gitsource.FetchError
		var re *gitsource.RefusedError
		rec.Error = err.Error()
		switch {
		case errors.As(err, &fe):
			rec.Result = resultFetchFailed
		case errors.As(err, &re):
			rec.Result, rec.Commit = resultRefused, c
		default:
			rec.Result = resultError
		}
		return finish(sourceErr(spec, err, rec.Good))
	}
	rec.Commit = c
	o.sourceLine(spec, c)

	// apply runs one configuration directory through its own engine (a
	// fresh provider: nothing cached from the other commit) on this host,
	// under the lock held here.
	apply := func(dir string) error {
		cfg, err := o.load([]string{dir})
		if err != nil {
			return fmt.Errorf("the configuration does not load: %s", firstError(o.lastDiags, dir))
		}
		sel := selinux.New()
		defer sel.Close()
		e := &engine.Engine{Host: h, Providers: providers(sel)}
		if !o.json {
			return o.applyConfig(ctx, e, cfg)
		}
		var buf bytes.Buffer
		saved := o.stdout
		o.stdout = &buf
		err = o.applyConfig(ctx, e, cfg)
		o.stdout = saved
		if buf.Len() > 0 {
			runs = append(runs, json.RawMessage(bytes.TrimSpace(buf.Bytes())))
		}
		return err
	}

	applyErr := apply(dir)
	if applyErr == nil {
		rec.Result, rec.Error, rec.Rollback = resultApplied, "", ""
		digest, err := src.SignersDigest()
		if err == nil && (rec.Good == nil || rec.Good.ID != c.ID || rec.Good.Tree != c.Tree || rec.Good.Signers != digest) {
			if rec.Good == nil || rec.Good.ID != c.ID {
				err = src.KeepGood(ctx, c.ID)
			}
			applied := time.Now().UTC()
			if rec.Good != nil && rec.Good.ID == c.ID {
				applied = rec.Good.Applied
			}
			rec.Good = &goodCommit{Commit: *c, Applied: applied, Signers: digest}
		}
		if err == nil {
			err = src.Prune(c.Tree)
		}
		return finish(err)
	}
	// describe says in a line why an apply failed: the error, or what
	// applyConfig printed instead of returning it.
	describe := func(err error, dir string) string {
		var ee exitError
		switch {
		case !errors.As(err, &ee):
			return err.Error()
		case o.lastDiags.HasErrors():
			return "the plan failed: " + firstError(o.lastDiags, dir)
		case len(runs) > 0:
			// --json: the error is in the run's document.
			var doc jsonDoc
			json.Unmarshal(runs[len(runs)-1], &doc)
			if doc.Apply != nil && doc.Apply.Error != "" {
				return doc.Apply.Error
			}
		}
		return "the apply failed"
	}
	msg := describe(applyErr, dir)
	rec.Result, rec.Error = resultFailed, msg
	good := rec.Good
	switch {
	case good == nil:
		src.Prune(c.Tree)
		return finish(fmt.Errorf("source %s: commit %s failed: %s; no commit has applied here before, so there is none to go back to", spec, gitsource.Short(c.ID), msg))
	case good.ID == c.ID && good.Tree == c.Tree:
		// The last good commit itself (a drift it could not correct):
		// there is nothing better to go back to. The same commit at
		// another --path is another configuration, and goes back.
		src.Prune(c.Tree, good.Tree)
		return finish(fmt.Errorf("source %s: commit %s, the last good one, failed to apply again: %s", spec, gitsource.Short(c.ID), msg))
	}
	if !o.json {
		fmt.Fprintf(o.stdout, "Source %s: commit %s failed; applying the last good commit %s again.\n", spec, gitsource.Short(c.ID), gitsource.Short(good.ID))
	}
	gdir, err := o.goodCheckout(ctx, src, good)
	if err == nil {
		if err = apply(gdir); err != nil {
			err = errors.New(describe(err, gdir))
		}
	}
	src.Prune(c.Tree, good.Tree)
	if err != nil {
		rec.Rollback = err.Error()
		return finish(fmt.Errorf("source %s: commit %s failed: %s; applying the last good commit %s again failed too: %v", spec, gitsource.Short(c.ID), msg, gitsource.Short(good.ID), err))
	}
	rec.Rollback = "succeeded"
	return finish(fmt.Errorf("source %s: commit %s failed: %s; the host is back on the last good commit %s", spec, gitsource.Short(c.ID), msg, gitsource.Short(good.ID)))
}

// goodCheckout is the last good commit's checkout, made again from the
// repository if it went missing. It is not verified again: it was when it
// was applied, and it is the host's known state.
func (o *options) goodCheckout(ctx context.Context, src *gitsource.Source, good *goodCommit) (string, error) {
	c := good.Commit
	dir, err := src.Checkout(ctx, &c)
	if err != nil {
		return "", fmt.Errorf("check out the last good commit %s: %w", gitsource.Short(good.ID), err)
	}
	return dir, nil
}

// firstError is the first error of diags in a line, its file named
// relative to the checkout dir, for the state record.
func firstError(diags hcl.Diagnostics, dir string) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			file := d.Subject.Filename
			if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = rel
			}
			msg = fmt.Sprintf("%s:%d: %s", file, d.Subject.Start.Line, msg)
		}
		return strings.ReplaceAll(msg, "\n", " ")
	}
	return "see the errors above"
}
