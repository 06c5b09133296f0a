package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Well-known paths on the host seconf manages, as that host sees them:
// offline they are read and written under the root. Every provider takes
// them from here, so that what seconf touches can be read in one place.
const (
	StatePath = "/var/lib/seconf/state.json" // what seconf owns
	// ParseCachePath holds the last applied configuration, decoded, for the
	// next run to skip parsing (config.LoadCached).
	ParseCachePath = "/var/lib/seconf/config-cache"
	LockPath       = "/run/seconf.lock"        // one apply at a time per root
	UnitDir        = "/etc/systemd/system"     // units seconf writes
	QuadletDir     = "/etc/containers/systemd" // quadlet files seconf writes
	EnvDir         = "/etc/seconf/env"         // 0600 environment files with sensitive values
	SecretsDir     = "/etc/seconf/secrets"     // 0600 files of docker containers' secrets

	// OriginalsDir keeps, 0600, the files a file block took over, to put
	// back when the block goes.
	OriginalsDir = "/var/lib/seconf/originals"
	// HashKeyPath is the host's own key for the keyed hashes that stand
	// in the state record for sensitive values (secrets, file contents).
	HashKeyPath = "/var/lib/seconf/hash.key"

	SELinuxDir    = "/etc/selinux"        // config, semanage.conf, built policies
	SELinuxConfig = "/etc/selinux/config" // SELINUXTYPE= names the store
	PolicyStores  = "/var/lib/selinux"    // one store per policy type
	SELinuxFS     = "/sys/fs/selinux"     // the running policy: booleans/NAME holds "current pending"

	DockerDaemonConfig = "/etc/docker/daemon.json"

	// What podman and docker keep on disk, read to tell whether an image or
	// a secret is there without running either (podman's defaults; the
	// root's storage.conf and daemon.json may move them).
	PodmanStorageConf    = "/etc/containers/storage.conf"
	PodmanStorageConfUsr = "/usr/share/containers/storage.conf"
	PodmanGraphRoot      = "/var/lib/containers/storage"
	DockerDataRoot       = "/var/lib/docker"
)

// Paths written into units: programs as the managed host runs them.
const (
	PodmanBin = "/usr/bin/podman"
	DockerBin = "/usr/bin/docker"
	ShBin     = "/bin/sh"
)

// UnitSearchPath is every directory systemd reads system units from, in its
// order of precedence: a unit name seconf writes must not collide with one
// of these that seconf did not write.
var UnitSearchPath = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

// QuadletSearchPath is every directory podman's quadlet generator reads.
var QuadletSearchPath = []string{
	"/etc/containers/systemd",
	"/run/containers/systemd",
	"/usr/share/containers/systemd",
}

// QuadletGenerators are the paths at which podman installs its quadlet
// systemd generator (the first is the generator systemd runs, a link to the
// second). Either one present means the host turns .container files into
// services.
var QuadletGenerators = []string{
	"/usr/lib/systemd/system-generators/podman-system-generator",
	"/usr/libexec/podman/quadlet",
}

// Files of the build machine's SELinux tool chain that seconf reads or
// hands to a compiler. They are the build machine's, never the root's: a
// root is data, not code.
const (
	DevelMakefile = "/usr/share/selinux/devel/Makefile"
	DevelInclude  = "/usr/share/selinux/devel/include"
	PPToCIL       = "/usr/libexec/selinux/hll/pp"
)

// Tools seconf runs, by name, with the package that provides each (Debian's
// name, then Fedora's where it differs) for the error that says what to
// install.
var tools = map[string]string{
	"semodule":         "policycoreutils",
	"semanage":         "policycoreutils-python-utils",
	"make":             "make",
	"m4":               "m4",
	"checkmodule":      "checkpolicy",
	"semodule_package": "semodule-utils (Fedora: policycoreutils)",
	"sesearch":         "setools",
	"seinfo":           "setools",
	"restorecon":       "policycoreutils",
	"setsebool":        "policycoreutils",
	"git":              "git",
	"podman":           "podman",
	"docker":           "docker.io (Fedora: moby-engine)",
	"ssh-keygen":       "openssh-client",
	"journalctl":       "systemd",
	"skopeo":           "skopeo",
}

// trustedDirs are the only directories tools are taken from: never PATH,
// which a caller (or a timer's environment) could point anywhere.
var trustedDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}

var toolCache sync.Map

// Tool returns the absolute path of a tool of the build machine, looked for
// in the system directories only.
func Tool(name string) (string, error) {
	if p, ok := toolCache.Load(name); ok {
		return p.(string), nil
	}
	for _, d := range trustedDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			toolCache.Store(name, p)
			return p, nil
		}
	}
	pkg := tools[name]
	if pkg == "" {
		pkg = "the package that provides it"
	}
	return "", fmt.Errorf("%s is not installed (looked in %s): install %s", name, strings.Join(trustedDirs, ", "), pkg)
}
