package confine

import (
	"strings"

	"seconf/modules/selinux/policydb"
)

// Policy is what the generator asks of the root's policy; a
// *policydb.Policy answers it.
type Policy interface {
	HasType(name string) bool
	IsAttribute(name string) bool
	PrimaryType(name string) (string, bool)
	TypeAttributes(name string) []string
	PortType(proto string, port int) (string, bool)
	PortCons() []policydb.PortCon
	Permissions(class string) []string
	// AllowedWith is what source may do to target's class with some
	// booleans set otherwise than the policy's defaults.
	AllowedWith(source, target, class string, bools map[string]bool) ([]string, error)
	Boolean(name string) (value, ok bool)
}

// Attributes that mark a file type as sensitive, by the policies that have
// them. refpolicy and Fedora mark the harmless rather than the sensitive:
// a file type outside non_security_file_type is a security file (the
// audit log, the policy), one outside non_auth_file_type holds
// authentication data (shadow passwords). Home content is the users'.
var (
	sensitiveAttrs = []struct{ attr, what string }{
		{"security_file_type", "a security file type (security_file_type)"},
		{"auth_file_type", "an authentication file type (auth_file_type)"},
		{"user_home_content_type", "home directory content (user_home_content_type)"},
		{"user_home_type", "home directory content (user_home_type)"},
		{"user_home_dir_type", "a home directory (user_home_dir_type)"},
		{"device_node", "a device node (device_node)"},
	}
	complementAttrs = []struct{ attr, what string }{
		{"non_auth_file_type", "an authentication file type (a file type outside non_auth_file_type, as shadow_t)"},
		{"non_security_file_type", "a security file type (a file type outside non_security_file_type)"},
	}
	// SELinux's own configuration and the homes: a container that may
	// write them undoes SELinux or reads every user's files, whatever the
	// attributes say.
	sensitiveTypes = map[string]string{
		"selinux_config_t":      "SELinux's own configuration",
		"policy_config_t":       "SELinux's own configuration",
		"semanage_store_t":      "SELinux's own configuration",
		"semanage_read_lock_t":  "SELinux's own configuration",
		"semanage_trans_lock_t": "SELinux's own configuration",
		"file_context_t":        "SELinux's own configuration",
		"default_context_t":     "SELinux's own configuration",
		"security_t":            "SELinux's own configuration",
		"user_home_dir_t":       "a home directory",
		"home_root_t":           "the root of the home directories",
		"admin_home_t":          "root's home directory",
		"user_home_t":           "home directory content",
	}
)

// Types that label what the host runs, loads or reads as its own
// configuration, by the names refpolicy and Fedora give them. A container
// may read them; one that may write them changes, once out of its mount
// namespace, what root runs: SELinux grants a type, not the one directory
// mounted (refpolicy labels passwd and sudoers etc_t, like /etc/myapp).
var (
	systemTypes = map[string]string{
		"etc_t":            "the host's configuration (/etc: passwd, sudoers, pam.d)",
		"etc_runtime_t":    "the host's configuration (/etc)",
		"lib_t":            "the host's libraries",
		"textrel_shlib_t":  "the host's libraries",
		"ld_so_t":          "the dynamic loader",
		"ld_so_cache_t":    "the dynamic loader's configuration (ld.so.preload)",
		"usr_t":            "the host's installed software (/usr, /opt)",
		"root_t":           "the root directory",
		"boot_t":           "the host's kernels and boot loader",
		"modules_object_t": "the kernel's modules",
		"modules_conf_t":   "the kernel modules' configuration",
		"cron_spool_t":     "cron jobs",
	}
	systemAttrs = []struct{ attr, what string }{
		{"exec_type", "programs the host runs"},
		{"configfile", "a service's configuration (configfile)"},
		{"systemdunit", "systemd units (systemdunit)"},
		{"systemd_unit_file_type", "systemd units (systemd_unit_file_type)"},
		{"cron_spool_type", "cron jobs (cron_spool_type)"},
	}
)

// SystemWrite says why a container must not be granted writing files of
// type t, which it may read, or "" when it may write them.
func SystemWrite(p Policy, t string) string {
	if what, ok := systemTypes[t]; ok {
		return what
	}
	attrs := p.TypeAttributes(t)
	for _, s := range systemAttrs {
		if contains(attrs, s.attr) {
			return s.what
		}
	}
	return ""
}

// Sensitive says why a file type must not be granted to a container by a
// generated rule, or "" when it may be. It asks the policy: attributes
// where the policy has them, and a short list of SELinux's own types.
func Sensitive(p Policy, t string) string {
	if what, ok := sensitiveTypes[t]; ok {
		return what
	}
	attrs := map[string]bool{}
	for _, a := range p.TypeAttributes(t) {
		attrs[a] = true
	}
	for _, s := range sensitiveAttrs {
		if attrs[s.attr] {
			return s.what
		}
	}
	if attrs["file_type"] {
		for _, s := range complementAttrs {
			if p.IsAttribute(s.attr) && !attrs[s.attr] {
				return s.what
			}
		}
	}
	return ""
}

// engineTypes are the types an engine's process runs as, by policy: the
// first the policy has is the one that mounts the volumes.
var engineTypes = map[string][]string{
	"podman": {"podman_t", "container_engine_t", "container_runtime_t"},
	"docker": {"dockerd_t", "container_engine_t", "container_runtime_t"},
}

// engineType is the type the container's engine runs as in this policy,
// or "" when the policy has none of them (yet).
func engineType(p Policy, engine string) string {
	for _, t := range engineTypes[engine] {
		if p.HasType(t) {
			return t
		}
	}
	return ""
}

// splitContext cuts user:role:type[:range] into its type and range.
func splitContext(ctx string) (typ, rng string, ok bool) {
	parts := strings.SplitN(ctx, ":", 4)
	if len(parts) < 3 || parts[2] == "" {
		return "", "", false
	}
	if len(parts) == 4 {
		rng = parts[3]
	}
	return parts[2], rng, true
}
