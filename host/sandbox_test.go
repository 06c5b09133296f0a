package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sandboxes need root")
	}
}

// sh runs script with /bin/sh in a Compile sandbox whose work directory is
// work; it returns stdout and the error.
func sandboxSh(t *testing.T, work, script string, binds ...Bind) (string, string, error) {
	t.Helper()
	res, err := ExecRunner{}.Run(context.Background(), Cmd{Name: "/bin/sh", Args: []string{"-c", script}, Dir: work,
		Sandbox: &Sandbox{Compile: true, WorkDir: work, Binds: binds}})
	var se *SandboxError
	if errors.As(err, &se) {
		t.Fatalf("sandbox setup failed: %v", err)
	}
	return string(res.Stdout), string(res.Stderr), err
}

// TestCompileSandbox runs shell commands in a Compile sandbox and checks,
// the way a person would from inside, that they run as nobody without
// capabilities, see nothing of the machine but the system's programs, and
// leave nothing outside their work directory.
func TestCompileSandbox(t *testing.T) {
	needRoot(t)
	outside := t.TempDir()
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte("canary-secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// World-readable, on the path: only the mount view keeps it out.
	os.Chmod(outside, 0o755)
	marker := fmt.Sprintf("/tmp/seconf-sandbox-marker-%d", time.Now().UnixNano())
	t.Setenv("SECONF_TEST_SECRET", "s3cret")
	// What of /etc the sandbox should show: the files it binds that exist.
	etc := map[string]bool{}
	for _, p := range compileEtc {
		if _, err := os.Stat(p); err == nil {
			etc[strings.Split(strings.TrimPrefix(p, "/etc/"), "/")[0]] = true
		}
	}
	var etcWant []string
	for e := range etc {
		etcWant = append(etcWant, e+"\n")
	}
	sort.Strings(etcWant)

	cases := []struct {
		name, script string
		want         string // stdout
		fail         bool
		binds        []Bind
	}{
		{name: "ids", script: "id -u; id -g; id -G", want: "65534\n65534\n65534\n"},
		{name: "pid 1 of its own", script: `echo $$`, want: "1\n"},
		{name: "no shadow", script: "cat /etc/shadow", fail: true},
		{name: "etc holds what the tools read", script: "ls /etc", want: strings.Join(etcWant, "")},
		{name: "no root or home", script: "ls -d /root /home /var /run /proc /sys 2>/dev/null; true", want: ""},
		{name: "nothing beside the work dir", script: "cat " + canary, fail: true},
		{name: "usr read-only", script: "touch /usr/seconf-x", fail: true},
		{name: "root read-only", script: "touch /seconf-x", fail: true},
		{name: "tmp is private", script: "touch " + marker + " && echo ok", want: "ok\n"},
		{name: "environment is clean", script: "env | sort", want: "HOME=/\nLC_ALL=C\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\nPWD=WORK\n"},
		{name: "dev null writable", script: "echo x >/dev/null && head -c1 /dev/zero | od -An -tx1", want: " 00\n"},
		// Host's /proc, for the test only: /proc/self is this process.
		{name: "no capabilities", script: "grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
			binds: []Bind{{Src: "/proc", Dst: "/proc", ReadOnly: true}},
			want:  "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			out, stderr, err := sandboxSh(t, work, tc.script, tc.binds...)
			out = strings.ReplaceAll(out, work, "WORK")
			if tc.fail != (err != nil) {
				t.Fatalf("error %v, want failure %v; stdout %q stderr %q", err, tc.fail, out, stderr)
			}
			if !tc.fail {
				if d := cmp.Diff(tc.want, out); d != "" {
					t.Errorf("stdout (-want +got):\n%s\nstderr: %s", d, stderr)
				}
			}
			if strings.Contains(out+stderr, "canary-secret") || strings.Contains(out+stderr, "s3cret") {
				t.Errorf("a secret leaked: %q %q", out, stderr)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		os.Remove(marker)
		t.Errorf("%s was created on the machine", marker)
	}
}

// TestCompileSandboxWorkDir: the work directory is the one place a
// sandboxed command writes, and what it writes is there afterwards.
func TestCompileSandboxWorkDir(t *testing.T) {
	needRoot(t)
	parent := t.TempDir()
	work := filepath.Join(parent, "w")
	os.Mkdir(work, 0o700)
	os.WriteFile(filepath.Join(work, "in"), []byte("input\n"), 0o600)
	if _, stderr, err := sandboxSh(t, work, "cat in > out && mkdir sub && touch ../escape"); err == nil || !strings.Contains(stderr, "escape") {
		t.Fatalf("touching outside the work dir: err %v, stderr %s", err, stderr)
	}
	data, err := os.ReadFile(filepath.Join(work, "out"))
	if err != nil || string(data) != "input\n" {
		t.Errorf("out = %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(parent, "escape")); err == nil {
		t.Error("the command wrote beside its work directory")
	}
}

// TestCompileSandboxNoNetwork: a listener on the machine's loopback is out
// of reach.
func TestCompileSandboxNoNetwork(t *testing.T) {
	needRoot(t)
	bash, err := Tool("bash")
	if err != nil {
		t.Skip(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan bool, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err == nil
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	res, err := ExecRunner{}.Run(context.Background(), Cmd{Name: bash,
		Args:    []string{"-c", fmt.Sprintf("echo hi >/dev/tcp/127.0.0.1/%d", port)},
		Sandbox: &Sandbox{Compile: true}})
	if err == nil {
		t.Errorf("connected to the machine's loopback: %s", res.Stderr)
	}
	ln.Close()
	if <-accepted {
		t.Error("the listener accepted a connection from the sandbox")
	}
}

// TestPrivateBind: a file bound over another is what the command reads,
// read-only, and the machine never sees it.
func TestPrivateBind(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	conf, sane := filepath.Join(dir, "conf"), filepath.Join(dir, "sane")
	os.WriteFile(conf, []byte("original\n"), 0o644)
	os.WriteFile(sane, []byte("sanitised\n"), 0o644)
	run := func(dst, script string) (Result, error) {
		return ExecRunner{}.Run(context.Background(), Cmd{Name: "/bin/sh", Args: []string{"-c", script},
			Sandbox: &Sandbox{Binds: []Bind{{Src: sane, Dst: dst, ReadOnly: true}}}})
	}
	res, err := run(conf, "cat "+conf+"; echo x >"+conf+" || echo read-only")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff("sanitised\nread-only\n", string(res.Stdout)); d != "" {
		t.Errorf("inside (-want +got):\n%s", d)
	}
	if data, _ := os.ReadFile(conf); string(data) != "original\n" {
		t.Errorf("the machine's file changed: %q", data)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), conf) {
		t.Error("the bind mount leaked into the machine's namespace")
	}

	// A symlink at the destination is refused, and the command never runs.
	link, marker := filepath.Join(dir, "link"), filepath.Join(dir, "ran")
	os.Symlink(conf, link)
	_, err = run(link, "touch "+marker)
	var se *SandboxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("bind over a symlink: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although its sandbox failed")
	}
}

// TestSandboxFailsClosed runs the sandbox from a root process without
// CAP_SYS_ADMIN (as in a locked-down container): it must refuse with a
// clear error, never run the command unconfined.
func TestSandboxFailsClosed(t *testing.T) {
	if os.Getenv("SECONF_FAILCLOSED_HELPER") != "" {
		marker := os.Getenv("SECONF_FAILCLOSED_HELPER")
		_, err := ExecRunner{}.Run(context.Background(), Cmd{Name: "/bin/sh", Args: []string{"-c", "touch " + marker},
			Sandbox: &Sandbox{Compile: true}})
		fmt.Println(err)
		return
	}
	needRoot(t)
	setpriv, err := Tool("setpriv")
	if err != nil {
		t.Skip(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	cmd := exec.Command(setpriv, "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", "--",
		os.Args[0], "-test.run=^TestSandboxFailsClosed$")
	cmd.Env = append(os.Environ(), "SECONF_FAILCLOSED_HELPER="+marker)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cannot start it in new namespaces") || !strings.Contains(string(out), "never runs it unsandboxed") {
		t.Errorf("no clear error:\n%s", out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran without its sandbox")
	}
}

func TestReadUntrusted(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok"), []byte("data"), 0o600)
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, 11), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	for _, tc := range []struct{ name, want string }{
		{"ok", ""}, {"big", "larger than 10"}, {"link", "symbolic link"}, {"fifo", "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadUntrusted(filepath.Join(dir, tc.name), 10)
			if tc.want == "" {
				if err != nil || string(data) != "data" {
					t.Errorf("%q, %v", data, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
