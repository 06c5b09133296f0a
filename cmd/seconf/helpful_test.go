package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// TestLinkErrorNamesModule: a module that compiles but does not link fails
// the real semodule transaction; the error names the selinux_module, its
// source, what is missing and what to do, never the store's scratch file.
func TestLinkErrorNamesModule(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"allow on a missing type", map[string]string{"host.hcl": `
selinux_module "good" {
  content = "(type good_t)"
}
selinux_module "broken" {
  content = "(type broken_t)\n(allow broken_t no_such_type_t (file (read)))"
}
`}, []string{"selinux_module.broken (content at ", "host.hcl:6)", "no_such_type_t is declared by no module",
			"(allow broken_t no_such_type_t (file (read)))", "Declare it in a module"}},
		{"te requiring a missing type", map[string]string{
			"host.hcl": "selinux_module \"needy\" {\n  source = \"needy.te\"\n}\n",
			"needy.te": "policy_module(needy, 1.0)\nrequire {\n  type no_such_type_t;\n}\ntype needy_t;\nallow needy_t no_such_type_t:file read;\n",
		}, []string{"selinux_module.needy (", "needy.te)", "no_such_type_t is declared by no module", "require { ... } block"}},
		{"missing template", map[string]string{
			"host.hcl":   "selinux_module \"orphan\" {\n  source = \"orphan.cil\"\n}\n",
			"orphan.cil": "(block orphan\n  (blockinherit seconf_no_template)\n  (type process)\n)\n",
		}, []string{"selinux_module.orphan (", "orphan.cil)", "seconf_no_template is declared by no module", "template block"}},
		{"type declared twice", map[string]string{
			"host.hcl": "selinux_module \"dup\" {\n  content = \"(type init_t)\"\n}\n",
		}, []string{"selinux_module.dup", "declares type init_t, which the policy already has"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			cfg := writeFiles(t, tc.files)
			commits := testenv.CommitNum(t, root)
			out, errs, code := seconf(t, "apply", "--root", root, cfg)
			if code != 1 {
				t.Fatalf("exit %d:\n%s%s", code, out, errs)
			}
			wantIn(t, "stderr", errs, append([]string{"semodule refused the policy transaction; nothing was committed"}, tc.want...)...)
			for _, bad := range []string{"/tmp/modules/", root, "Failed to resolve AST"} {
				if strings.Contains(errs, bad) {
					t.Errorf("stderr shows %q:\n%s", bad, errs)
				}
			}
			if testenv.CommitNum(t, root) != commits {
				t.Error("a failed transaction committed")
			}
		})
	}
}

// hideInNamespace runs the built seconf in a private mount namespace in
// which each path of hide is covered (a file by an empty, non-executable
// file; a directory by an empty one): the machine itself keeps its tools.
func hideInNamespace(t *testing.T, bin string, hide []string, args ...string) (string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a mount namespace")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	emptyDir := t.TempDir()
	os.WriteFile(empty, nil, 0o644)
	script := "set -e\n"
	for _, h := range hide {
		src := empty
		if st, err := os.Stat(h); err == nil && st.IsDir() {
			src = emptyDir
		}
		script += "mount --bind " + src + " " + h + "\n"
	}
	script += `exec "$@"`
	res, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "unshare", Args: append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh", bin}, args...)})
	out := string(res.Stdout) + string(res.Stderr)
	if err != nil && res.Code <= 0 {
		t.Fatalf("unshare: %v\n%s", err, out)
	}
	return out, res.Code
}

// TestMissingToolchain: a .te module on a machine without make, m4,
// checkmodule or the devel Makefile names what is missing and the package
// that provides it, before anything is compiled.
func TestMissingToolchain(t *testing.T) {
	bin := buildSeconf(t)
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": moduleHCL, "seconf_demo.te": moduleTE})
	cases := []struct {
		name string
		hide []string
		want []string
	}{
		{"make", []string{"/usr/bin/make"}, []string{"make is not installed", "install make"}},
		{"m4", []string{"/usr/bin/m4"}, []string{"m4 is not installed", "install m4"}},
		{"checkmodule", []string{"/usr/bin/checkmodule"}, []string{"checkmodule is not installed", "install checkpolicy"}},
		{"devel Makefile", []string{"/usr/share/selinux/devel"}, []string{host.DevelMakefile + " is missing", "install selinux-policy-dev (Fedora: selinux-policy-devel)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range tc.hide {
				if _, err := os.Stat(h); err != nil {
					t.Fatalf("%s is not on this machine: %v", h, err)
				}
			}
			out, code := hideInNamespace(t, bin, tc.hide, "plan", "--root", root, cfg)
			if code != 1 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			wantIn(t, "output", out, append([]string{"selinux_module.seconf_demo"}, tc.want...)...)
		})
	}
}

// TestUnprivilegedUser: plan and apply run by a user who cannot read the
// policy store say that seconf needs root and what could not be read,
// rather than that the SELinux tools are missing.
func TestUnprivilegedUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a command as another user")
	}
	bin := buildSeconf(t)
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": moduleHCL, "seconf_demo.te": moduleTE})
	// The user can reach the root and the configuration, as on a host
	// where /, /etc and the configuration are world-readable.
	for _, d := range []string{root, filepath.Dir(root), cfg, filepath.Dir(cfg), filepath.Dir(bin)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(cfg, "host.hcl"), 0o644)
	os.Chmod(filepath.Join(cfg, "seconf_demo.te"), 0o644)
	before := testenv.Snapshot(t, root)
	for _, cmd := range []string{"plan", "apply"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errb strings.Builder
			c := exec.Command(bin, cmd, "--root", root, cfg)
			c.Stdout, c.Stderr = &out, &errb
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			c.Run()
			if code := c.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
			}
			msg := errb.String()
			wantIn(t, "stderr", msg, "needs root", "permission denied")
			if strings.Contains(msg, "install policycoreutils") {
				t.Errorf("blames a missing package:\n%s", msg)
			}
		})
	}
	if after := testenv.Snapshot(t, root); after != before {
		t.Errorf("the root changed:\n%s", testenv.Diff(before, after))
	}
}
