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
	Kind     = "timer"
	ID       = Kind + ".seconf-converge"
	Service  = "seconf-converge.service"
	Timer    = "seconf-converge.timer"
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
	// Every is the time from the start of one run to the next; 0 means
	// DefaultEvery.
	Every time.Duration
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
			out = append(out, "-"+unitfile.Specifiers(p))
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
	if len(s.Paths) == 0 {
		return nil, fmt.Errorf("no configuration path")
	}
	cmd := []string{s.Seconf, "apply", "--lock-timeout=" + LockTimeout.String()}
	for _, v := range s.Vars {
		cmd = append(cmd, "--var="+v)
	}
	// "--" keeps a configuration path that starts with "-" from being a flag.
	cmd = append(cmd, "--")
	cmd = append(cmd, s.Paths...)
	for _, p := range append([]string{s.Seconf}, s.Paths...) {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%q is not an absolute path: the timer runs from /", p)
		}
	}
	exec, err := execLine(cmd)
	if err != nil {
		return nil, err
	}
	every := span(s.Every)
	service := unitfile.New(header(Service))
	service.Add("Unit", "Description", "Converge this host to its seconf configuration")
	service.Comment("Unit", "Started by "+Timer+" only; it has no [Install] of its own.")
	service.Add("Service", "Type", "oneshot")
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
		{"RestrictAddressFamilies", "AF_UNIX AF_NETLINK AF_INET AF_INET6"},
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
	return []units.File{
		{Path: path.Join(host.UnitDir, Service), Data: service.Bytes(), Mode: 0o644},
		{Path: path.Join(host.UnitDir, Timer), Data: timer.Bytes(), Mode: 0o644},
	}, nil
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
