package config

import (
	"encoding/csv"
	"fmt"
	"path"
	"slices"
	"strings"
)

// dangerousCaps are capabilities that let a container step out of its
// confinement (load modules, reach raw memory or disks, trace the host's
// processes, change SELinux policy, open files by handle): the same
// escape privileged = true gives, one capability at a time.
var dangerousCaps = []string{
	"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_PTRACE", "SYS_BOOT",
	"MAC_ADMIN", "MAC_OVERRIDE", "DAC_READ_SEARCH", "BPF", "PERFMON",
}

// hostDiskDevices: a container given one of these reads and writes the
// host's disks or memory underneath every label.
var hostDiskDevices = []string{
	"/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/dm-", "/dev/md",
	"/dev/loop", "/dev/nbd", "/dev/rbd", "/dev/zd", "/dev/sg", "/dev/bsg", "/dev/mapper/", "/dev/disk/",
	"/dev/mem", "/dev/kmem", "/dev/port", "/dev/cpu/", "/dev/vfio",
	// udev's links by number to every block device (podman follows links),
	// and the block devices that hold memory or flash.
	"/dev/block/", "/dev/pmem", "/dev/dax", "/dev/ram", "/dev/zram", "/dev/mtd", "/dev/ubi",
}

// hostSecrets are files podman would read as root on the container's
// behalf (environment_file): handing them to a container bypasses the
// labels that keep a confined process from reading them.
var hostSecrets = []string{"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssh/", "/etc/sudoers", "/etc/sudoers.d/", "/root/", "/proc/", "/sys/", "/dev/", "/etc/selinux/", "/var/lib/selinux/", "/var/lib/seconf/"}

// hostWriteRefused are trees where podman (as root) must not write a file
// whose content the container controls (a log file, health check logs):
// a container's output in /etc/cron.d runs as root.
var hostWriteRefused = []string{"/etc", "/usr", "/boot", "/root", "/proc", "/sys", "/dev", "/bin", "/sbin", "/lib", "/lib64", "/var/spool", "/var/lib/selinux", "/var/lib/seconf", "/run/systemd"}

// HostSecret reports whether p (a host path, symlinks resolved) is among
// the files podman must not read for a container (environment_file).
func HostSecret(p string) bool { return underAny(path.Clean(p), hostSecrets) }

// HostWriteRefused reports whether p (a host path, symlinks resolved) is in
// a tree where podman must not write a file the container controls.
func HostWriteRefused(p string) bool { return underAny(path.Clean(p), hostWriteRefused) }

// underAny reports whether p is one of trees or lies below one; a tree
// written with a trailing '/' matches only below it.
func underAny(p string, trees []string) bool {
	for _, t := range trees {
		if strings.HasSuffix(t, "/") && strings.HasPrefix(p, t) || p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

// isDiskDevice reports whether a host device path is one of the host's
// disks or memory.
func isDiskDevice(p string) bool {
	for _, d := range hostDiskDevices {
		if strings.HasPrefix(p, d) || p == strings.TrimSuffix(d, "/") {
			return true
		}
	}
	return false
}

// NormalCap is a capability as podman and docker name it in errors and
// checks: upper case, without CAP_.
func NormalCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(c), "CAP_")
}

// MountSpec is a --mount value split into its fields.
type MountSpec struct {
	Type     string
	Fields   []string // KEY[=VALUE], in order, without type=
	original string
}

// Source is the value of src= or source=, its field's index, and whether
// there is one.
func (m MountSpec) Source() (string, int, bool) {
	for i, f := range m.Fields {
		k, v, _ := strings.Cut(f, "=")
		if k == "source" || k == "src" {
			return v, i, true
		}
	}
	return "", -1, false
}

// resolvedTypes are the mount types whose source quadlet resolves (a
// NAME.volume, a relative path): it rewrites those values as type= first,
// then the other fields in order, the source as source=.
var resolvedTypes = []string{"bind", "volume", "glob", "image"}

// String is the value as quadlet passes it to podman.
func (m MountSpec) String() string {
	if !slices.Contains(resolvedTypes, m.Type) {
		return m.original
	}
	fields := slices.Clone(m.Fields)
	if src, i, ok := m.Source(); ok {
		fields[i] = "source=" + src
	}
	return strings.Join(append([]string{"type=" + m.Type}, fields...), ",")
}

// mountTypes are the --mount types seconf passes on.
var mountTypes = []string{"bind", "volume", "tmpfs", "ramfs", "devpts", "image", "glob"}

// ParseMount splits a --mount value as podman does (comma-separated, one
// type= field). Quotes are refused: quadlet re-encodes the value as CSV,
// and a quoted field would not come out as written.
func ParseMount(s string) (MountSpec, error) {
	if strings.ContainsAny(s, `"'`) {
		return MountSpec{}, fmt.Errorf("mount %q holds a quote; write the fields without quoting", s)
	}
	r := csv.NewReader(strings.NewReader(s))
	fields, err := r.Read()
	if err != nil {
		return MountSpec{}, fmt.Errorf("mount %q: %v", s, err)
	}
	m := MountSpec{original: s}
	sources := 0
	for _, f := range fields {
		if f == "" {
			return MountSpec{}, fmt.Errorf("mount %q has an empty field", s)
		}
		if k, v, ok := strings.Cut(f, "="); ok && k == "type" {
			if m.Type != "" {
				return MountSpec{}, fmt.Errorf("mount %q sets type twice", s)
			}
			m.Type = v
			continue
		}
		if k, _, _ := strings.Cut(f, "="); k == "source" || k == "src" {
			sources++
		}
		m.Fields = append(m.Fields, f)
	}
	if sources > 1 {
		return MountSpec{}, fmt.Errorf("mount %q sets its source twice", s)
	}
	if src, _, ok := m.Source(); slices.Contains(resolvedTypes, m.Type) && (!ok || src == "") {
		return MountSpec{}, fmt.Errorf("a %s mount needs source=", m.Type)
	}
	if m.Type == "" {
		return MountSpec{}, fmt.Errorf("mount %q has no type=; write type=bind, type=volume or type=tmpfs first", s)
	}
	if !slices.Contains(mountTypes, m.Type) {
		return MountSpec{}, fmt.Errorf("mount type %q is not one of %s", m.Type, strings.Join(mountTypes, ", "))
	}
	return m, nil
}

// Relabels reports the first field of a mount that relabels or chowns its
// source: relabel=, z, Z, U, chown.
func (m MountSpec) Relabels() (string, bool) {
	for _, f := range m.Fields {
		k, v, _ := strings.Cut(f, "=")
		switch {
		case k == "relabel", k == "z", k == "Z", k == "U":
			return f, true
		case k == "chown" && v != "false":
			return f, true
		}
	}
	return "", false
}

// checkOptionConfinement holds the quadlet options to the rules the block
// has always followed: nothing switches SELinux (or the confinement around
// it) off, unless allow_unconfined = true says so. Each refusal points at
// the attribute, or at the element of a list that is the problem.
func (l *loader) checkOptionConfinement(c *Container) {
	l.checkPodmanArgs(c)
	l.checkMounts(c)
	if c.AllowUnconfined {
		return
	}
	refuse := func(attr, what string) {
		rng := c.AttrRange(attr)
		l.errorf(&rng, "Unconfined container refused", "container %q: %s. %s", c.Name, what, confineAdvice(c))
	}
	o := c.Options
	if o["security_label_disable"].Bool {
		refuse("security_label_disable", "security_label_disable = true turns SELinux separation off for the container")
	}
	if o["security_label_nested"].Bool {
		refuse("security_label_nested", "security_label_nested = true lets the container manage SELinux labels inside itself")
	}
	if v, ok := o["seccomp_profile"]; ok && v.Str == "unconfined" {
		refuse("seccomp_profile", "seccomp_profile = \"unconfined\" removes the system call filter")
	}
	if _, ok := o["unmask"]; ok {
		refuse("unmask", "unmask exposes the kernel interfaces podman masks (/proc/kcore, /sys/firmware, ...)")
	}
	if v, ok := o["user_ns"]; ok && (v.Str == "host" || strings.HasPrefix(v.Str, "host:")) {
		refuse("user_ns", "user_ns = \"host\" overrides a user namespace the host's containers.conf may give every container")
	}
	if c.Network == "host" || strings.HasPrefix(c.Network, "ns:") {
		refuse("network", fmt.Sprintf("network %q puts the container in the host's network namespace, with the host's loopback services and abstract sockets", c.Network))
	}
	for i, cp := range o["add_capability"].List {
		if slices.Contains(dangerousCaps, NormalCap(cp)) {
			refuse(fmt.Sprintf("add_capability[%d]", i), fmt.Sprintf("capability %s lets a process leave its confinement", NormalCap(cp)))
		}
	}
	for i, d := range o["add_device"].List {
		hostPath, _, _ := strings.Cut(d, ":")
		if isDiskDevice(hostPath) {
			refuse(fmt.Sprintf("add_device[%d]", i), fmt.Sprintf("device %s gives the container the host's disks or memory underneath every label", hostPath))
		}
	}
	for i, f := range o["environment_file"].List {
		if underAny(path.Clean(f), hostSecrets) {
			refuse(fmt.Sprintf("environment_file[%d]", i), fmt.Sprintf("podman would read %s as root and hand it to the container, past the labels that protect it", f))
		}
	}
	for i, opt := range o["log_opt"].List {
		if k, p, ok := strings.Cut(opt, "="); ok && k == "path" && underAny(path.Clean(p), hostWriteRefused) {
			refuse(fmt.Sprintf("log_opt[%d]", i), fmt.Sprintf("podman would write the container's output to %s, a system directory", p))
		}
	}
	if v, ok := o["health_log_destination"]; ok && strings.HasPrefix(v.Str, "/") && underAny(path.Clean(v.Str), hostWriteRefused) {
		refuse("health_log_destination", fmt.Sprintf("podman would write health check logs into %s, a system directory", v.Str))
	}
	for i, s := range o["mount"].List {
		m, err := ParseMount(s)
		if err != nil || (m.Type != "bind" && m.Type != "glob") {
			continue
		}
		src, _, _ := m.Source()
		sys := IsSystemDir(path.Clean(src))
		if m.Type == "glob" {
			// Every match is mounted, and relabelled.
			_, sys = GlobSystemPath(src)
		}
		if f, ok := m.Relabels(); ok && sys {
			rng := c.AttrRange(fmt.Sprintf("mount[%d]", i))
			l.errorf(&rng, "Relabelling a system directory refused",
				"container %q: %s would relabel or chown %s for containers and break the host services that use it. Drop it. %s", c.Name, f, src, confineAdvice(c))
		}
	}
}

// checkPodmanArgs: podman_args may carry only the allowed options, each as
// one --flag=VALUE word, with or without allow_unconfined: anything else
// has an attribute of its own, or is refused for a reason that attribute
// states.
func (l *loader) checkPodmanArgs(c *Container) {
	for i, a := range c.Options["podman_args"].List {
		flag, _, hasValue := strings.Cut(a, "=")
		if !slices.Contains(PodmanArgsAllowed, flag) || !hasValue {
			rng := c.AttrRange(fmt.Sprintf("podman_args[%d]", i))
			l.errorf(&rng, "Option refused in podman_args",
				"container %q: podman_args may only hold resource limits written --flag=VALUE (%s); %q is not one. Options that have a quadlet key have an attribute of the same name (--cap-add is add_capability); others (--privileged, --security-opt, --pid, --ipc, ...) are refused because they can switch confinement off.",
				c.Name, strings.Join(PodmanArgsAllowed, ", "), a)
		}
	}
}

// checkMounts refuses mounts no rendering can carry: a bind source that is
// not an absolute, normalised path.
func (l *loader) checkMounts(c *Container) {
	for i, s := range c.Options["mount"].List {
		rng := c.AttrRange(fmt.Sprintf("mount[%d]", i))
		m, err := ParseMount(s)
		if err != nil {
			l.errorf(&rng, "Invalid mount", "container %q: %v.", c.Name, err)
			continue
		}
		src, _, ok := m.Source()
		if (m.Type == "bind" || m.Type == "glob") && (!ok || !path.IsAbs(src) || m.Type == "bind" && path.Clean(src) != src) {
			l.errorf(&rng, "Invalid mount", "container %q: a %s mount needs source= an absolute, normalised host path; %q is not.", c.Name, m.Type, src)
		}
	}
}
