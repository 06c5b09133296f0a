package timer

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/unitfile"
	"seconf/modules/units"
)

// Names of what the timer is made of.
const (
	Kind    = "timer"
	ID      = Kind + ".seconf-converge"
	Service = "seconf-converge.service"
	Timer   = "seconf-converge.timer"
	// EnvFile holds the sensitive --var values. It is where a container
	// named seconf-converge would keep its environment, but such a
	// container already clashes with the timer's service name, which the
	// units provider refuses.
	EnvFile  = host.EnvDir + "/seconf-converge.env"
	WantedBy = "timers.target"
)

// Defaults and limits of the schedule.
const (
	DefaultEvery = 30 * time.Minute
	// MinEvery keeps a typo (--every 30s) from running apply back to back.
	MinEvery = time.Minute
	// BootDelay is when the first converge after boot runs: late enough for
	// the boot to settle, early enough to catch up after downtime.
	BootDelay = 5 * time.Minute
	// LockTimeout is how long a timer run waits for another apply (one
	// from cloud-init or a person) before failing; long enough for a policy
	// rebuild, short of the next tick.
	LockTimeout = 15 * time.Minute
)

// Settings are what `seconf timer install` was asked for.
type Settings struct {
	// Seconf is the absolute path of the seconf binary on the host.
	Seconf string
	// Paths are the configuration's absolute paths on the host, applied
	// together as one configuration.
	Paths []string
	// Vars are NAME=VALUE pairs passed on as --var. They end up in a
	// world-readable unit file: no secrets.
	Vars []string
	// Secrets are NAME=VALUE pairs of sensitive variables. They go to
	// EnvFile (mode 0600) as SECONF_VAR_NAME, which the service reads with
	// EnvironmentFile=, and never into the unit.
	Secrets []string
	// Every is the time from the start of one run to the next; 0 means
	// DefaultEvery.
	Every time.Duration
	// Source, when set, is where each run takes the configuration from
	// (git+URL[#REF]) instead of Paths; AllowedSigners is the absolute
	// path of the keys its commits must be signed by, and SourcePath the
	// configuration's directory in the repository.
	Source         string
	AllowedSigners string
	SourcePath     string
	// Writes are further paths apply writes in, besides seconf's own
	// directories: the directories of the configuration's file and
	// directory blocks. Each may be missing (ReadWritePaths=-PATH).
	Writes []string
}

// writePaths is ReadWritePaths=: seconf's own directories, the engines'
// stores (image pulls, podman secrets), then the configuration's.
func writePaths(extra []string) string {
	out := []string{"/etc/systemd/system", "/run", "-/etc/selinux", "-/var/lib/selinux", "-/etc/containers", "-/etc/seconf",
		"-/var/lib/containers", "-/var/lib/docker"}
	seen := map[string]bool{}
	for _, p := range extra {
		if !seen[p] && path.IsAbs(p) {
			seen[p] = true
			// One word each: systemd splits the list on whitespace and
			// unquotes each word (a file block's directory may hold a space).
			out = append(out, unitfile.Quote("-"+unitfile.Specifiers(p)))
		}
	}
	return strings.Join(out, " ")
}

// Source is the units.Source of the timer. With nil Settings it renders
// nothing, which makes its provider delete the timer it owns.
type Source struct {
	Settings *Settings
}

// Kind is the resource kind the source renders.
func (Source) Kind() string { return Kind }

// Validate has nothing to check in a configuration: the timer's settings
// come from the command line and are checked by Render.
func (Source) Validate(*config.Config) hcl.Diagnostics { return nil }

// Units renders the timer as one unit: enabling and starting the .timer is
// what makes the .service run, so the .service has no [Install] of its own.
// The configuration and the host are not read: the timer depends only on
// its settings.
func (s Source) Units(context.Context, *config.Config, *host.Host) ([]*units.Unit, hcl.Diagnostics) {
	if s.Settings == nil {
		return nil, nil
	}
	files, err := Render(*s.Settings)
	if err != nil {
		return nil, engine.FromError(nil, "Invalid timer settings", fmt.Errorf("%s: %w", ID, err))
	}
	return []*units.Unit{{
		ID:       ID,
		Name:     Timer,
		Files:    files,
		Enable:   true,
		WantedBy: []string{WantedBy},
		Start:    true,
	}}, nil
}

// Render returns the service and the timer file.
func Render(s Settings) ([]units.File, error) {
	if s.Every == 0 {
		s.Every = DefaultEvery
	}
	if s.Every < MinEvery || s.Every%time.Second != 0 {
		return nil, fmt.Errorf("interval %s: give whole seconds, at least %s", s.Every, MinEvery)
	}
	cmd := []string{s.Seconf, "apply", "--lock-timeout=" + LockTimeout.String()}
	for _, v := range s.Vars {
		// The run would refuse what config refuses in any value: refuse it
		// now rather than fail every run.
		name, val, _ := strings.Cut(v, "=")
		if err := config.CheckValue("the value of --var "+name, val); err != nil {
			return nil, err
		}
		cmd = append(cmd, "--var="+v)
	}
	abs := []string{s.Seconf}
	switch {
	case s.Source != "" && len(s.Paths) > 0:
		return nil, fmt.Errorf("a source replaces the configuration paths: give one or the other")
	case s.Source != "":
		if s.AllowedSigners == "" {
			return nil, fmt.Errorf("a source needs its allowed signers")
		}
		// --flag=value: no value is ever read as a flag of its own.
		cmd = append(cmd, "--source="+s.Source, "--allowed-signers="+s.AllowedSigners)
		if s.SourcePath != "" {
			cmd = append(cmd, "--path="+s.SourcePath)
		}
		abs = append(abs, s.AllowedSigners)
	case len(s.Paths) == 0:
		return nil, fmt.Errorf("no configuration path")
	default:
		// "--" keeps a configuration path that starts with "-" from being a flag.
		cmd = append(cmd, "--")
		cmd = append(cmd, s.Paths...)
		abs = append(abs, s.Paths...)
	}
	for _, p := range abs {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%q is not an absolute path: the timer runs from /", p)
		}
		if err := config.CheckValue(fmt.Sprintf("the path %q", p), p); err != nil {
			return nil, err
		}
	}
	exec, err := execLine(cmd)
	if err != nil {
		return nil, err
	}
	env, err := envFile(s.Secrets)
	if err != nil {
		return nil, err
	}
	every := span(s.Every)
	service := unitfile.New(header(Service))
	service.Add("Unit", "Description", "Converge this host to its seconf configuration")
	service.Comment("Unit", "Started by "+Timer+" only; it has no [Install] of its own.")
	// The network: for the registries images are pulled from, and the
	// configuration's git source.
	families := "AF_UNIX AF_NETLINK AF_INET AF_INET6"
	if s.Source != "" {
		service.Comment("Unit", "Each run fetches the configuration: after the network is up.")
		service.Add("Unit", "Wants", "network-online.target")
		service.Add("Unit", "After", "network-online.target")
	}
	service.Add("Service", "Type", "oneshot")
	if env != nil {
		service.Comment("Service", "The sensitive --var values, as SECONF_VAR_NAME (mode 0600).")
		service.Add("Service", "EnvironmentFile", EnvFile)
	}
	service.Add("Service", "ExecStart", exec)
	service.Comment("Service", "A oneshot has no start timeout by default; a hung run would stop the timer.")
	service.Add("Service", "TimeoutStartSec", "1h")
	service.Comment("Service", `Hardening that leaves seconf its job (see modules/timer/doc.go): read-only
but for what apply writes, no NoNewPrivileges= (semodule and load_policy
need their SELinux domain transitions), /sys writable (policy load).`)
	for _, kv := range [][2]string{
		{"ProtectSystem", "strict"},
		{"ReadWritePaths", writePaths(s.Writes)},
		{"StateDirectory", "seconf"},
		{"ProtectHome", "read-only"},
		{"PrivateTmp", "yes"},
		{"ProtectKernelModules", "yes"},
		{"ProtectKernelLogs", "yes"},
		{"ProtectControlGroups", "yes"},
		{"ProtectHostname", "yes"},
		{"RestrictSUIDSGID", "yes"},
		{"RestrictRealtime", "yes"},
		{"LockPersonality", "yes"},
		{"RestrictAddressFamilies", families},
		{"SystemCallArchitectures", "native"},
	} {
		service.Add("Service", kv[0], kv[1])
	}
	timer := unitfile.New(header(Timer))
	timer.Add("Unit", "Description", "Converge this host to its seconf configuration every "+every)
	timer.Comment("Timer", `Once after boot (which also catches up after downtime), then every
interval after the last run. No Persistent=: it only applies to OnCalendar=.`)
	timer.Add("Timer", "OnBootSec", span(BootDelay))
	timer.Add("Timer", "OnUnitActiveSec", every)
	timer.Comment("Timer", `Each run waits a random time up to this, so that a fleet does not converge
in lockstep.`)
	timer.Add("Timer", "RandomizedDelaySec", span(s.Every/6))
	timer.Add("Install", "WantedBy", WantedBy)
	files := []units.File{
		{Path: path.Join(host.UnitDir, Service), Data: service.Bytes(), Mode: 0o644},
		{Path: path.Join(host.UnitDir, Timer), Data: timer.Bytes(), Mode: 0o644},
	}
	for _, f := range files {
		if n, key, length := unitfile.LongLine(f.Data, unitfile.LongLineMax); n > 0 {
			return nil, fmt.Errorf("the %s= line of %s would be %d bytes, and systemd does not load a unit with a line of 1 MiB or more (LONG_LINE_MAX): pass fewer or shorter --var values or paths", key, path.Base(f.Path), length)
		}
	}
	if env != nil {
		files = append(files, units.File{Path: EnvFile, Data: env, Mode: 0o600, Sensitive: true})
	}
	return files, nil
}

// envFile is the EnvironmentFile of the sensitive variables, or nil. Each
// value is double-quoted with \, ", ` and $ escaped: systemd's parser
// strips whitespace around unquoted values, and in double quotes unescapes
// exactly these. No error quotes a value.
func envFile(secrets []string) ([]byte, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("# " + header(path.Base(EnvFile)) + "\n")
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	for _, kv := range secrets {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !envName(name) {
			return nil, fmt.Errorf("the sensitive variable %q cannot be passed in an environment file: systemd takes only names of ASCII letters, digits and '_' not starting with a digit; rename the variable", name)
		}
		if err := config.CheckValue("the value of the sensitive variable "+name, val); err != nil {
			return nil, err
		}
		b.WriteString("SECONF_VAR_" + name + `="` + esc.Replace(val) + "\"\n")
	}
	return []byte(b.String()), nil
}

// envName is systemd's rule for a name in an environment file
// (env_name_is_valid): a shell variable name.
func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// header is the first line, without "# ": units.Header first, which is how
// seconf knows the file is its own.
func header(name string) string {
	return fmt.Sprintf("%s (%s): `seconf timer install` wrote %s; edits are overwritten, `seconf timer remove` removes it.",
		units.Header[2:], ID, name)
}

// span writes a duration as a systemd time span ("1h 30min").
func span(d time.Duration) string {
	d = d.Round(time.Second)
	if d == 0 {
		return "0"
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.d
		}
	}
	return strings.Join(parts, " ")
}

// execLine writes an Exec line: each word as systemd's parser reads it
// back. Control characters cannot be carried on a unit file line and are
// refused.
func execLine(words []string) (string, error) {
	for _, w := range words {
		if r, bad := unitfile.Control(w); bad {
			return "", fmt.Errorf("%q holds the control character %q, which a unit file cannot carry", w, r)
		}
	}
	return unitfile.NewCmdline(unitfile.Executable(words[0])).Add(words[1:]...).String(), nil
}
