package config

import (
	"path"
	"strings"
)

// System paths: the directories whose labels the host's own confined
// services rely on. Relabelling one for a container (:z, :Z) takes it away
// from them (logrotate, sshd, the package manager, SELinux itself), and
// mounting over one hides what the host runs from. One table, spelled as
// the canonical path; Canonical maps the other spellings onto it.

// systemTrees are refused at and below: nothing in them is container data.
var systemTrees = []string{
	"/usr", "/etc", "/boot", "/proc", "/sys", "/dev", "/run",
	"/var/lib/selinux", "/var/lib/rpm", "/var/lib/dpkg", "/var/lib/systemd", "/var/lib/containers",
	"/var/lib/docker", "/var/log/audit", "/root",
}

// systemDirs are refused themselves; a directory below one of them may be
// a container's own (/var/lib/app, /srv/data).
var systemDirs = []string{
	"/", "/var", "/var/log", "/var/lib", "/var/cache", "/var/spool", "/var/tmp", "/var/mail", "/var/opt",
	"/var/www", "/tmp", "/home", "/opt", "/srv", "/mnt", "/media", "/afs", "/nix",
}

// aliases are the other spellings of system paths on today's distributions:
// merged /usr links and /var/run, /var/lock. The root's own symlinks are
// resolved at plan time as well, where the root is known.
var aliases = [][2]string{
	{"/bin", "/usr/bin"}, {"/sbin", "/usr/sbin"}, {"/lib", "/usr/lib"}, {"/lib32", "/usr/lib32"},
	{"/lib64", "/usr/lib64"}, {"/libx32", "/usr/libx32"}, {"/var/run", "/run"}, {"/var/lock", "/run/lock"},
}

// Canonical spells p the way the table does: cleaned, with a leading alias
// replaced by what it stands for.
func Canonical(p string) string {
	p = path.Clean("/" + p)
	for _, a := range aliases {
		if p == a[0] || strings.HasPrefix(p, a[0]+"/") {
			return a[1] + p[len(a[0]):]
		}
	}
	return p
}

// SystemPath reports whether p, however spelled, is a system directory or
// lies in a system tree, and names the entry of the table it hit.
func SystemPath(p string) (string, bool) {
	c := Canonical(p)
	for _, t := range systemTrees {
		if c == t || strings.HasPrefix(c, t+"/") {
			return t, true
		}
	}
	for _, d := range systemDirs {
		if c == d {
			return d, true
		}
	}
	return "", false
}

// GlobSystemPath reports whether a glob pattern (podman's type=glob mount
// source, read as filepath.Glob reads it) may match a system directory or a
// path in a system tree, however spelled, and names the entry it may hit.
// A pattern is matched component by component against the table and the
// aliases: /* matches /etc, /[e]tc is /etc, /var/l?g is /var/log. A pattern
// that does not parse is taken to match.
func GlobSystemPath(pattern string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(path.Clean("/"+pattern), "/"), "/")
	// matches reports whether the pattern's first components match all of
	// entry's (exact: as many components as entry has).
	matches := func(entry string, exact bool) bool {
		comps := strings.Split(strings.TrimPrefix(entry, "/"), "/")
		if entry == "/" {
			comps = nil
		}
		if len(parts) < len(comps) || exact && len(parts) != len(comps) {
			return false
		}
		for i, c := range comps {
			ok, err := path.Match(parts[i], c)
			if err != nil {
				return true
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for _, t := range systemTrees {
		if matches(t, false) {
			return t, true
		}
	}
	for _, a := range aliases {
		if matches(a[0], false) {
			return a[1], true
		}
	}
	for _, d := range systemDirs {
		if matches(d, true) {
			return d, true
		}
	}
	return "", false
}

// IsSystemDir reports whether relabelling p for a container is refused.
func IsSystemDir(p string) bool {
	_, ok := SystemPath(p)
	return ok
}

// mountRefused reports whether a mount over p is refused: the system trees
// and / itself. A separate file system at /var/log or /home is ordinary.
func mountRefused(p string) (string, bool) {
	c := Canonical(p)
	if c == "/" {
		return "/", true
	}
	for _, t := range systemTrees {
		if c == t || strings.HasPrefix(c, t+"/") {
			return t, true
		}
	}
	return "", false
}
