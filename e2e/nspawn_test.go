package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"seconf/host"
	"seconf/internal/testenv"
)

func sh(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := host.ExecRunner{}.Run(ctx, host.Cmd{Name: name, Args: args, Env: env})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// machine is a real systemd booted under systemd-nspawn.
type machine struct {
	t   *testing.T
	pid string
}

// run runs a command inside the machine and returns its output and error.
func (m *machine) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := host.ExecRunner{}.Run(ctx, host.Cmd{Name: "nsenter",
		Args: append([]string{"-t", m.pid, "-m", "-u", "-i", "-n", "-p", "-C"}, args...)})
	return strings.TrimSpace(string(res.Stdout)), err
}

func (m *machine) must(args ...string) string {
	m.t.Helper()
	out, err := m.run(args...)
	if err != nil {
		m.t.Fatalf("in machine: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// prop is a unit's (or, with unit "", the manager's) property.
func (m *machine) prop(unit, p string) string {
	args := []string{"systemctl", "show", "--value", "-p", p}
	if unit != "" {
		args = append(args, unit)
	}
	return m.must(args...)
}

// reloads counts systemd's daemon-reloads since boot, from its journal.
func (m *machine) reloads() int {
	m.t.Helper()
	out, _ := m.run("journalctl", "-b", "_PID=1", "-o", "cat", "--no-pager")
	n := 0
	for _, l := range strings.Split(out, "\n") {
		// systemd 252 says "Reloading.", 257 also "Reloading finished in N ms."
		if strings.HasPrefix(l, "Reloading") && !strings.HasPrefix(l, "Reloading finished") {
			n++
		}
	}
	return n
}

// starts counts the times systemd started each unit since boot, from its
// journal (one read for all), as reloads counts reloads.
func (m *machine) starts(units ...string) map[string]int {
	m.t.Helper()
	out, _ := m.run("journalctl", "-b", "_PID=1", "-o", "json", "--output-fields=UNIT,MESSAGE", "--no-pager")
	n := map[string]int{}
	for _, u := range units {
		n[u] = 0
	}
	for _, l := range strings.Split(out, "\n") {
		var e struct{ UNIT, MESSAGE string }
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if _, ok := n[e.UNIT]; ok && strings.HasPrefix(e.MESSAGE, "Started ") {
			n[e.UNIT]++
		}
	}
	return n
}

// sees is what app sees: its file, then its secret.
func (m *machine) sees() string {
	return strings.ReplaceAll(m.must("podman", "exec", "app", "sh", "-c", `cat /app.conf; echo "$TOKEN"`), "\n", " ")
}

func boot(t *testing.T, suite, share string) *machine {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the nspawn test needs root (systemd-nspawn, nsenter)")
	}
	rootfs := sh(t, []string{"NSPAWN_SUITE=" + suite}, "../e2e/nspawn/rootfs")
	out := sh(t, []string{"NSPAWN_BIND=" + share + ":/opt/e2e"}, "../e2e/nspawn/boot", rootfs)
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	t.Cleanup(func() { sh(t, nil, "../e2e/nspawn/stop", kv["STATE"]) })
	return &machine{t: t, pid: kv["PID"]}
}

const onlineConfig = `
mount "scratch" {
  what    = "tmpfs"
  where   = "/srv/scratch"
  type    = "tmpfs"
  options = ["size=1m"]
}

container "web" {
  image   = "localhost/busybox:latest"
  command = ["sh", "-c", "trap 'exit 0' TERM; echo %VERSION%; while :; do sleep 1; done"]
  volume {
    source = mount.scratch.where
    target = "/scratch"
  }
}

variable "token" {
  sensitive = true
  default   = "%TOKEN%"
}

secret "token" {
  value = var.token
}

file "conf" {
  path    = "/etc/e2e/app.conf"
  content = "%CONF%\n"
}

volume "data" {}

network "net" {}

container "app" {
  image   = "%IMAGE%"
  network = network.net.name
  secret  = ["${secret.token.name},type=env,target=TOKEN"]
  command = ["sh", "-c", "trap 'exit 0' TERM; cat /app.conf; while :; do sleep 1; done"]
  volume {
    source    = file.conf.path
    target    = "/app.conf"
    read_only = true
  }
  volume {
    source = volume.data.name
    target = "/data"
  }
}

container "plain" {
  image   = "localhost/busybox:latest"
  quadlet = false
  command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
}
`

// TestOnlineConvergence runs seconf inside a real systemd (nspawn) with
// real podman: units appear and run, a second apply does nothing, a change
// reloads once and restarts only what changed, a removal stops and deletes.
// Debian 12 (podman 4.3, no quadlet) gets plain podman run services; Debian
// 13 (podman 5.4) gets a quadlet file for "web", chosen because the root has
// the generator, and a plain service for "plain", which asks for one.
func TestOnlineConvergence(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) { testOnline(t, suite) })
	}
}

func testOnline(t *testing.T, suite string) {
	share := t.TempDir()
	bin := filepath.Join(share, "bin")
	sh(t, []string{"CGO_ENABLED=0"}, "go", "build", "-o", filepath.Join(bin, "seconf"), "../cmd/seconf")
	cfg := filepath.Join(share, "cfg")
	os.MkdirAll(cfg, 0o755)
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := boot(t, suite, share)
	m.must("podman", "import", "-q", "/usr/local/share/seconf/busybox.tar", "localhost/busybox:latest")
	// Into the registry on the machine's loopback, pinned by the digest
	// the push reports: app's image is pulled from there by seconf.
	m.must("sh", "-c", `for i in $(seq 50); do podman push -q --digestfile /tmp/digest localhost/busybox:latest localhost:5000/e2e/busybox:1 && exit 0; sleep 0.2; done; exit 1`)
	image := "localhost:5000/e2e/busybox:1@" + m.must("cat", "/tmp/digest")
	config := func(version, conf, token string) string {
		return strings.NewReplacer("%VERSION%", version, "%CONF%", conf, "%TOKEN%", token, "%IMAGE%", image).Replace(onlineConfig)
	}
	write(config("v1", "conf-1", "token-1"))
	quadlet := suite != "bookworm"
	seconf := func(args ...string) string {
		t.Helper()
		return m.must(append([]string{"/opt/e2e/bin/seconf"}, args...)...)
	}

	out := seconf("apply", "/opt/e2e/cfg")
	t.Logf("first apply:\n%s", out)
	// seconf pulled app's image before it started the unit, which then
	// found it there.
	if !strings.Contains(out, "+ create   image:"+image) {
		t.Errorf("the first apply pulled no image:\n%s", out)
	}
	if log, _ := m.run("journalctl", "-u", "app.service", "--no-pager"); strings.Contains(log, "Trying to pull") {
		t.Errorf("app.service pulled its image itself:\n%s", log)
	}
	for _, u := range []string{"web.service", "plain.service", "srv-scratch.mount", "app.service"} {
		if st := m.prop(u, "ActiveState"); st != "active" {
			t.Errorf("%s is %s after apply", u, st)
		}
	}
	webFile := "/etc/systemd/system/web.service"
	if quadlet {
		webFile = "/etc/containers/systemd/web.container"
		if got := m.prop("web.service", "SourcePath"); got != webFile {
			t.Errorf("web.service not generated by quadlet from seconf's file: SourcePath %q", got)
		}
	} else if got := m.prop("web.service", "FragmentPath"); got != webFile {
		t.Errorf("web.service from %q, want %s", got, webFile)
	}
	if fr := m.prop("plain.service", "FragmentPath"); fr != "/etc/systemd/system/plain.service" {
		t.Errorf("plain.service from %q", fr)
	}
	if en, _ := m.run("systemctl", "is-enabled", "plain.service"); en != "enabled" {
		t.Errorf("plain.service is %q, want enabled", en)
	}

	// The second apply changes nothing: no file, no reload, no job, and no
	// command run (-v logs each): the image and the secret are found in
	// podman's stores on disk, and no registry is asked.
	web, plain := m.prop("web.service", "InvocationID"), m.prop("plain.service", "InvocationID")
	reloads := m.reloads()
	mtimes := m.must("stat", "-c", "%n %Y.%y", webFile, "/etc/systemd/system/plain.service", "/etc/systemd/system/srv-scratch.mount", "/etc/e2e/app.conf")
	out = m.must("sh", "-c", "/opt/e2e/bin/seconf apply -v /opt/e2e/cfg 2>&1")
	if !strings.Contains(out, "No changes") || strings.Contains(out, "run: ") {
		t.Errorf("second apply:\n%s", out)
	}
	if n := m.reloads(); n != reloads {
		t.Errorf("second apply reloaded systemd (%d reloads, before %d)", n, reloads)
	}
	if m.prop("web.service", "InvocationID") != web || m.prop("plain.service", "InvocationID") != plain {
		t.Error("second apply restarted a unit")
	}
	if got := m.must("stat", "-c", "%n %Y.%y", webFile, "/etc/systemd/system/plain.service", "/etc/systemd/system/srv-scratch.mount", "/etc/e2e/app.conf"); got != mtimes {
		t.Errorf("second apply rewrote unit files:\n%s\n%s", mtimes, got)
	}
	if _, err := m.run("/opt/e2e/bin/seconf", "plan", "--detailed-exitcode", "/opt/e2e/cfg"); err != nil {
		t.Errorf("plan after apply: %v", err)
	}

	if got := m.sees(); got != "conf-1 token-1" {
		t.Errorf("app sees %q as its file and secret", got)
	}

	// The file changes, then the secret: each time app restarts, exactly
	// once, and nothing else does; no unit file changes, so no reload.
	for _, step := range []struct{ conf, token, changed string }{
		{"conf-2", "token-1", "~ update   file.conf"},
		{"conf-2", "token-2", "~ update   secret.token"},
	} {
		startsBefore := m.starts("app.service", "web.service", "plain.service")
		reloads := m.reloads()
		write(config("v1", step.conf, step.token))
		out := seconf("apply", "/opt/e2e/cfg")
		if !strings.Contains(out, step.changed) || !strings.Contains(out, "~ restart  container.app") || strings.Contains(out, "container.web") || strings.Contains(out, "container.plain") {
			t.Errorf("apply of %s:\n%s", step.changed, out)
		}
		after := m.starts("app.service", "web.service", "plain.service")
		for u, n := range startsBefore {
			want := n
			if u == "app.service" {
				want++
			}
			if after[u] != want {
				t.Errorf("%s: %s started %d times, want %d", step.changed, u, after[u]-n, want-n)
			}
		}
		if n := m.reloads(); n != reloads {
			t.Errorf("%s reloaded systemd %d times", step.changed, n-reloads)
		}
		if got := m.sees(); got != step.conf+" "+step.token {
			t.Errorf("app sees %q as its file and secret, want %q", got, step.conf+" "+step.token)
		}
	}
	web, plain = m.prop("web.service", "InvocationID"), m.prop("plain.service", "InvocationID")
	reloads = m.reloads()

	// A change: one reload, web restarted, plain left running.
	write(config("v2", "conf-2", "token-2"))
	out = seconf("apply", "/opt/e2e/cfg")
	if !strings.Contains(out, "container.web") || strings.Contains(out, "container.plain") {
		t.Errorf("apply of a change to web:\n%s", out)
	}
	if n := m.reloads(); n != reloads+1 {
		t.Errorf("a change made %d reloads, want 1", n-reloads)
	}
	if m.prop("web.service", "InvocationID") == web {
		t.Error("changed web.service was not restarted")
	}
	if m.prop("plain.service", "InvocationID") != plain {
		t.Error("unchanged plain.service was restarted")
	}
	if st := m.prop("web.service", "ActiveState"); st != "active" {
		t.Errorf("web.service is %s after the change", st)
	}

	// A unit that fails to start (an image that is not there): apply says
	// which unit and fails; once the configuration is fixed, the next apply
	// converges.
	// pull = never: seconf does not pull it (and plan warns); the unit fails.
	broken := config("v2", "conf-2", "token-2") + "\ncontainer \"broken\" {\n  image = \"localhost/missing:1\"\n  restart = \"no\"\n  pull = \"never\"\n}\n"
	write(broken)
	out, err := m.run("/opt/e2e/bin/seconf", "apply", "/opt/e2e/cfg")
	if err == nil || !strings.Contains(err.Error(), "container.broken: start broken.service: job failed") {
		t.Errorf("apply of a unit that cannot start: %v\n%s", err, out)
	}
	write(config("v2", "conf-2", "token-2"))
	seconf("apply", "/opt/e2e/cfg")
	if _, err := m.run("/opt/e2e/bin/seconf", "plan", "--detailed-exitcode", "/opt/e2e/cfg"); err != nil {
		t.Errorf("not converged after the fix: %v", err)
	}

	// The convergence timer, installed online: enabled, running, and its
	// service converges under its sandbox.
	seconf("timer", "install", "--every", "1m", "/opt/e2e/cfg")
	if st := m.prop("seconf-converge.timer", "ActiveState"); st != "active" {
		t.Errorf("seconf-converge.timer is %s", st)
	}
	if en, _ := m.run("systemctl", "is-enabled", "seconf-converge.timer"); en != "enabled" {
		t.Errorf("seconf-converge.timer is %q, want enabled", en)
	}
	m.must("systemctl", "stop", "web.service")
	m.run("systemctl", "start", "seconf-converge.service")
	if r := m.prop("seconf-converge.service", "Result"); r != "success" {
		out, _ := m.run("journalctl", "-u", "seconf-converge.service", "-o", "cat", "--no-pager")
		t.Errorf("seconf-converge.service: %s\n%s", r, out)
	}
	if st := m.prop("web.service", "ActiveState"); st != "active" {
		t.Errorf("the timer's apply did not start the stopped web.service: %s", st)
	}

	// A removal: stopped, disabled, deleted.
	full := config("v2", "conf-2", "token-2")
	write(full[:strings.Index(full, `container "plain"`)])
	out = seconf("apply", "/opt/e2e/cfg")
	if !strings.Contains(out, "- delete   container.plain") {
		t.Errorf("apply of the removal:\n%s", out)
	}
	if st := m.prop("plain.service", "ActiveState"); st != "inactive" {
		t.Errorf("removed plain.service is %s", st)
	}
	if _, err := m.run("test", "-e", "/etc/systemd/system/plain.service"); err == nil {
		t.Error("plain.service's file is still there")
	}
	if out, _ := m.run("podman", "ps", "--format", "{{.Names}}"); strings.Contains(out, "plain") {
		t.Errorf("the plain container still runs: %s", out)
	}
	if st := m.prop("seconf-converge.timer", "ActiveState"); st != "active" {
		t.Errorf("an apply of the configuration touched the timer: %s", st)
	}
	seconf("timer", "remove")
	// systemd 257 says not-found; 252 prints nothing and fails.
	if en, err := m.run("systemctl", "is-enabled", "seconf-converge.timer"); err == nil || (en != "not-found" && en != "") {
		t.Errorf("after timer remove: is-enabled %q (%v)", en, err)
	}
	if st := m.prop("seconf-converge.timer", "ActiveState"); st != "inactive" {
		t.Errorf("after timer remove the timer is %s", st)
	}

	// The configuration as it is now (all but plain), from git; the
	// commits change web's version only, so the service writes units, not
	// the file block's directory (a source's configuration is not known
	// at timer install, which sets the service's writable paths).
	now := strings.NewReplacer("%CONF%", "conf-2", "%TOKEN%", "token-2", "%IMAGE%", image).Replace(onlineConfig)
	testSourceTimer(t, m, share, now[:strings.Index(now, `container "plain"`)])
}

// testSourceTimer installs the timer with a source: a repository the test
// signs on this side and git daemon serves inside the machine, on its own
// loopback (the machine has a private network). The service fetches,
// verifies and converges under its sandbox (RestrictAddressFamilies= now
// with AF_INET); an unsigned commit is refused, fails the service, and
// changes nothing.
func testSourceTimer(t *testing.T, m *machine, share, cfg string) {
	alice := testenv.SSHSigner(t, "alice")
	if err := os.WriteFile(filepath.Join(share, "allowed_signers"), []byte(alice.Allowed), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := testenv.NewGitRepo(t, filepath.Join(share, "repos", "fleet"))
	commit := func(s *testenv.Signer, version string) string {
		return repo.Commit(s, version, map[string]string{"hosts/web/host.hcl": strings.ReplaceAll(cfg, "%VERSION%", version)})
	}
	v3 := commit(alice, "v3")
	m.must("systemd-run", "--unit=e2e-git-daemon", "/usr/bin/git", "daemon", "--reuseaddr", "--listen=127.0.0.1",
		"--base-path=/opt/e2e/repos", "--export-all")
	const url = "git://127.0.0.1/fleet/.git"
	for i := 0; ; i++ {
		if _, err := m.run("git", "ls-remote", url); err == nil {
			break
		} else if i == 50 {
			t.Fatalf("git daemon does not answer in the machine: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	webFile := "/etc/systemd/system/web.service"
	if m.prop("web.service", "SourcePath") != "" {
		webFile = "/etc/containers/systemd/web.container"
	}
	m.must("/opt/e2e/bin/seconf", "timer", "install", "--every", "1m", "--source", "git+"+url+"#main",
		"--allowed-signers", "/opt/e2e/allowed_signers", "--path", "hosts/web")
	if fam := m.prop("seconf-converge.service", "RestrictAddressFamilies"); !strings.Contains(fam, "AF_INET") {
		t.Errorf("the service may not reach the network: RestrictAddressFamilies=%s", fam)
	}
	web := m.prop("web.service", "InvocationID")
	journal := func() string {
		out, _ := m.run("journalctl", "-u", "seconf-converge.service", "-o", "cat", "--no-pager")
		return out
	}
	m.run("systemctl", "start", "seconf-converge.service")
	if r := m.prop("seconf-converge.service", "Result"); r != "success" {
		t.Fatalf("seconf-converge.service from the source: %s\n%s", r, journal())
	}
	t.Logf("the timer's run from the source:\n%s", journal())
	if got := m.must("cat", webFile); !strings.Contains(got, "v3") {
		t.Errorf("the source's commit did not reach %s:\n%s", webFile, got)
	}
	if m.prop("web.service", "InvocationID") == web || m.prop("web.service", "ActiveState") != "active" {
		t.Error("web.service was not restarted into the source's version")
	}
	if j := journal(); !strings.Contains(j, "commit "+v3[:12]+", signed by alice@example.com") || !strings.Contains(j, "container.web: update done") {
		t.Errorf("the journal lacks the commit or the restart:\n%s", j)
	}

	// An unsigned commit: the service fails, the host stays on v3.
	web = m.prop("web.service", "InvocationID")
	bad := commit(nil, "v4")
	if _, err := m.run("systemctl", "start", "seconf-converge.service"); err == nil {
		t.Error("the service succeeded on an unsigned commit")
	}
	if got := m.must("cat", webFile); strings.Contains(got, "v4") || m.prop("web.service", "InvocationID") != web {
		t.Errorf("the unsigned commit changed the host:\n%s", got)
	}
	if j := journal(); !strings.Contains(j, "commit "+bad[:12]+" refused: not signed (seconf checks the commit's own signature, git commit -S; a signed tag does not count); nothing was changed; the host stays on commit "+v3[:12]) {
		t.Errorf("the journal does not say why:\n%s", j)
	} else {
		t.Logf("the run on an unsigned commit, in the journal:\n%s", j[strings.LastIndex(j, "Error: source"):])
	}
	var st struct {
		Source struct {
			Result   string
			LastGood struct{ ID string } `json:"last_good"`
		}
	}
	out, _ := m.run("/opt/e2e/bin/seconf", "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Source.Result != "refused" || st.Source.LastGood.ID != v3 {
		t.Errorf("status --json: %+v (%v)\n%s", st, err, out)
	}
	m.must("/opt/e2e/bin/seconf", "timer", "remove")
}
