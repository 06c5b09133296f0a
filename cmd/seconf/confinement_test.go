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
		{"mount relabels /etc through a symlink", ctr("  mount = [\"type=bind,source=/srv-etc/app,destination=/x,relabel=shared\"]\n"), "/etc"},
		{"glob mount matches /etc through a symlink", ctr("  mount = [\"type=glob,source=/srv-e*,destination=/x,Z\"]\n"), "/etc"},
		{"mount over /etc", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/etc/app\"\n}\n", "/etc"},
		{"mount over /usr/lib", "mount \"m\" {\n  what = \"/dev/sdb1\"\n  where = \"/lib/x\"\n}\n", "/usr"},
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
