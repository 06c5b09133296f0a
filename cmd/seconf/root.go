package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"seconf/config"
	"seconf/engine"
	"seconf/modules/container"
	"seconf/modules/files"
	"seconf/modules/images"
	"seconf/modules/mount"
	"seconf/modules/secrets"
	"seconf/modules/selinux"
	"seconf/modules/units"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = ""
	commit  = ""
)

type options struct {
	root        string
	offline     bool // --root was given
	vars        []string
	json        bool
	diff        bool
	verbose     bool
	noColor     bool
	lockTimeout time.Duration
	detailed    bool
	refresh     bool
	check       bool
	stdout      io.Writer
	stderr      io.Writer
	files       map[string]*hcl.File // the loaded configuration, for diagnostics
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "seconf",
		Short: "Configure SELinux policy modules, containers and mounts on a host from HCL",
		Long: `seconf reads a configuration (a .hcl file or a directory of them) that declares
SELinux policy modules, containers and mounts, compares it with the host, and
converges the host: policy in one semodule transaction, units written atomically.
A second apply with nothing changed does nothing.

With --root DIR, seconf works offline on the tree under DIR (its policy store,
its /etc, its state record) and never touches the running system: this is how
image builds and tests use it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&o.root, "root", "", "work offline on the tree under `DIR` instead of the live host: no policy load, no D-Bus (--root / works offline on /, as in an image build)")
	root.PersistentPreRun = func(c *cobra.Command, _ []string) { o.offline = c.Flags().Changed("root") }
	pf.StringArrayVar(&o.vars, "var", nil, "set a variable, `NAME=VALUE` (repeatable; SECONF_VAR_NAME works too)")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "log every command seconf runs to stderr")
	pf.BoolVar(&o.noColor, "no-color", false, "no colour in output (also when NO_COLOR is set or stdout is not a terminal)")

	validate := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check a configuration without looking at the host",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := o.load(args)
			if err != nil {
				return err
			}
			// Every provider checks its own blocks, as plan would, without
			// the host.
			sel := selinux.New()
			defer sel.Close()
			diags := (&engine.Engine{Providers: providers(sel)}).Validate(cfg)
			if len(diags) > 0 {
				o.printDiags(o.stderr, diags)
			}
			if diags.HasErrors() {
				return exitError{1}
			}
			fmt.Fprintf(o.stdout, "The configuration is valid: %d selinux_module, %d container, %d mount, %d volume, %d network, %d file, %d directory, %d secret.\n",
				len(cfg.Modules), len(cfg.Containers), len(cfg.Mounts), len(cfg.Volumes), len(cfg.Networks), len(cfg.Files), len(cfg.Directories), len(cfg.Secrets))
			return nil
		},
	}

	plan := &cobra.Command{
		Use:   "plan PATH...",
		Short: "Show what apply would change, changing nothing",
		Long: `plan compares the configuration with the host and prints what apply would do.
Exit status: 0 success, 1 error; with --detailed-exitcode, 0 no changes,
1 error, 2 changes pending.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return o.runPlan(c.Context(), args) },
	}
	plan.Flags().BoolVar(&o.detailed, "detailed-exitcode", false, "exit 2 when changes are pending, 0 when there are none")
	plan.Flags().BoolVar(&o.refresh, "refresh-images", false, "ask the registries what the containers' image tags point at now, and warn where that is not the pinned or local image (needs skopeo)")

	apply := &cobra.Command{
		Use:   "apply PATH...",
		Short: "Converge the host to the configuration",
		Long: `apply plans, prints the plan and carries it out without asking: policy modules
in one semodule transaction, then unit files. It holds a lock on the root, so a
second apply waits (up to --lock-timeout) and then fails naming the holder.
What seconf installs is recorded in /var/lib/seconf/state.json under the root;
only what is recorded there, and still is what seconf installed, is ever removed.

A selinux_module whose name the policy store already has (the distribution's
module, one installed by hand) is refused, unless the block sets
override = true: seconf then installs its own copy at a higher priority of its
own and leaves the other in place, to take over again when the block goes.
A selinux_module with no source and enabled = false disables the installed
module of that name; removing the block enables it again. plan and apply read
the policy store, which only root can.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return o.runApply(c.Context(), args) },
	}
	apply.Flags().DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "how long to wait for another seconf holding the lock")

	for _, c := range []*cobra.Command{plan, apply} {
		c.Flags().BoolVar(&o.json, "json", false, "print the plan (and the apply result) as one JSON document")
		c.Flags().BoolVar(&o.diff, "diff", false, "show the unified diff of what changes (policy CIL, unit files)")
	}

	fmtCmd := &cobra.Command{
		Use:   "fmt PATH",
		Short: "Rewrite configuration files in canonical HCL style",
		Long:  "fmt rewrites each .hcl file (PATH or the .hcl files in directory PATH) in canonical style.\nWith --check it changes nothing, lists the files that are not canonical, and exits 3 if any.",
		Args:  cobra.ExactArgs(1),
		RunE:  func(c *cobra.Command, args []string) error { return o.runFmt(args[0]) },
	}
	fmtCmd.Flags().BoolVar(&o.check, "check", false, "list files that are not canonical and exit 3 if any; write nothing")

	versionCmd := &cobra.Command{
		Use:   "version",
		Short: "Print seconf's version and commit",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, args []string) {
			v, cm := buildVersion()
			fmt.Fprintf(o.stdout, "seconf %s (commit %s)\n", v, cm)
		},
	}
	root.AddCommand(validate, plan, apply, fmtCmd, versionCmd)
	addOpsCommands(root, o)
	return root
}

func (o *options) varMap() (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range o.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: write NAME=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

// load reads the configuration and prints its diagnostics.
func (o *options) load(paths []string) (*config.Config, error) {
	vars, err := o.varMap()
	if err != nil {
		return nil, err
	}
	cfg, files, diags := config.Load(paths, config.Options{Vars: vars, Environ: os.Environ()})
	o.files = files
	if len(diags) > 0 {
		o.printDiags(o.stderr, diags)
	}
	if diags.HasErrors() {
		return nil, exitError{1}
	}
	return cfg, nil
}

// printDiags writes diagnostics as hcl does: file, line, the source line
// and what to change.
func (o *options) printDiags(out io.Writer, diags hcl.Diagnostics) {
	w := hcl.NewDiagnosticTextWriter(out, o.files, 100, o.color(out))
	w.WriteDiagnostics(diags)
}

// planDiags prints a plan's diagnostics: errors on stderr, and an error
// return; warnings with the plan, on stdout, unless the plan is JSON.
func (o *options) planDiags(diags hcl.Diagnostics) error {
	var errs, warns hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	if len(warns) > 0 && !o.json {
		o.printDiags(o.stdout, warns)
	}
	if len(errs) > 0 {
		o.printDiags(o.stderr, errs)
		return exitError{1}
	}
	return nil
}

// color reports whether w gets ANSI colour.
func (o *options) color(w io.Writer) bool {
	if o.noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

func (o *options) newEngine() (*engine.Engine, func(), error) {
	h, err := o.host()
	if err != nil {
		return nil, nil, err
	}
	// A pull draws its progress on a person's terminal (on stderr, which
	// keeps stdout for the plan and the result lines).
	if f, ok := o.stderr.(*os.File); ok && !o.json && isTerminal(f) {
		h.Progress = f
	}
	sel := selinux.New()
	e := &engine.Engine{Host: h, Providers: providers(sel)}
	return e, func() { sel.Close(); h.Close() }, nil
}

// providers are the configuration's providers in the order they apply:
// policy first, so that a unit never runs a container under a type whose
// module is not yet committed; then the files, secrets and images
// containers use, so that a unit never starts before them (nor waits on a
// pull); mounts before containers, whose volumes may need them. Deletions
// run in reverse: units stop before what they used goes.
func providers(sel *selinux.Provider) []engine.Provider {
	return []engine.Provider{sel, files.New(), secrets.New(), images.New(),
		units.New(units.Section, mount.Source{}, container.VolumeSource, container.NetworkSource, container.Source{})}
}

// open loads the configuration and makes the engine for one command; done
// releases the engine and the signal handler.
func (o *options) open(ctx context.Context, paths []string) (context.Context, *config.Config, *engine.Engine, func(), error) {
	ctx, cancel := signalContext(ctx)
	cfg, err := o.load(paths)
	if err != nil {
		cancel()
		return nil, nil, nil, nil, err
	}
	e, done, err := o.newEngine()
	if err != nil {
		cancel()
		return nil, nil, nil, nil, err
	}
	return ctx, cfg, e, func() { done(); cancel() }, nil
}

func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func (o *options) runPlan(ctx context.Context, paths []string) error {
	ctx, cfg, e, done, err := o.open(ctx, paths)
	if err != nil {
		return err
	}
	defer done()
	e.Advise = true
	e.Refresh = o.refresh
	p, diags := e.Plan(ctx, cfg)
	if err := o.planDiags(diags); err != nil {
		return err
	}
	if o.json {
		if err := writeJSON(o.stdout, p.Plan, nil, o.diff); err != nil {
			return err
		}
	} else {
		o.printPlan(p.Plan)
	}
	if o.detailed && p.Plan.Pending() {
		return exitError{2}
	}
	return nil
}

func (o *options) runApply(ctx context.Context, paths []string) error {
	ctx, cfg, e, done, err := o.open(ctx, paths)
	if err != nil {
		return err
	}
	defer done()
	unlock, err := e.Host.Lock(ctx, o.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	p, diags := e.Plan(ctx, cfg)
	if err := o.planDiags(diags); err != nil {
		return err
	}
	if !o.json {
		o.printPlan(p.Plan)
	}
	res, applyErr := e.Apply(ctx, p)
	if !p.Plan.Pending() {
		if o.json && applyErr == nil {
			return writeJSON(o.stdout, p.Plan, res, o.diff)
		}
		return applyErr
	}
	if o.json {
		if err := writeJSON(o.stdout, p.Plan, res, o.diff); err != nil {
			return err
		}
	} else {
		o.printResult(res, applyErr)
	}
	if applyErr != nil {
		if o.json {
			return exitError{1}
		}
		return applyErr
	}
	return nil
}
