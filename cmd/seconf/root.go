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
	"seconf/host"
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
	source      sourceOptions        // --source and its flags (source.go)
	lastDiags   hcl.Diagnostics      // of the last load or plan, for the source's record
	// cached is what the parse cache made of the configuration
	// (config.LoadCached): a new entry, which apply stores (plan only reads
	// the cache), or a hit that may say the configuration validated.
	cached config.Cached
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "seconf",
		Short: "Configure SELinux policy, confined containers and their files on a host from HCL",
		Long: `seconf reads a configuration (a .hcl file or a directory of them) that declares
SELinux policy modules, booleans, file contexts and ports, containers (each
under its SELinux type, or one seconf generates with confine = true), their
images, files, secrets and mounts; compares it with the host, and converges
the host: policy in one semodule transaction, files and units written
atomically. A second apply with nothing changed does nothing.

With --root DIR, seconf works offline on the tree under DIR (its policy store,
its /etc, its state record) and never touches the running system: this is how
image builds and tests use it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// A bad flag names the command whose help lists the good ones.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&o.root, "root", "", "work offline on the tree under `DIR` instead of the live host: no policy load, no D-Bus (--root / works offline on /, as in an image build)")
	root.PersistentPreRun = func(c *cobra.Command, _ []string) { o.offline = c.Flags().Changed("root") }
	pf.StringArrayVar(&o.vars, "var", nil, "set a variable, `NAME=VALUE` (repeatable; SECONF_VAR_NAME works too)")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "log every command seconf runs to stderr")
	pf.BoolVar(&o.noColor, "no-color", false, "no colour in output (also when NO_COLOR is set or stdout is not a terminal)")

	validate := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check a configuration without looking at the host",
		Long: `validate parses the configuration and has every provider check its own
blocks, as plan would, without reading the host: what it refuses, plan refuses
too, with the file and line. Warnings are printed and do not fail it.
Exit status: 0 valid, 1 not.`,
		Args: cobra.MinimumNArgs(1),
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
			fmt.Fprintf(o.stdout, "The configuration is valid: %s.\n", blockCounts(cfg))
			return nil
		},
	}

	plan := &cobra.Command{
		Use:   "plan {PATH... | --source git+URL[#REF] --allowed-signers FILE}",
		Short: "Show what apply would change, changing nothing",
		Long: `plan compares the configuration with the host and prints what apply would do.
Exit status: 0 success, 1 error; with --detailed-exitcode, 0 no changes,
1 error, 2 changes pending.

With --source, the configuration is the ref's commit, fetched, verified and
checked out as apply would (into seconf's cache under /var/lib/seconf/source),
and nothing is recorded.`,
		Args: o.pathArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if o.source.set() {
				return o.runSourcePlan(c.Context())
			}
			return o.runPlan(c.Context(), args)
		},
	}
	plan.Flags().BoolVar(&o.detailed, "detailed-exitcode", false, "exit 2 when changes are pending, 0 when there are none")
	plan.Flags().BoolVar(&o.refresh, "refresh-images", false, "ask the registries what the containers' image tags point at now, and warn where that is not the pinned or local image (needs skopeo)")

	apply := &cobra.Command{
		Use:   "apply {PATH... | --source git+URL[#REF] --allowed-signers FILE}",
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
the policy store, which only root can.

With --source git+URL[#REF] --allowed-signers FILE instead of PATH, the
configuration comes from git: seconf fetches the ref, refuses a commit that is
not signed by a key in FILE or that does not descend from the last good
commit (unless --allow-rewind), checks it out and applies it. A fetch failure
or a refusal changes nothing on the host. When the apply fails, seconf applies
the last good commit again, so that the host is left as it was; status shows
both commits and why.`,
		Args: o.pathArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if o.source.set() {
				return o.runSourceApply(c.Context())
			}
			return o.runApply(c.Context(), args)
		},
	}

	for _, c := range []*cobra.Command{plan, apply} {
		c.Flags().BoolVar(&o.json, "json", false, "print the plan (and the apply result) as one JSON document")
		c.Flags().BoolVar(&o.diff, "diff", false, "show the unified diff of what changes (policy CIL, unit files)")
		c.Flags().DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "how long to wait for another seconf holding the lock (plan takes it only with --source)")
		addSourceFlags(c, &o.source, true)
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

// varMap reads the --var flags. An error does not quote the flag: it may
// be a secret whose "NAME=" was forgotten.
func (o *options) varMap() (map[string]string, error) {
	m := map[string]string{}
	for i, kv := range o.vars {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("--var number %d has no '=': write --var NAME=VALUE", i+1)
		case k == "":
			return nil, fmt.Errorf("--var number %d has no name before '=': write --var NAME=VALUE", i+1)
		}
		m[k] = v
	}
	return m, nil
}

// load reads the configuration and prints its diagnostics.
func (o *options) load(paths []string) (*config.Config, error) { return o.loadFor(paths, nil) }

// loadFor is load for a run on host h, which keeps the parse cache in its
// state directory (nil: no cache).
func (o *options) loadFor(paths []string, h *host.Host) (*config.Config, error) {
	vars, err := o.varMap()
	if err != nil {
		return nil, err
	}
	opts := config.Options{Vars: vars, Environ: os.Environ()}
	var cfg *config.Config
	var files map[string]*hcl.File
	var diags hcl.Diagnostics
	o.cached = config.Cached{} // nothing of an earlier load carries over
	if h == nil {
		cfg, files, diags = config.Load(paths, opts)
	} else {
		// A cache that cannot be read is no cache: the files are parsed.
		entry, _ := h.FS.ReadPrivate(host.ParseCachePath)
		cfg, files, o.cached, diags = config.LoadCached(paths, opts, entry)
	}
	o.files, o.lastDiags = files, diags
	if len(diags) > 0 {
		o.printDiags(o.stderr, diags)
	}
	if diags.HasErrors() {
		return nil, exitError{1}
	}
	return cfg, nil
}

// blockCounts names how many blocks of each kind cfg declares, the kinds it
// has none of left out.
func blockCounts(cfg *config.Config) string {
	var parts []string
	for _, k := range []struct {
		kind string
		n    int
	}{
		{config.KindModule, len(cfg.Modules)}, {config.KindBoolean, len(cfg.Booleans)},
		{config.KindFContext, len(cfg.FContexts)}, {config.KindPort, len(cfg.Ports)},
		{config.KindFile, len(cfg.Files)}, {config.KindDirectory, len(cfg.Directories)},
		{config.KindSecret, len(cfg.Secrets)}, {config.KindMount, len(cfg.Mounts)},
		{config.KindVolume, len(cfg.Volumes)}, {config.KindNetwork, len(cfg.Networks)},
		{config.KindContainer, len(cfg.Containers)},
	} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k.n, k.kind))
		}
	}
	if parts == nil {
		return "it declares nothing"
	}
	return strings.Join(parts, ", ")
}

// maxDiags is how many diagnostics are printed: a file that is not HCL at
// all can make thousands, and the first ones say what is wrong.
const maxDiags = 50

// printDiags writes diagnostics as hcl does: file, line, the source line
// and what to change.
func (o *options) printDiags(out io.Writer, diags hcl.Diagnostics) {
	w := hcl.NewDiagnosticTextWriter(out, config.Parsed(o.files), 100, o.color(out))
	more := 0
	if len(diags) > maxDiags {
		diags, more = diags[:maxDiags], len(diags)-maxDiags
	}
	w.WriteDiagnostics(diags)
	if more > 0 {
		fmt.Fprintf(out, "... and %d more. Fix the first ones, which may cause the rest.\n", more)
	}
}

// planDiags prints a plan's diagnostics: errors on stderr, and an error
// return; warnings with the plan, on stdout, unless the plan is JSON.
func (o *options) planDiags(diags hcl.Diagnostics) error {
	o.lastDiags = diags
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
		units.New(units.Section, mount.Source{}, container.VolumeSource, container.NetworkSource, container.NewSource())}
}

// open loads the configuration and makes the engine for one command; done
// releases the engine and the signal handler.
func (o *options) open(ctx context.Context, paths []string) (context.Context, *config.Config, *engine.Engine, func(), error) {
	ctx, cancel := signalContext(ctx)
	// The host first, for its parse cache; the configuration's errors are
	// still reported before a bad root's.
	e, done, hostErr := o.newEngine()
	var h *host.Host
	if hostErr == nil {
		h = e.Host
	}
	cfg, err := o.loadFor(paths, h)
	if err == nil {
		err = hostErr
	}
	if err == nil {
		e.Validated = o.cached.Validated
	}
	if err != nil {
		if done != nil {
			done()
		}
		cancel()
		return nil, nil, nil, nil, err
	}
	return ctx, cfg, e, func() { done(); cancel() }, nil
}

// saveParseCache stores a new parse cache entry (apply, holding the lock),
// marked validated when p's providers had nothing to say of it. A cache
// that cannot be written costs the next run a parse, nothing else.
func (o *options) saveParseCache(h *host.Host, p *engine.Planned) {
	if o.cached.Drop {
		h.FS.Remove(host.ParseCachePath)
		return
	}
	if e := o.cached.Entry; e != nil {
		if p.Validated {
			e = config.MarkValidated(e)
		}
		h.FS.WriteFile(host.ParseCachePath, e, 0o600)
		o.cached.Entry = nil
	}
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
	return o.applyConfig(ctx, e, cfg)
}

// applyConfig plans and applies cfg, printing both, under the lock the
// caller holds.
func (o *options) applyConfig(ctx context.Context, e *engine.Engine, cfg *config.Config) error {
	p, diags := e.Plan(ctx, cfg)
	if err := o.planDiags(diags); err != nil {
		return err
	}
	if !o.json {
		o.printPlan(p.Plan)
	}
	res, applyErr := e.Apply(ctx, p)
	if applyErr == nil {
		// Only a configuration that applied is cached: a refused or
		// failed one leaves no more on the root than it did.
		o.saveParseCache(e.Host, p)
	}
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
