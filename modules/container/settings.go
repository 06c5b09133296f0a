package container

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"seconf/config"
	"seconf/internal/lazyre"
	"seconf/internal/unitfile"
)

// refusedSettings are systemd settings a container's service, unit or
// install map may not hold, each with the reason: seconf (or quadlet)
// writes them itself, or they would run the engine as someone else, in
// another root or security context, or change its environment, which is
// how containers.conf and so a container's confinement are chosen
// (CONTAINERS_CONF). Every other setting systemd knows passes.
var refusedSettings = map[string]map[string]string{
	"Service": group(
		"seconf writes the command lines of the unit",
		"ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost", "ExecReload", "ExecCondition",
	).and(group(
		"seconf sets how the engine runs under systemd (quadlet refuses other values too)",
		"Type", "NotifyAccess", "KillMode", "Delegate", "DelegateSubgroup", "PIDFile", "GuessMainPID",
		"RemainAfterExit", "BusName", "ExitType", "SyslogIdentifier",
	)).and(group(
		"write restart = \"always\" | \"on-failure\" | \"no\"",
		"Restart",
	)).and(group(
		"the engine's environment chooses its configuration (CONTAINERS_CONF, DOCKER_HOST) and so the container's confinement; the container's own environment is the environment attribute",
		"Environment", "EnvironmentFile", "PassEnvironment", "UnsetEnvironment",
	)).and(group(
		"the engine must run as root in the host's root and security context: containers' labels and files belong to root's engine",
		"User", "Group", "DynamicUser", "SupplementaryGroups", "PAMName",
		"SELinuxContext", "AppArmorProfile", "SmackProcessLabel", "SecureBits", "CapabilityBoundingSet", "AmbientCapabilities",
		"RootDirectory", "RootImage", "RootImageOptions", "RootImagePolicy", "RootVerity", "RootHash", "RootHashSignature", "RootEphemeral",
		"RootDirectoryStartOnly", "PermissionsStartOnly", "MountImages", "ExtensionImages", "ExtensionDirectories",
	)).and(group(
		"NoNewPrivileges= on the engine forbids the SELinux transition into the container's type; write no_new_privileges = true for the container instead",
		"NoNewPrivileges",
	)),
	"Unit": group("seconf writes it", "Description", "SourcePath"),
}

// installAllowed: offline, seconf enables a unit with WantedBy= links, as
// systemctl --root does; other [Install] settings would be honoured online
// only.
var installAllowed = []string{"WantedBy"}

// unitName is what a WantedBy= target may be called: a plain unit name,
// which is also a safe file name for the .wants link seconf makes offline.
var unitName = lazyre.New(`^[A-Za-z0-9:_.@-]+\.(target|service|socket|timer|path|slice|mount)$`)

type settingGroup map[string]string

func group(why string, keys ...string) settingGroup {
	g := settingGroup{}
	for _, k := range keys {
		g[k] = why
	}
	return g
}

func (g settingGroup) and(h settingGroup) settingGroup {
	for k, v := range h {
		g[k] = v
	}
	return g
}

// cgroupSetting reports a resource-control setting: for docker it would
// limit the docker client the unit runs, not the container, which the
// docker daemon starts in a cgroup of its own.
func cgroupSetting(k string) bool {
	for _, p := range []string{"CPU", "Memory", "IO", "BlockIO", "Tasks", "Allowed", "Startup", "DefaultMemory", "DefaultStartup", "ManagedOOM", "Device", "IPAddress", "IPAccounting", "IPIngress", "IPEgress"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// sections pairs a container's maps with their unit sections and
// attributes.
func (s *spec) sections() []struct {
	attr, section string
	settings      []config.SystemdSetting
} {
	return []struct {
		attr, section string
		settings      []config.SystemdSetting
	}{
		{"unit", "Unit", s.c.Unit},
		{"service", "Service", s.c.Service},
		{"install", "Install", s.c.Install},
	}
}

// settingAttr names a setting for an error: "service.KEY" points at the
// key's line.
func settingAttr(attr, key string) string { return attr + "." + key }

// checkSettings holds the service, unit and install maps to settings
// systemd knows for their section, minus those refusedSettings lists, with
// values systemd reads back as written.
func (s *spec) checkSettings() error {
	for _, sec := range s.sections() {
		for _, st := range sec.settings {
			at := settingAttr(sec.attr, st.Key)
			if unitfile.KeyExpansion(sec.section, st.Key) == unitfile.Unknown {
				return attrErr(at, "systemd has no [%s] setting %q (names are case-sensitive)", sec.section, st.Key)
			}
			if why, ok := refusedSettings[sec.section][st.Key]; ok {
				return attrErr(at, "%s.%s is refused: %s", sec.attr, st.Key, why)
			}
			if sec.section == "Install" {
				if !slices.Contains(installAllowed, st.Key) {
					return attrErr(at, "install.%s is not supported: seconf enables units with WantedBy= only, which it can also do offline", st.Key)
				}
				if !s.c.Enabled {
					return attrErr(at, "install.%s would enable a container that sets enabled = false", st.Key)
				}
				for _, v := range st.Values {
					for _, w := range strings.Fields(v) {
						if !unitName.MatchString(w) {
							return attrErr(at, "install.%s: %q is not a unit name such as default.target", st.Key, w)
						}
					}
				}
			}
			if sec.section == "Service" && s.engine == "docker" && cgroupSetting(st.Key) {
				return attrErr(at, "service.%s would limit the docker client, not the container: the docker daemon runs containers outside this unit's cgroup. Use podman_args (--memory=..., --cpus=...), which docker run spells alike", st.Key)
			}
			for _, v := range st.Values {
				if err := checkSetting(sec.section, st.Key, v); err != nil {
					return attrErr(at, "%s.%s: %v", sec.attr, st.Key, err)
				}
			}
		}
	}
	return nil
}

// checkSetting refuses a value systemd would not read back as written: an
// empty one (it resets the setting, seconf's own values included),
// surrounding whitespace (trimmed), a trailing backslash (a line
// continuation), a '%' where systemd's treatment of it is not known.
func checkSetting(section, key, v string) error {
	if err := checkText("value", v); err != nil {
		return err
	}
	switch {
	case v == "":
		return fmt.Errorf("an empty value resets the setting, seconf's own values with it; leave the key out instead")
	case strings.TrimFunc(v, unicode.IsSpace) != v:
		return fmt.Errorf("%q begins or ends with whitespace, which systemd drops", v)
	case strings.HasSuffix(v, `\`):
		return fmt.Errorf("%q ends in a backslash, which continues the line", v)
	case strings.Contains(v, "%") && unitfile.KeyExpansion(section, key) == unitfile.Unprobed:
		return fmt.Errorf("%q holds '%%', and whether systemd resolves specifiers in %s is not known to seconf; leave the '%%' out", v, key)
	}
	return nil
}

// settingValue escapes a value for where systemd reads it: '%' doubled in
// settings that resolve specifiers, as written elsewhere (CPUQuota=50%).
func settingValue(section, key, v string) string {
	if unitfile.KeyExpansion(section, key) == unitfile.Expands {
		return unitfile.Specifiers(v)
	}
	return v
}

// settings writes the maps into their sections, one line per value.
func (s *spec) settings(u *unitfile.File) {
	for _, sec := range s.sections() {
		for _, st := range sec.settings {
			for _, v := range st.Values {
				u.AddOnce(sec.section, st.Key, settingValue(sec.section, st.Key, v))
			}
		}
	}
}

// wantedBy are the targets that want the unit: multi-user.target and the
// install map's WantedBy=.
func wantedBy(c *config.Container) []string {
	out := []string{"multi-user.target"}
	for _, st := range c.Install {
		if st.Key == "WantedBy" {
			for _, v := range st.Values {
				for _, w := range strings.Fields(v) {
					if !slices.Contains(out, w) {
						out = append(out, w)
					}
				}
			}
		}
	}
	return out
}
