package selinux

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/testenv"
)

func inlineModule(name, format, content string) *config.Module {
	return &config.Module{Block: config.Block{Kind: config.KindModule, Name: name}, Format: format,
		Content: content, Priority: 400, Enabled: true}
}

// TestCompileIsConfined compiles .te files whose m4 tries to act on the
// build machine: esyscmd runs, but as nobody, in a filesystem of its own,
// without network; nothing it does reaches the machine, and nothing it
// reads from the machine reaches the output or the error.
func TestCompileIsConfined(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the compile sandbox needs root")
	}
	stamp := time.Now().UnixNano()
	pwned := fmt.Sprintf("/tmp/seconf-pwned-%d", stamp)
	outside := t.TempDir()
	os.Chmod(outside, 0o755)
	canary := filepath.Join(outside, "canary")
	os.WriteFile(canary, []byte("canary-secret-line\n"), 0o644) // readable by anyone, nobody included
	shadow, _ := os.ReadFile("/etc/shadow")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	const head = "policy_module(evil, 1.0)\n"
	cases := []struct {
		name, te string
		wantCIL  string // a line the CIL must hold; "" when the compile must fail
		wantErr  string
		wantFile map[string]string // files the build leaves in its work dir
	}{
		{name: "esyscmd runs as nobody",
			te:       head + "esyscmd(`id -u > uid; id -g >> uid')dnl\ntype evil_`'esyscmd(`printf %s \"$(id -u)\"')`'_t;\n",
			wantCIL:  "(type evil_65534_t)",
			wantFile: map[string]string{"uid": "65534\n65534\n"}},
		{name: "esyscmd cannot touch the machine's /tmp",
			te:      head + "esyscmd(`touch " + pwned + "')dnl\ntype evil_t;\n",
			wantCIL: "(type evil_t)"},
		{name: "esyscmd cannot write beside its sources",
			te:      head + "esyscmd(`touch ../pwned ../../pwned /pwned 2>/dev/null')dnl\ntype evil_t;\n",
			wantCIL: "(type evil_t)"},
		{name: "include /etc/shadow",
			te:      head + "include(`/etc/shadow')\ntype evil_t;\n",
			wantErr: "cannot open `/etc/shadow'"},
		{name: "include a world-readable file outside",
			te:      head + "include(`" + canary + "')\ntype evil_t;\n",
			wantErr: "cannot open"},
		{name: "cat a file outside",
			te:      head + "type evil_`'esyscmd(`cat " + canary + " /etc/shadow /root/.bash_history 2>/dev/null')`'_t;\n",
			wantCIL: "(type evil__t)"},
		{name: "no network",
			te: head + "esyscmd(`bash -c \"echo hi >/dev/tcp/127.0.0.1/" + fmt.Sprint(port) + "\" 2>/dev/null')dnl\n" +
				"type evil_`'esyscmd(`bash -c \"echo hi >/dev/tcp/127.0.0.1/" + fmt.Sprint(port) + "\" 2>/dev/null && printf net')`'_t;\n",
			wantCIL: "(type evil__t)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := compile(context.Background(), host.ExecRunner{}, inlineModule("evil", config.FormatTE, tc.te), dir)
			out := ""
			if err != nil {
				out = err.Error()
			} else {
				out = string(c.cil)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("compile: %v", err)
			} else if !strings.Contains(out, tc.wantCIL+"\n") {
				t.Errorf("the CIL lacks %s:\n%.500s", tc.wantCIL, out)
			}
			for _, l := range strings.Split(string(shadow), "\n") {
				if l != "" && strings.Contains(out, l) {
					t.Errorf("a line of /etc/shadow reached the output: %q", l)
				}
			}
			if strings.Contains(out, "canary-secret") {
				t.Error("the canary reached the output")
			}
			for name, want := range tc.wantFile {
				got, _ := os.ReadFile(filepath.Join(dir, "evil", "src", name))
				if d := cmp.Diff(want, string(got)); d != "" {
					t.Errorf("%s (-want +got):\n%s", name, d)
				}
			}
			for _, p := range []string{filepath.Join(dir, "pwned"), filepath.Join(dir, "evil", "pwned"), "/pwned"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was created", p)
				}
			}
		})
	}
	if _, err := os.Stat(pwned); err == nil {
		os.Remove(pwned)
		t.Errorf("%s was created on the machine", pwned)
	}
	select {
	case <-accepted:
		t.Error("the build reached a listener on the machine's loopback")
	default:
	}
}

// planApply plans mods on root, as seconf apply does; the caller applies.
func planApply(t *testing.T, root string, mods ...*config.Module) (*Provider, *engine.Env, []*engine.Change) {
	t.Helper()
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := &engine.Env{Host: h, Config: &config.Config{Modules: mods}, State: engine.NewState()}
	p := New()
	t.Cleanup(func() { p.Close() })
	changes, diags := p.Plan(context.Background(), env)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p, env, changes
}

// TestApplyRefusesSymlinkedStore: a root whose store, or a directory deep
// in it, is a symlink to a directory of the build machine is refused before
// semodule runs, with an error that names the link and its target, and the
// machine's directory is left byte for byte as it was.
func TestApplyRefusesSymlinkedStore(t *testing.T) {
	for _, rel := range []string{
		"var/lib/selinux",
		"var/lib/selinux/default/active/modules/100",
		"etc/selinux/default/contexts/files",
	} {
		t.Run(rel, func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			p, env, changes := planApply(t, root, inlineModule("probe", config.FormatCIL, "(type probe_t)"))
			// The build machine's directory the link points to.
			machine := filepath.Join(t.TempDir(), "machine")
			if err := os.Rename(filepath.Join(root, rel), machine); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(machine, filepath.Join(root, rel)); err != nil {
				t.Fatal(err)
			}
			before := testenv.Snapshot(t, machine)
			err := p.Apply(context.Background(), env, changes)
			if err == nil {
				t.Fatal("apply went through a symlinked store")
			}
			link := filepath.Join(root, rel)
			if !strings.Contains(err.Error(), link+" is a symbolic link (to "+machine+")") {
				t.Errorf("error does not name the link and its target: %v", err)
			}
			if after := testenv.Snapshot(t, machine); after != before {
				t.Errorf("the machine's directory changed:\n%s", testenv.Diff(before, after))
			}
		})
	}
}

// TestApplyIgnoresRootPrograms: a root's semanage.conf that names a script
// in [setfiles], [sefcontext_compile], [verify module] and [load_policy]
// never gets it run, and the module still installs.
func TestApplyIgnoresRootPrograms(t *testing.T) {
	root := testenv.PolicyRoot(t)
	marker := filepath.Join(t.TempDir(), "ran")
	script := filepath.Join(root, "evil.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$0 $*\" >>"+marker+"\n"), 0o755)
	conf := filepath.Join(root, "etc/selinux/semanage.conf")
	data, _ := os.ReadFile(conf)
	var sections strings.Builder
	for _, s := range []string{"load_policy", "setfiles", "sefcontext_compile", "verify module"} {
		fmt.Fprintf(&sections, "[%s]\npath = %s\nargs = $@\n[end]\n", s, script)
	}
	os.WriteFile(conf, append(data, "store-root = /var/lib/selinux\ncompiler-directory = "+filepath.Dir(script)+"\n"+sections.String()...), 0o644)
	before, _ := os.ReadFile(conf)

	p, env, changes := planApply(t, root, inlineModule("probe", config.FormatCIL, "(type probe_t)"))
	var log strings.Builder
	env.Host.Log = &log
	if err := p.Apply(context.Background(), env, changes); err != nil {
		t.Fatal(err)
	}
	if !testenv.Modules(t, root)["probe"] {
		t.Error("the module was not installed")
	}
	if ran, err := os.ReadFile(marker); err == nil {
		t.Errorf("the root's program ran:\n%.300s", ran)
	}
	if after, _ := os.ReadFile(conf); string(after) != string(before) {
		t.Error("the root's semanage.conf changed")
	}
	for _, s := range []string{"[setfiles]", "[verify module]", "compiler-directory"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("the log does not say %s was ignored:\n%s", s, log.String())
		}
	}
}

// TestApplyUsesRootStore: a root whose SELINUXTYPE is targeted gets its
// module in the targeted store (not the build machine's "default"), and the
// next plan has nothing to do.
func TestApplyUsesRootStore(t *testing.T) {
	root := testenv.PolicyRoot(t)
	for _, d := range []string{"etc/selinux", "var/lib/selinux"} {
		if err := os.Rename(filepath.Join(root, d, "default"), filepath.Join(root, d, "targeted")); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc/selinux/config"), []byte("SELINUX=permissive\nSELINUXTYPE=targeted\n"), 0o644)
	mod := inlineModule("probe", config.FormatCIL, "(type probe_t)")
	p, env, changes := planApply(t, root, mod)
	if err := p.Apply(context.Background(), env, changes); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("semodule", "-p", root, "-n", "-s", "targeted", "-l").CombinedOutput()
	if err != nil || !strings.Contains("\n"+string(out), "\nprobe\n") {
		t.Errorf("probe not in the targeted store (%v):\n%.300s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/selinux/default")); err == nil {
		t.Error("semodule made a default store in the root")
	}
	q := New()
	defer q.Close()
	again, diags := q.Plan(context.Background(), env)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range again {
		if c.Action != engine.NoOp {
			t.Errorf("second plan: %s %s (%s)", c.Action, c.ID, c.Reason)
		}
	}
}

func TestSanitizeSemanageConf(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
		dropped             []string
	}{
		{name: "debian stock", in: "# comment\nmodule-store = direct\n#policy-version = 19\nexpand-check=0\n",
			want: "module-store = direct\nexpand-check = 0\n"},
		{name: "sections and paths go",
			in: "module-store = direct\n[setfiles]\npath = /x\nargs = -q -c $@ $<\n[end]\nbzip-small=true\n" +
				"  [verify module]  \npath=/y\n[end]\nstore-root = /z\ncompiler-directory=/w\nusepasswd = \"false\"\n",
			want:    "module-store = direct\nbzip-small = true\nusepasswd = false\n",
			dropped: []string{"[setfiles] (line 2)", "[verify module] (line 7)", "store-root (line 10)", "compiler-directory (line 11)"}},
		{name: "unknown keys go", in: "frobnicate = 1\npath = /x\n", want: "",
			dropped: []string{"frobnicate (line 1)", "path (line 2)"}},
		{name: "ignoredirs stays", in: "ignoredirs=/root;/bin\n", want: "ignoredirs = /root;/bin\n"},
		{name: "a policy server is refused", in: "module-store = /run/policy.sock\n", err: "conf:1: module-store = /run/policy.sock"},
		{name: "odd values are refused", in: "expand-check = 0 $(reboot)\n", err: "conf:1: expand-check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, dropped, err := sanitizeSemanageConf([]byte(tc.in), "conf")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, body, _ := strings.Cut(string(out), "\n") // past the header comment
			if d := cmp.Diff(tc.want, body); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.dropped, dropped); d != "" {
				t.Errorf("dropped (-want +got):\n%s", d)
			}
		})
	}
}

func TestStoreName(t *testing.T) {
	for _, tc := range []struct{ name, config, want, err string }{
		{"none", "", "default", ""},
		{"targeted", "SELINUX=enforcing\nSELINUXTYPE=targeted\n", "targeted", ""},
		{"last wins", "SELINUXTYPE=a\n SELINUXTYPE= mls \n", "mls", ""},
		{"path", "SELINUXTYPE=../../etc\n", "", "not a policy store name"},
		{"dotdot", "SELINUXTYPE=..\n", "", "not a policy store name"},
		{"slash", "SELINUXTYPE=a/b\n", "", "not a policy store name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.config != "" {
				os.MkdirAll(filepath.Join(root, "etc/selinux"), 0o755)
				os.WriteFile(filepath.Join(root, "etc/selinux/config"), []byte(tc.config), 0o644)
			}
			got, err := storeName(host.NewFS(root))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("%q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("%q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestCheckStoreLinks: a link anywhere semodule -p would follow it is
// found; a link elsewhere in the root is none of semodule's business.
func TestCheckStoreLinks(t *testing.T) {
	dirs := []string{"etc/selinux/default/contexts/files", "var/lib/selinux/default/active/modules/400/x",
		"var/lib/selinux/final/default/policy", "etc/systemd"}
	for _, tc := range []struct {
		name, link string
		refused    bool
	}{
		{"etc", "etc", true},
		{"var", "var", true},
		{"var/lib", "var/lib", true},
		{"etc/selinux", "etc/selinux", true},
		{"semanage.conf", "etc/selinux/semanage.conf", true},
		{"deep in etc store", "etc/selinux/default/contexts/files/file_contexts", true},
		{"deep in var store", "var/lib/selinux/default/active/modules/400/x/cil", true},
		{"final", "var/lib/selinux/final", true},
		{"in final store", "var/lib/selinux/final/default/policy/policy.33", true},
		{"another store", "var/lib/selinux/mls", false},
		{"outside selinux", "etc/systemd/system", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range dirs {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			target := t.TempDir()
			link := filepath.Join(root, tc.link)
			os.RemoveAll(link)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			err := checkStoreLinks(root, "default")
			if !tc.refused {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), link+" is a symbolic link (to "+target+")") {
				t.Errorf("error %v, want one naming %s", err, link)
			}
		})
	}
}
