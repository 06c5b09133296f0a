package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/internal/testenv"
)

// TestConfinementCannotBeArguedAway: every way tried to run a container
// outside SELinux confinement is refused with the attribute's line, and
// the root is left untouched; allow_unconfined = true lets it through with
// a warning on every plan and apply.
func TestConfinementCannotBeArguedAway(t *testing.T) {
	root := testenv.PolicyRoot(t)
	// A symlink in the root that spells /etc another way.
	if err := os.Symlink("/etc", filepath.Join(root, "srv-etc")); err != nil {
		t.Fatal(err)
	}
	ctr := func(body string) string {
		return "container \"c\" {\n  image = \"docker.io/library/busybox\"\n" + body + "}\n"
	}
	vol := func(src string) string {
		return "  volume {\n    source  = \"" + src + "\"\n    target  = \"/data\"\n    relabel = \"shared\"\n  }\n"
	}
	cases := []struct {
		name, hcl, want string
	}{
		{"image as a flag", "container \"c\" {\n  image = \"--privileged\"\n}\n", "starts with '-'"},
		{"init_t", ctr("  selinux_type = \"init_t\"\n"), "unconfined domain"},
		{"unconfined_execmem_t", ctr("  selinux_type = \"unconfined_execmem_t\"\n"), "unconfined"},
		{"a type that is no container domain", ctr("  selinux_type = \"sshd_t\"\n"), "not a container domain"},
		{"an attribute", ctr("  selinux_type = \"domain\"\n"), "attribute"},
		{"relabel /lib", ctr(vol("/lib/modules")), "/usr"},
		{"relabel /bin", ctr(vol("/bin")), "/usr"},
		{"relabel /var/run", ctr(vol("/var/run/app")), "/run"},
		{"relabel /var/lib/selinux", ctr(vol("/var/lib/selinux")), "/var/lib/selinux"},
		{"relabel /etc through a symlink", ctr(vol("/srv-etc/app")), "/etc"},
		{"environment file through a symlink", ctr("  environment_file = [\"/srv-etc/shadow\"]\n"), "/etc/shadow"},
		{"log into cron through a symlink", ctr("  log_driver = \"k8s-file\"\n  log_opt = [\"path=/srv-etc/cron.d/x\"]\n"), "/etc/cron.d"},
		{"health logs into /etc through a symlink", ctr("  health_cmd = \"true\"\n  health_log_destination = \"/srv-etc\"\n"), "/etc on this host"},
		{"mount relabels /etc through a symlink", ctr("  mount = [\"type=bind,source=/srv-etc/app,destination=/x,relabel=shared\"]\n"), "/etc"},
		{"glob mount matches /etc through a symlink", ctr("  mount = [\"type=glob,source=/srv-e*,destination=/x,Z\"]\n"), "/etc"},
		{"mount over /etc", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/etc/app\"\n}\n", "/etc"},
		{"mount over /usr/lib", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/lib/x\"\n}\n", "/usr"},
		{"mount context option on /var/log", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/var/log\"\n  options = [\"rw,rootcontext=system_u:object_r:container_file_t:s0\"]\n}\n", "/var/log"},
		{"mount context on /var/log", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/var/log\"\n  selinux_context = \"system_u:object_r:container_file_t:s0\"\n}\n", "/var/log"},
		{"permissive type of a module", `selinux_module "perm" {
  format  = "cil"
  content = <<-EOT
    (type perm_t)
    (roletype system_r perm_t)
    (typeattributeset domain (perm_t))
    (typepermissive perm_t)
  EOT
}
` + ctr("  selinux_type = \"perm_t\"\n"), "permissive"},
		{"docker label on a daemon without SELinux", ctr("  engine = \"docker\"\n  selinux_level = \"s0:c1,c2\"\n"), "selinux-enabled"},
	}
	before := testenv.Snapshot(t, root)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			for _, cmd := range []string{"plan", "apply"} {
				_, errs, code := seconf(t, cmd, "--root", root, cfg)
				if code != 1 || !strings.Contains(errs, "host.hcl line ") || !strings.Contains(errs, tc.want) {
					t.Errorf("%s: exit %d, want 1 saying %q at a line; stderr:\n%s", cmd, code, tc.want, errs)
				}
			}
		})
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("a refused configuration changed the root:\n%s", testenv.Diff(before, after))
	}

	t.Run("allow_unconfined warns on plan and apply", func(t *testing.T) {
		cfg := writeFiles(t, map[string]string{"host.hcl": ctr("  selinux_type = \"sshd_t\"\n  allow_unconfined = true\n  quadlet = false\n")})
		for _, cmd := range []string{"plan", "apply", "apply"} {
			out := mustSeconf(t, 0, cmd, "--root", root, cfg)
			if !strings.Contains(out, "Warning: Container may run unconfined") || !strings.Contains(out, "host.hcl line 4") {
				t.Errorf("%s: no warning at the attribute:\n%s", cmd, out)
			}
		}
	})
}

// TestTypeUnconfinedByAnyModule: a module of the configuration that makes a
// container's type permissive, or hands it an unconfined domain's powers,
// is refused whichever module does it, and whether the container names its
// type or runs as the engines' default (container_t, which no selinux_type
// names); what the CIL does not say outright is caught in the committed
// policy, before any unit is written.
func TestTypeUnconfinedByAnyModule(t *testing.T) {
	root := testenv.PolicyRoot(t)
	vars := []string{"--var", "refpolicy_services=" + testenv.RefpolicyServices(t)}
	base := "../../examples/debian12-container-policy"
	mustSeconf(t, 0, append(append([]string{"apply", "--root", root}, vars...), base)...)
	mod := func(cil string) string {
		return "selinux_module \"evil\" {\n  format  = \"cil\"\n  content = <<-EOT\n    " + cil + "\n  EOT\n}\n"
	}
	ctr := func(body string) string {
		return "container \"c\" {\n  image   = \"docker.io/library/busybox\"\n  quadlet = false\n" + body + "}\n"
	}
	before := testenv.Snapshot(t, root)
	for _, tc := range []struct{ name, hcl, want string }{
		{"default type made permissive", mod("(typepermissive container_t)") + ctr(""), "permissive"},
		{"default type made unconfined", mod("(typeattributeset unconfined_domain_type (container_t))") + ctr(""), "unconfined domain"},
		{"named type given files_unconfined_type", mod("(typeattributeset files_unconfined_type (container_t))") + ctr("  selinux_type = \"container_t\"\n"), "files_unconfined_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			for _, cmd := range []string{"plan", "apply"} {
				_, errs, code := seconf(t, append(append([]string{cmd, "--root", root}, vars...), base, cfg)...)
				if code != 1 || !strings.Contains(errs, "host.hcl line ") || !strings.Contains(errs, tc.want) {
					t.Errorf("%s: exit %d, want 1 saying %q at a line; stderr:\n%s", cmd, code, tc.want, errs)
				}
			}
		})
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("a refused configuration changed the root:\n%s", testenv.Diff(before, after))
	}

	// Through an attribute of the module's own, which the CIL alone does
	// not show: the committed policy says it.
	cfg := writeFiles(t, map[string]string{"host.hcl": mod("(type evil_t) (roletype system_r evil_t) (typeattributeset domain (evil_t)) (typeattributeset container_domain (evil_t)) (typeattribute evil_powers) (typeattributeset evil_powers (evil_t)) (typeattributeset selinux_unconfined_type (evil_powers))") +
		ctr("  selinux_type = \"evil_t\"\n")})
	out, errs, code := seconf(t, append(append([]string{"apply", "--root", root}, vars...), base, cfg)...)
	if code != 1 || !strings.Contains(errs, "selinux_unconfined_type") {
		t.Errorf("apply: exit %d, want 1 naming selinux_unconfined_type; stderr:\n%s", code, errs)
	}
	// The module was committed before the check refused it: the summary
	// and the record of the apply say so.
	if !strings.Contains(out, "Apply failed after 1 change(s)") {
		t.Errorf("the summary does not count the committed module:\n%s", out)
	}
	if st := readAt(t, root, "/var/lib/seconf/state.json"); !strings.Contains(st, "create selinux_module.evil") {
		t.Errorf("the state record's last apply does not name the committed module:\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/c.service")); !os.IsNotExist(err) {
		t.Errorf("the unit of a container left unconfined was written (%v)", err)
	}
	_, errs, code = seconf(t, append(append([]string{"plan", "--root", root}, vars...), base, cfg)...)
	if code != 1 || !strings.Contains(errs, "host.hcl line ") || !strings.Contains(errs, "selinux_unconfined_type") {
		t.Errorf("plan after: exit %d, want 1 naming selinux_unconfined_type at a line; stderr:\n%s", code, errs)
	}
}
