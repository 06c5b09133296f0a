package timer

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
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
}

// Source is the engine.UnitSource of the timer. With nil Settings it renders
// nothing, which makes its provider delete the timer it owns.
type Source struct {
	Settings *Settings
}

// Kind is the resource kind the source renders.
func (Source) Kind() string { return Kind }

// Units renders the timer as one unit: enabling and starting the .timer is
// what makes the .service run, so the .service has no [Install] of its own.
// cfg and h are not read: the timer depends only on its settings.
func (s Source) Units(*config.Config, *host.Host) ([]*engine.Unit, error) {
	if s.Settings == nil {
		return nil, nil
	}
	files, err := Render(*s.Settings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ID, err)
	}
	return []*engine.Unit{{
		ID:       ID,
		Name:     Timer,
		Files:    files,
		Enable:   true,
		WantedBy: []string{WantedBy},
		Start:    true,
	}}, nil
}

// Render returns the service and the timer file.
func Render(s Settings) ([]engine.File, error) {
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
	service := header(Service) + `
[Unit]
Description=Converge this host to its seconf configuration
# Started by ` + Timer + ` only; it has no [Install] of its own.

[Service]
Type=oneshot
ExecStart=` + exec + `
# A oneshot has no start timeout by default; a hung run would stop the timer.
TimeoutStartSec=1h
# Hardening that leaves seconf its job (see modules/timer/doc.go): read-only
# but for what apply writes, no NoNewPrivileges= (semodule and load_policy
# need their SELinux domain transitions), /sys writable (policy load).
ProtectSystem=strict
ReadWritePaths=/etc/systemd/system /run -/etc/selinux -/var/lib/selinux -/etc/containers -/etc/seconf
StateDirectory=seconf
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_NETLINK
SystemCallArchitectures=native
`
	timer := header(Timer) + `
[Unit]
Description=Converge this host to its seconf configuration every ` + every + `

[Timer]
# Once after boot (which also catches up after downtime), then every
# interval after the last run. No Persistent=: it only applies to OnCalendar=.
OnBootSec=` + span(BootDelay) + `
OnUnitActiveSec=` + every + `
# Each run waits a random time up to this, so that a fleet does not converge
# in lockstep.
RandomizedDelaySec=` + span(s.Every/6) + `

[Install]
WantedBy=` + WantedBy + `
`
	return []engine.File{
		{Path: path.Join(host.UnitDir, Service), Data: []byte(service), Mode: 0o644},
		{Path: path.Join(host.UnitDir, Timer), Data: []byte(timer), Mode: 0o644},
	}, nil
}

// header is the first line, engine.Header first: it is how seconf knows
// the file is its own.
func header(name string) string {
	return fmt.Sprintf("%s (%s): `seconf timer install` wrote %s; edits are overwritten, `seconf timer remove` removes it.\n",
		engine.Header, ID, name)
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

// execLine writes an Exec line: each word as systemd's parser reads it back.
func execLine(words []string) (string, error) {
	out := make([]string, len(words))
	for i, w := range words {
		q, err := execWord(w, i == 0)
		if err != nil {
			return "", err
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}

// execWord makes s one word of an Exec line. systemd splits the line with
// extract_first_word(UNQUOTE|CUNESCAPE), so a word beyond plain characters
// is double-quoted with \ and " escaped. It expands specifiers (%) in every
// word, so % is doubled; it expands environment variables ($) in the
// arguments but not in the executable's path (systemd-analyze verify looks
// for a literal "$$"), so $ is doubled in arguments only. Control characters
// cannot be carried on a unit file line and are refused.
func execWord(s string, executable bool) (string, error) {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%q holds a control character, which a unit file cannot carry", s)
	}
	s = strings.ReplaceAll(s, "%", "%%")
	if !executable {
		s = strings.ReplaceAll(s, "$", "$$")
	}
	plain := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_./:=,+@%$", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plain(r) }) < 0 {
		return s, nil
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}
