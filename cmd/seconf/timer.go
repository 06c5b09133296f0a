package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/gitsource"
	"seconf/modules/timer"
	"seconf/modules/units"
)

// timerOptions are the flags of `seconf timer install`.
type timerOptions struct {
	every    time.Duration
	seconf   string
	source   sourceOptions
	writable []string
}

func newTimerCommand(o *options) *cobra.Command {
	to := &timerOptions{}
	cmd := &cobra.Command{
		Use:   "timer",
		Short: "Install or remove the timer that re-converges this host",
		Long: `The convergence timer runs "seconf apply PATH..." (or "seconf apply --source
..." to take the configuration from git) a few minutes after every boot and
then at a fixed interval, with a random delay so that a fleet does not
converge in lockstep. Its two units, ` + timer.Service + ` and ` + timer.Timer + `,
are owned by seconf like any unit it writes: header line, state record.`,
	}
	install := &cobra.Command{
		Use:   "install {PATH... | --source git+URL[#REF] --allowed-signers FILE [--path DIR]}",
		Short: "Write, enable and start " + timer.Timer,
		Long: `install writes ` + timer.Service + ` (a oneshot running
"seconf apply PATH...", hardened) and ` + timer.Timer + `, enables the timer
and starts it: over D-Bus on the live host, by the timers.target.wants symlink
under --root. Run it again with other settings to change them; with the same
settings it changes nothing.

PATH is the configuration the timer applies, made absolute (under --root, give
it as the target host sees it). The service runs the seconf binary that runs
this command, unless --seconf-path names another. --var values are written
into the service, except those of sensitive variables (all of them when the
configuration cannot be read yet), which go to ` + timer.EnvFile + `
(mode 0600) and reach the service through EnvironmentFile=.

With --source instead of PATH, every run fetches the ref, verifies that its
commit is signed by a key in the --allowed-signers FILE (an absolute path on
the host) and descends from the last good commit, and applies it, falling back
to the last good commit when it fails (see seconf apply --help). The service
then waits for network-online.target and may use IPv4 and IPv6.

The service may write only where apply writes: seconf's own directories, the
engines' stores, and the directories of the configuration's file and directory
blocks as they are now. A source's configuration is not known at install:
give those directories with --writable DIR (repeatable), or a run that writes
a file block there fails with "read-only file system".`,
		Args: func(c *cobra.Command, args []string) error {
			if to.source.set() {
				if len(args) > 0 {
					return fmt.Errorf("--source replaces PATH: give one or the other")
				}
				return nil
			}
			for _, name := range []string{"allowed-signers", "path"} {
				if c.Flags().Changed(name) {
					return fmt.Errorf("--%s goes with --source", name)
				}
			}
			return cobra.MinimumNArgs(1)(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			return o.runTimerInstall(c.Context(), to, args)
		},
	}
	addSourceFlags(install, &to.source, false)
	install.Flags().DurationVar(&to.every, "every", timer.DefaultEvery, "time from the start of one converge to the next (at least 1m)")
	install.Flags().StringArrayVar(&to.writable, "writable", nil, "an absolute `DIR` the service may also write (file and directory blocks of a --source configuration); repeatable")
	install.Flags().StringVar(&to.seconf, "seconf-path", "", "absolute `PATH` of seconf on the host (default: this binary)")
	install.Flags().DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "how long to wait for another seconf holding the lock")

	remove := &cobra.Command{
		Use:   "remove",
		Short: "Stop, disable and delete the timer seconf installed",
		Long: `remove stops and disables ` + timer.Timer + ` and deletes both of its
units, if seconf installed them (the state record says so); anything else is
left alone.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return o.runTimerRemove(c.Context()) },
	}
	remove.Flags().DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "how long to wait for another seconf holding the lock")
	cmd.AddCommand(install, remove)
	return cmd
}

// timerSettings turns the flags and arguments into the timer's settings,
// checking what would make every run fail.
func (o *options) timerSettings(h *host.Host, to *timerOptions, args []string) (*timer.Settings, error) {
	s := &timer.Settings{Seconf: to.seconf, Every: to.every}
	if _, err := o.varMap(); err != nil {
		return nil, err
	}
	if s.Seconf == "" {
		exe, err := thisBinary()
		if err != nil {
			return nil, fmt.Errorf("cannot find this binary (%v): give --seconf-path", err)
		}
		if h.Offline() {
			// This binary's path is the build machine's, not the image's.
			fmt.Fprintf(o.stderr, "Warning: the service will run %s; give --seconf-path if the target host has seconf elsewhere.\n", exe)
		}
		s.Seconf = exe
	}
	if !path.IsAbs(s.Seconf) {
		return nil, fmt.Errorf("--seconf-path %s: give an absolute path", s.Seconf)
	}
	if h.Offline() && !h.FS.Exists(s.Seconf) {
		fmt.Fprintf(o.stderr, "Warning: %s does not exist under %s yet; the timer's runs fail until it does.\n", s.Seconf, h.Root)
	}
	for _, d := range to.writable {
		if !filepath.IsAbs(d) || filepath.Clean(d) != d {
			return nil, fmt.Errorf("--writable %q: give an absolute, normalised directory", d)
		}
		if why, refused := config.WriteRefused(d); refused {
			return nil, fmt.Errorf("--writable %s: seconf does not write there: %s", d, why)
		}
		s.Writes = append(s.Writes, d)
	}
	if to.source.set() {
		if err := o.timerSource(h, to, s); err != nil {
			return nil, err
		}
		// The configuration arrives with each run: no variable can be told
		// apart from a sensitive one now, so every value is kept 0600.
		s.Vars, s.Secrets = splitVars(o.vars, nil)
		return s, nil
	}
	for _, p := range args {
		if h.Offline() {
			// A relative path means nothing on the target host.
			if !filepath.IsAbs(p) {
				return nil, fmt.Errorf("%s: with --root, give the configuration's absolute path on the target host", p)
			}
		} else {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			p = abs
		}
		s.Paths = append(s.Paths, filepath.Clean(p))
	}
	// A configuration that does not load now would fail every run: say so
	// at install time. Offline, it is read from under the root.
	var paths []string
	missing := false
	for _, p := range s.Paths {
		rp, err := h.FS.Path(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(rp); err != nil {
			missing = true
		}
		paths = append(paths, rp)
	}
	var cfg *config.Config
	switch {
	case missing && h.Offline():
		fmt.Fprintf(o.stderr, "Warning: the configuration is not under %s yet; the timer's runs fail until it is.\n", h.Root)
	default:
		var err error
		if cfg, err = o.load(paths); err != nil {
			return nil, err
		}
		// The service may write only where apply writes: also where the
		// configuration's files and directories are.
		for _, f := range cfg.Files {
			s.Writes = append(s.Writes, path.Dir(f.Path))
		}
		for _, d := range cfg.Directories {
			s.Writes = append(s.Writes, path.Dir(d.Path), d.Path)
		}
	}
	s.Vars, s.Secrets = splitVars(o.vars, cfg)
	return s, nil
}

// splitVars separates the --var values of sensitive variables, which must
// not be written into the world-readable service. Without a configuration
// to tell (offline, before the configuration is in the image), every value
// is treated as sensitive.
func splitVars(vars []string, cfg *config.Config) (public, secret []string) {
	for _, kv := range vars {
		name, _, _ := strings.Cut(kv, "=")
		if cfg == nil || cfg.Variables[name] == nil || cfg.Variables[name].Sensitive {
			secret = append(secret, kv)
		} else {
			public = append(public, kv)
		}
	}
	return public, secret
}

// timerSource checks --source and its flags as every run would, without
// fetching: the first run says whether the repository answers.
func (o *options) timerSource(h *host.Host, to *timerOptions, s *timer.Settings) error {
	spec, err := gitsource.Parse(to.source.spec)
	if err != nil {
		return err
	}
	if spec.Credentials() {
		fmt.Fprintf(o.stderr, "Warning: the source URL carries credentials, which %s (world-readable) will hold; prefer a deploy key (ssh://) or an anonymous URL.\n", timer.Service)
	}
	signers := to.source.allowedSigners
	if signers == "" {
		return fmt.Errorf("--source needs --allowed-signers FILE: the keys its commits must be signed by")
	}
	if h.Offline() {
		if !filepath.IsAbs(signers) {
			return fmt.Errorf("--allowed-signers %s: with --root, give its absolute path on the target host", signers)
		}
	} else if signers, err = filepath.Abs(signers); err != nil {
		return err
	}
	signers = filepath.Clean(signers)
	if rp, err := h.FS.Path(signers); err != nil {
		return err
	} else if err := gitsource.CheckAllowedSigners(rp); err != nil {
		if !h.Offline() {
			return err
		}
		fmt.Fprintf(o.stderr, "Warning: %v; the timer's runs fail until it is there and root's alone.\n", err)
	}
	p, err := gitsource.CleanPath(to.source.path)
	if err != nil {
		return err
	}
	s.Source, s.AllowedSigners, s.SourcePath = spec.String(), signers, p
	return nil
}

// thisBinary is the path the service should run: the path this process was
// started by when it is absolute and names this binary, since os.Executable
// resolves symlinks and a /usr/local/bin/seconf link to a versioned file
// should keep working after an upgrade moves the link.
func thisBinary() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if arg0 := os.Args[0]; filepath.IsAbs(arg0) {
		a, errA := os.Stat(arg0)
		b, errB := os.Stat(exe)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return filepath.Clean(arg0), nil
		}
	}
	return exe, nil
}

// timerEngine is an engine whose only provider owns the timer: it neither
// sees nor prunes policy modules, containers or mounts.
func (o *options) timerEngine(s *timer.Settings) (*engine.Engine, error) {
	h, err := o.host()
	if err != nil {
		return nil, err
	}
	return &engine.Engine{Host: h, Providers: []engine.Provider{units.New(units.Section, timer.Source{Settings: s})}}, nil
}

func (o *options) host() (*host.Host, error) {
	var log io.Writer
	if o.verbose {
		log = o.stderr
	}
	if !o.offline {
		return host.New("/", host.Online, log)
	}
	h, err := host.New(o.root, host.Offline, log)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	return h, nil
}

func (o *options) runTimerInstall(ctx context.Context, to *timerOptions, args []string) error {
	h, err := o.host()
	if err != nil {
		return err
	}
	s, err := o.timerSettings(h, to, args)
	if err != nil {
		return err
	}
	if _, err := timer.Render(*s); err != nil {
		return err
	}
	return o.converge(ctx, s, "The convergence timer is installed as asked; nothing to do.")
}

func (o *options) runTimerRemove(ctx context.Context) error {
	return o.converge(ctx, nil, "seconf has no convergence timer installed here; nothing to do.")
}

// converge runs the timer's engine, under the apply lock since it writes
// the state record, and prints one line per action as apply does.
func (o *options) converge(ctx context.Context, s *timer.Settings, nothing string) error {
	ctx, cancel := signalContext(ctx)
	defer cancel()
	e, err := o.timerEngine(s)
	if err != nil {
		return err
	}
	defer e.Host.Close()
	unlock, err := e.Host.Lock(ctx, o.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	before, err := engine.LoadState(e.Host)
	if err != nil {
		return err
	}
	p, diags := e.Plan(ctx, &config.Config{})
	if err := o.planDiags(diags); err != nil {
		return err
	}
	if !p.Plan.Pending() {
		fmt.Fprintln(o.stdout, nothing)
		return nil
	}
	o.printPlan(p.Plan)
	res, applyErr := e.Apply(ctx, p)
	// The state record's last apply is the configuration's, which `seconf
	// status` reports: installing the timer is not an apply of it.
	if err := keepLast(e.Host, before.Last); err != nil && applyErr == nil {
		applyErr = err
	}
	if s == nil && applyErr == nil {
		tidy(e.Host)
	}
	o.printResult(res, applyErr)
	return applyErr
}

// keepLast puts back the state record's last apply summary.
func keepLast(h *host.Host, last *engine.ApplySummary) error {
	st, err := engine.LoadState(h)
	if err != nil {
		return err
	}
	st.Last = last
	if err := st.Save(h); err != nil {
		return fmt.Errorf("save state record: %w", err)
	}
	return nil
}

// tidy removes what the timer's removal left empty, so that a root that
// only ever had the timer is as before: the .wants directory (as systemctl
// disable does), the directory of environment files, and a state record
// that records nothing.
func tidy(h *host.Host) {
	h.FS.Remove(path.Join(host.UnitDir, timer.WantedBy+".wants")) // fails unless empty
	h.FS.Remove(host.EnvDir)                                      // made for the timer's secrets, if empty
	st, err := engine.LoadState(h)
	if err != nil || !st.Empty() {
		return
	}
	if h.FS.Remove(host.StatePath) == nil {
		h.FS.Remove(path.Dir(host.StatePath))
	}
}
