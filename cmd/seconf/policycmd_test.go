package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"seconf/internal/testenv"
)

const avcHCL = `
container "logger" {
  image   = "docker.io/fluent/fluentd:v1.17-1"
  confine = true
  volume {
    source    = "/var/log"
    target    = "/var/log"
    read_only = true
  }
  volume {
    source = "/srv/app"
    target = "/var/lib/app"
  }
}
container "plain" {
  image = "i"
}
`

// TestPolicyCommands: show prints the module apply would install (warnings
// on stderr, so that stdout can be redirected into a .te); avc reads the
// root's audit.log (or --log) and proposes, the same way every time.
func TestPolicyCommands(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": avcHCL})
	args := confineArgs(t, root, cfg)

	out, errs, code := seconf(t, append([]string{"policy", "show", "container.logger"}, args...)...)
	if code != 0 || !strings.HasPrefix(out, "## seconf: the SELinux type of container.logger") || !strings.Contains(out, "read_files_pattern(seconf_logger_t, var_log_t, var_log_t)") || errs != "" {
		t.Errorf("policy show: exit %d\n%s\nstderr:\n%s", code, out, errs)
	}

	audit, err := os.ReadFile("../../modules/selinux/confine/testdata/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, root, "/var/log/audit/audit.log", string(audit))
	report := mustSeconf(t, 0, append([]string{"policy", "avc", "container.logger"}, args...)...)
	for _, want := range []string{
		"container.logger runs as seconf_logger_t: 8 denial(s) in /var/log/audit/audit.log.",
		"/var/log -> /var/log (" + filepath.Join(cfg, "host.hcl") + ":5) is read-only",
		"read_only = false",
		"source    = \"/var/log/apt\"",
		"DANGEROUS: sys_admin",
		"allow seconf_logger_t shadow_t:file read;",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("no %q in the report:\n%s", want, report)
		}
	}
	if again := mustSeconf(t, 0, append([]string{"policy", "avc", "container.logger"}, args...)...); again != report {
		t.Error("two runs, two reports")
	}
	logFile := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(logFile, audit, 0o644)
	fromLog := mustSeconf(t, 0, append([]string{"policy", "avc", "container.logger", "--log", logFile}, args...)...)
	if strings.Replace(fromLog, logFile, "/var/log/audit/audit.log", 1) != report {
		t.Errorf("--log reads otherwise:\n%s", fromLog)
	}

	// auditd without rules (a stock Debian) writes no PATH records: a
	// denial names its object by last component and inode only, as the VM
	// showed. policy avc finds the object under a volume's source on the
	// root and proposes a volume of its own, not an allow rule.
	apache := filepath.Join(root, "var/log/apache2")
	if err := os.MkdirAll(apache, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(apache)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(bare, []byte(fmt.Sprintf(`type=AVC msg=audit(1795795638.155:127): avc:  denied  { write } for  pid=1091 comm="touch" name="apache2" dev="vda" ino=%d scontext=system_u:system_r:seconf_logger_t:s0:c60,c150 tcontext=system_u:object_r:httpd_log_t:s0 tclass=dir permissive=0
type=AVC msg=audit(1795795641.543:130): avc:  denied  { read } for  pid=1116 comm="ls" name="apache2" dev="vda" ino=%d scontext=system_u:system_r:seconf_logger_t:s0:c60,c150 tcontext=system_u:object_r:httpd_log_t:s0 tclass=dir permissive=0
`, st.Sys().(*syscall.Stat_t).Ino, st.Sys().(*syscall.Stat_t).Ino)), 0o644)
	located := mustSeconf(t, 0, append([]string{"policy", "avc", "container.logger", "--log", bare}, args...)...)
	for _, want := range []string{"source    = \"/var/log/apache2\"", "target    = \"/var/log/apache2\"", "read_only = false", `denied { write } on httpd_log_t:dir "/var/log/apache2" by "touch"`} {
		if !strings.Contains(located, want) {
			t.Errorf("no %q in the report:\n%s", want, located)
		}
	}
	if strings.Contains(located, "allow seconf_logger_t httpd_log_t") {
		t.Errorf("an allow rule where a volume answers:\n%s", located)
	}

	for _, tc := range []struct{ cmd, id, want string }{
		{"show", "container.plain", "does not set confine = true"},
		{"avc", "container.plain", "runs as container_t"},
		{"show", "container.nope", `no container "nope"`},
	} {
		_, errs, code := seconf(t, append([]string{"policy", tc.cmd, tc.id}, args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("policy %s %s: exit %d, stderr %q, want %q", tc.cmd, tc.id, code, errs, tc.want)
		}
	}
}
