package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
	"seconf/internal/gitsource"
	"seconf/internal/testenv"
)

// mountHCL is a configuration of one mount unit, whose size tells versions
// apart: it applies offline without a policy store.
func mountHCL(size string) string {
	return `mount "scratch" {
  what    = "tmpfs"
  where   = "/srv/scratch"
  type    = "tmpfs"
  options = ["size=` + size + `"]
}
`
}

const scratchUnit = "etc/systemd/system/srv-scratch.mount"

// fleet is a repository served over HTTP on the loopback, a host root
// that applies it, and the keys that sign its commits.
type fleet struct {
	repo           *testenv.GitRepo
	srv            *testenv.GitServer
	root           string
	source         string
	alice, mallory *testenv.Signer
	allowed        string
}

func newFleet(t *testing.T, root string) *fleet {
	t.Helper()
	served := t.TempDir()
	f := &fleet{
		repo:    testenv.NewGitRepo(t, filepath.Join(served, "fleet")),
		srv:     testenv.ServeGit(t, served),
		root:    root,
		alice:   testenv.SSHSigner(t, "alice"),
		mallory: testenv.SSHSigner(t, "mallory"),
	}
	f.source = "git+" + f.srv.URL + "/fleet/.git#main"
	f.allowed = testenv.AllowedSigners(t, t.TempDir(), f.alice)
	return f
}

// commit commits the configuration at hosts/web.
func (f *fleet) commit(s *testenv.Signer, msg string, files map[string]string) string {
	in := map[string]string{"README.md": "the fleet\n"}
	for k, v := range files {
		in["hosts/web/"+k] = v
	}
	return f.repo.Commit(s, msg, in)
}

// args is a command with the fleet's source flags.
func (f *fleet) args(cmd string, extra ...string) []string {
	return append([]string{cmd, "--root", f.root, "--source", f.source, "--allowed-signers", f.allowed, "--path", "hosts/web"}, extra...)
}

// hostSnapshot is the root but seconf's own state directory (its record
// and its cache): what a refused run must leave as it was.
func hostSnapshot(t *testing.T, root string) string {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(testenv.Snapshot(t, root), "\n") {
		if !strings.HasPrefix(l, "var/lib/seconf") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// sourceStatus is status --json's source section, and its exit code with
// --detailed-exitcode.
func sourceStatus(t *testing.T, root string) (*statusDoc, int) {
	t.Helper()
	out, errs, code := seconf(t, "status", "--json", "--detailed-exitcode", "--root", root)
	var doc statusDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s\n%s", err, out, errs)
	}
	if doc.Source == nil {
		t.Fatalf("status --json has no source:\n%s", out)
	}
	return &doc, code
}

// outcome is what a person checks of a source run in status.
type outcome struct {
	Result, Commit, Good string
	Pending, Checked     bool
	Code                 int
}

func checkOutcome(t *testing.T, root string, want outcome, errWant string) {
	t.Helper()
	doc, code := sourceStatus(t, root)
	got := outcome{Result: doc.Source.Result, Pending: doc.Drift.Pending, Checked: doc.Drift.Checked, Code: code}
	if doc.Source.Commit != nil {
		got.Commit = doc.Source.Commit.ID
	}
	if doc.Source.Good != nil {
		got.Good = doc.Source.Good.ID
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	if !strings.Contains(doc.Source.Error, errWant) {
		t.Errorf("status error %q, want it to contain %q", doc.Source.Error, errWant)
	}
}

// TestSourceConverges follows one host through the life of its source: a
// signed commit converges, a second run finds nothing new and writes
// nothing, a signed change converges; an unsigned commit, one signed by an
// unknown key, a ref moved backwards and a server that is gone are refused
// with the host as it was; --allow-rewind takes the older commit on
// purpose.
func TestSourceConverges(t *testing.T) {
	f := newFleet(t, unitRoot(t))
	v1 := f.commit(f.alice, "v1", map[string]string{"host.hcl": mountHCL("1m")})
	var v2 string
	refused := func(t *testing.T, wantErr string, good string, args []string) {
		t.Helper()
		before := hostSnapshot(t, f.root)
		out, errs, code := seconf(t, args...)
		if code != 1 || !strings.Contains(errs, wantErr) || !strings.Contains(errs, "nothing was changed; the host stays on commit "+gitsource.Short(good)) {
			t.Errorf("exit %d, want 1 with %q and the commit the host stays on\nstdout:\n%s\nstderr:\n%s", code, wantErr, out, errs)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("the refusal is not one line (the journal's):\n%s", errs)
		}
		if d := testenv.Diff(before, hostSnapshot(t, f.root)); d != "" {
			t.Errorf("a refused run changed the host:\n%s", d)
		}
	}
	type step struct {
		name string
		run  func(t *testing.T)
	}
	steps := []step{
		{"signed-converges", func(t *testing.T) {
			out := mustSeconf(t, 0, f.args("apply")...)
			if !strings.Contains(out, "Source "+f.source+": commit "+gitsource.Short(v1)+", signed by alice@example.com") ||
				!strings.Contains(out, "mount.scratch: create done") {
				t.Errorf("apply:\n%s", out)
			}
			if !strings.Contains(readAt(t, f.root, scratchUnit), "size=1m") {
				t.Error("the unit is not the commit's")
			}
			checkOutcome(t, f.root, outcome{Result: "applied", Commit: v1, Good: v1, Checked: true}, "")
		}},
		{"no-change-writes-nothing", func(t *testing.T) {
			before := testenv.Snapshot(t, f.root)
			st, _ := os.Stat(filepath.Join(f.root, host.StatePath))
			out := mustSeconf(t, 0, f.args("apply")...)
			if !strings.Contains(out, "No changes.") {
				t.Errorf("second apply:\n%s", out)
			}
			if d := testenv.Diff(before, testenv.Snapshot(t, f.root)); d != "" {
				t.Errorf("a run that found the same commit changed files:\n%s", d)
			}
			if st2, _ := os.Stat(filepath.Join(f.root, host.StatePath)); !st2.ModTime().Equal(st.ModTime()) {
				t.Error("a run that found the same commit rewrote the state record")
			}
			if out := mustSeconf(t, 0, f.args("plan", "--detailed-exitcode")...); !strings.Contains(out, "No changes.") {
				t.Errorf("plan --source:\n%s", out)
			}
			var doc struct {
				Source sourceRecord
				Runs   []jsonDoc
			}
			out = mustSeconf(t, 0, f.args("apply", "--json")...)
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("apply --json: %v\n%s", err, out)
			}
			if doc.Source.Result != "applied" || doc.Source.Commit == nil || doc.Source.Commit.ID != v1 || len(doc.Runs) != 1 || doc.Runs[0].Plan.Pending {
				t.Errorf("apply --json:\n%s", out)
			}
			if d := testenv.Diff(before, testenv.Snapshot(t, f.root)); d != "" {
				t.Errorf("plan and apply --json of the same commit changed files:\n%s", d)
			}
		}},
		{"signed-change-converges", func(t *testing.T) {
			v2 = f.commit(f.alice, "v2", map[string]string{"host.hcl": mountHCL("2m")})
			if out := mustSeconf(t, 2, f.args("plan", "--detailed-exitcode")...); !strings.Contains(out, "~ update   mount.scratch") {
				t.Errorf("plan --source of the change:\n%s", out)
			}
			out := mustSeconf(t, 0, f.args("apply")...)
			if !strings.Contains(out, "mount.scratch: update done") || !strings.Contains(readAt(t, f.root, scratchUnit), "size=2m") {
				t.Errorf("apply of the change:\n%s", out)
			}
			checkOutcome(t, f.root, outcome{Result: "applied", Commit: v2, Good: v2, Checked: true}, "")
			// Only the current checkout is kept.
			ents, _ := os.ReadDir(filepath.Join(f.root, gitsource.CheckoutDir))
			if len(ents) != 1 {
				t.Errorf("%d checkouts kept, want 1", len(ents))
			}
		}},
		{"unsigned-refused", func(t *testing.T) {
			bad := f.commit(nil, "unsigned", map[string]string{"host.hcl": mountHCL("3m")})
			refused(t, "commit "+gitsource.Short(bad)+" refused: not signed", v2, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "refused", Commit: bad, Good: v2, Checked: true, Code: 2}, "not signed")
			if _, _, code := seconf(t, f.args("plan")...); code != 1 {
				t.Errorf("plan of an unsigned commit: exit %d, want 1", code)
			}
		}},
		{"unknown-key-refused", func(t *testing.T) {
			bad := f.commit(f.mallory, "mallory", map[string]string{"host.hcl": mountHCL("3m")})
			refused(t, "signed by a key that is not in "+f.allowed, v2, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "refused", Commit: bad, Good: v2, Checked: true, Code: 2}, "not in")
		}},
		{"backwards-refused", func(t *testing.T) {
			f.repo.Reset(v1)
			refused(t, "does not descend from the last good commit "+gitsource.Short(v2), v2, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "refused", Commit: v1, Good: v2, Checked: true, Code: 2}, "moved backwards")
		}},
		{"rewind-on-purpose", func(t *testing.T) {
			out := mustSeconf(t, 0, f.args("apply", "--allow-rewind")...)
			if !strings.Contains(out, "mount.scratch: update done") || !strings.Contains(readAt(t, f.root, scratchUnit), "size=1m") {
				t.Errorf("apply --allow-rewind:\n%s", out)
			}
			checkOutcome(t, f.root, outcome{Result: "applied", Commit: v1, Good: v1, Checked: true}, "")
		}},
		{"key-taken-out", func(t *testing.T) {
			// alice signed the commit the host runs; once her key leaves
			// the file, the same commit is refused on the next run.
			keep, _ := os.ReadFile(f.allowed)
			os.WriteFile(f.allowed, []byte(f.mallory.Allowed), 0o644)
			refused(t, "signed by a key that is not in", v1, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "refused", Commit: v1, Good: v1, Checked: true, Code: 2}, "not in")
			os.WriteFile(f.allowed, keep, 0o644)
			if out := mustSeconf(t, 0, f.args("apply")...); !strings.Contains(out, "No changes.") {
				t.Errorf("apply with the key back:\n%s", out)
			}
			checkOutcome(t, f.root, outcome{Result: "applied", Commit: v1, Good: v1, Checked: true}, "")
		}},
		{"signers-writable-by-others", func(t *testing.T) {
			os.Chmod(f.allowed, 0o666)
			refused(t, "writable by group or others", v1, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "error", Commit: v1, Good: v1, Checked: true, Code: 2}, "chmod go-w")
			os.Chmod(f.allowed, 0o644)
		}},
		{"fetch-failure", func(t *testing.T) {
			f.srv.Stop()
			refused(t, "fetch failed", v1, f.args("apply"))
			checkOutcome(t, f.root, outcome{Result: "fetch-failed", Commit: v1, Good: v1, Checked: true, Code: 2}, "connect")
			out := mustSeconf(t, 0, "status", "--root", f.root)
			for _, re := range []string{
				`(?m)^Source: git\+http://127\.0\.0\.1:\d+/fleet/\.git#main \(directory hosts/web\)$`,
				`(?m)^  Last run: FETCH FAILED since \S+ \(\S+ ago\): fetch failed: git fetch: .*connect`,
				`(?m)^  Last good: commit ` + gitsource.Short(v1) + `, signed by alice@example.com, applied \S+; the host runs it\.$`,
				`(?m)^No changes\. The host matches the configuration\.$`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("status does not match %s:\n%s", re, out)
				}
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			break
		}
	}
}

// TestSourceGitIsolated: what the caller's environment says to git, and
// hooks in seconf's own repository, change nothing: git runs with a clean
// environment and hooks pointed at /dev/null.
func TestSourceGitIsolated(t *testing.T) {
	f := newFleet(t, unitRoot(t))
	f.commit(f.alice, "v1", map[string]string{"host.hcl": mountHCL("1m")})
	mustSeconf(t, 0, f.args("apply")...)
	ran := filepath.Join(t.TempDir(), "hook-ran")
	hooks := filepath.Join(f.root, gitsource.RepoDir, "hooks")
	os.MkdirAll(hooks, 0o755)
	for _, h := range []string{"reference-transaction", "post-checkout", "post-merge"} {
		if err := os.WriteFile(filepath.Join(hooks, h), []byte("#!/bin/sh\ntouch "+ran+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.commit(f.alice, "v2", map[string]string{"host.hcl": mountHCL("2m")})
	// Each of these would make the fetch fail, or run a command, if git
	// saw it.
	for k, v := range map[string]string{
		"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://127.0.0.1:1",
		"GIT_CONFIG_PARAMETERS": "'protocol.http.allow'='never'",
		"GIT_DIR":               "/nonexistent", "GIT_EXEC_PATH": "/nonexistent",
		"GIT_ASKPASS": "/bin/false", "GIT_SSH_COMMAND": "touch " + ran,
	} {
		t.Setenv(k, v)
	}
	out := mustSeconf(t, 0, f.args("apply")...)
	if !strings.Contains(out, "mount.scratch: update done") {
		t.Errorf("apply:\n%s", out)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a hook or a command from the environment ran")
	}
}

// TestSourceFlags: the source's flags go together, and replace PATH.
func TestSourceFlags(t *testing.T) {
	root := unitRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"source-and-path", []string{"apply", "--root", root, "--source", "git+https://x/y.git", "--allowed-signers", "/a", "/etc/seconf"}, "--source replaces PATH"},
		{"no-signers", []string{"apply", "--root", root, "--source", "git+https://x/y.git"}, "--source needs --allowed-signers"},
		{"signers-alone", []string{"apply", "--root", root, "--allowed-signers", "/a", "/etc/seconf"}, "--allowed-signers goes with --source"},
		{"rewind-alone", []string{"plan", "--root", root, "--allow-rewind", "/etc/seconf"}, "--allow-rewind goes with --source"},
		{"dash-url", []string{"apply", "--root", root, "--source", "git+-oops", "--allowed-signers", "/a"}, "may not start with '-'"},
		{"ext", []string{"apply", "--root", root, "--source", "git+ext::evil", "--allowed-signers", "/a"}, "remote helpers"},
		{"escaping-path", []string{"apply", "--root", root, "--source", "git+https://x/y.git", "--allowed-signers", "/etc/hostname", "--path", "../x"}, "inside the repository"},
		{"status-without-source", []string{"status", "--root", root}, "give the configuration's PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testenv.Snapshot(t, root)
			_, errs, code := seconf(t, tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errs, tc.want)
			}
			if d := testenv.Diff(before, testenv.Snapshot(t, root)); d != "" {
				t.Errorf("changed the root:\n%s", d)
			}
		})
	}
}

// Two modules, one needing the other's type: removing the first fails in
// semodule's transaction, after the units of the same apply were written.
const (
	baseModule = `selinux_module "seconf_src_base" {
  content = "(type seconf_src_base_t)"
  format  = "cil"
}
`
	userModule = `selinux_module "seconf_src_user" {
  content = "(type seconf_src_user_t) (allow seconf_src_user_t seconf_src_base_t (file (read)))"
  format  = "cil"
}
`
)

// TestSourceRollback: a commit whose apply fails half-way (the unit
// updated, then semodule's transaction refused) is rolled back to the last
// good commit, and one that does not even plan leaves the host on it;
// status names both commits and why, and a fixed commit converges.
func TestSourceRollback(t *testing.T) {
	root := testenv.PolicyRoot(t)
	os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
	f := newFleet(t, root)
	good := f.commit(f.alice, "good", map[string]string{"host.hcl": baseModule + userModule + mountHCL("1m")})
	mustSeconf(t, 0, f.args("apply")...)
	modules := testenv.ListFull(t, root)
	checkOutcome(t, root, outcome{Result: "applied", Commit: good, Good: good, Checked: true}, "")

	t.Run("apply-fails-half-way", func(t *testing.T) {
		bad := f.commit(f.alice, "drop base", map[string]string{"host.hcl": userModule + mountHCL("2m")})
		out, errs, code := seconf(t, f.args("apply")...)
		for _, want := range []string{
			"mount.scratch: update done",
			"Source " + f.source + ": commit " + gitsource.Short(bad) + " failed; applying the last good commit " + gitsource.Short(good) + " again.",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if code != 1 || !strings.Contains(errs, "the host is back on the last good commit "+gitsource.Short(good)) {
			t.Errorf("exit %d, stderr:\n%s", code, errs)
		}
		if unit := readAt(t, root, scratchUnit); !strings.Contains(unit, "size=1m") {
			t.Errorf("the unit was not rolled back:\n%s", unit)
		}
		if got := testenv.ListFull(t, root); got != modules {
			t.Errorf("modules after the rollback:\n%s\nwant:\n%s", got, modules)
		}
		checkOutcome(t, root, outcome{Result: "failed", Commit: bad, Good: good, Checked: true, Code: 2}, "seconf_src_base")
		doc, _ := sourceStatus(t, root)
		if doc.Source.Rollback != "succeeded" {
			t.Errorf("rollback %q, want succeeded", doc.Source.Rollback)
		}
		out = mustSeconf(t, 0, "status", "--root", root)
		for _, re := range []string{
			`(?m)^  Last run: FAILED to apply commit ` + gitsource.Short(bad) + `, signed by alice@example.com, since \S+ \(\S+ ago\): .*seconf_src_base`,
			`(?m)^  Rolled back: the last good commit was applied again\.$`,
			`(?m)^  Last good: commit ` + gitsource.Short(good) + `, `,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("status does not match %s:\n%s", re, out)
			}
		}
	})

	t.Run("plan-fails", func(t *testing.T) {
		before := hostSnapshot(t, root)
		bad := f.commit(f.alice, "typo", map[string]string{"host.hcl": baseModule + userModule + `mount "x" { wat = 1 }`})
		out, errs, code := seconf(t, f.args("apply")...)
		if code != 1 || !strings.Contains(errs, "commit "+gitsource.Short(bad)+` failed: the configuration does not load: host.hcl:9: Unsupported argument: An argument named "wat"`) || !strings.Contains(out, "No changes.") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
		}
		if d := testenv.Diff(before, hostSnapshot(t, root)); d != "" {
			t.Errorf("changed the host:\n%s", d)
		}
		checkOutcome(t, root, outcome{Result: "failed", Commit: bad, Good: good, Checked: true, Code: 2}, "host.hcl:9: Unsupported argument")
	})

	t.Run("fixed-converges", func(t *testing.T) {
		fixed := f.commit(f.alice, "fixed", map[string]string{"host.hcl": baseModule + userModule + mountHCL("2m")})
		mustSeconf(t, 0, f.args("apply")...)
		if !strings.Contains(readAt(t, root, scratchUnit), "size=2m") {
			t.Error("the fixed commit did not converge")
		}
		checkOutcome(t, root, outcome{Result: "applied", Commit: fixed, Good: fixed, Checked: true}, "")
	})
}

// TestTimerSource installs the timer with a source into an image root: the
// service runs apply --source with the host's paths, reaches the network,
// and install warns of what would make every run fail.
func TestTimerSource(t *testing.T) {
	root := timerRoot(t)
	install := []string{"timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf",
		"--source", "git+https://git.example.com/fleet.git#main", "--allowed-signers", "/etc/seconf/allowed_signers", "--path", "hosts/web/"}
	_, errs, code := seconf(t, install...)
	if code != 0 || !strings.Contains(errs, "Warning: --allowed-signers") || !strings.Contains(errs, "no such file") {
		t.Errorf("install without the allowed signers in the image: exit %d, stderr:\n%s", code, errs)
	}
	svc := unitLines(t, root, "seconf-converge.service")
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"ExecStart", []string{`/usr/local/bin/seconf apply --lock-timeout=15m0s "--source=git+https://git.example.com/fleet.git#main" --allowed-signers=/etc/seconf/allowed_signers --path=hosts/web`}},
		{"RestrictAddressFamilies", []string{"AF_UNIX AF_NETLINK AF_INET AF_INET6"}},
		{"After", []string{"network-online.target"}},
		{"Wants", []string{"network-online.target"}},
	} {
		if d := cmp.Diff(tc.want, svc[tc.key]); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.key, d)
		}
	}
	// With the file in place and root's alone, nothing to warn about, and
	// nothing to change.
	writeAt(t, root, "etc/seconf/allowed_signers", testenv.SSHSigner(t, "alice").Allowed)
	out, errs, code := seconf(t, install...)
	if code != 0 || errs != "" || !strings.Contains(out, "nothing to do") {
		t.Errorf("install again: exit %d\n%s\n%s", code, out, errs)
	}
	// The source's file blocks live in a directory the install cannot
	// read from the configuration: --writable lets the service write it.
	seconf(t, append(install, "--writable", "/etc/app")...)
	if rw := unitLines(t, root, "seconf-converge.service")["ReadWritePaths"]; len(rw) != 1 || !strings.HasSuffix(rw[0], " -/etc/app") {
		t.Errorf("ReadWritePaths with --writable /etc/app: %q", rw)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"writable-relative", []string{"--allowed-signers", "/etc/seconf/allowed_signers", "--writable", "etc/app"}, "give an absolute, normalised directory"},
		{"writable-refused", []string{"--allowed-signers", "/etc/seconf/allowed_signers", "--writable", "/etc/selinux"}, "seconf does not write there"},
		{"relative-signers", []string{"--allowed-signers", "allowed_signers"}, "give its absolute path on the target host"},
		{"source-and-path", []string{"--allowed-signers", "/etc/seconf/allowed_signers", "/etc/seconf"}, "--source replaces PATH"},
		{"no-signers", nil, "--source needs --allowed-signers"},
		{"ext", []string{"--allowed-signers", "/etc/seconf/allowed_signers", "--source", "git+ext::x"}, "remote helpers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"timer", "install", "--root", root, "--seconf-path", "/usr/local/bin/seconf", "--source", "git+https://git.example.com/fleet.git"}, tc.args...)
			if _, errs, code := seconf(t, args...); code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errs, tc.want)
			}
		})
	}
}

// TestSourceSameOutcome: a fetch that fails the same way on every run is
// one outcome, whatever curl says of how long it tried; the record (and
// its "since") stays that of the first run. Another error is another
// outcome.
func TestSourceSameOutcome(t *testing.T) {
	rec := func(msg string) *sourceRecord {
		return &sourceRecord{Source: "git+https://h/r.git#main", Result: resultFetchFailed, Error: "fetch failed: git fetch: fatal: unable to access 'https://h/r.git/': " + msg}
	}
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Failed to connect to h port 443 after 130004 ms: Couldn't connect to server", "Failed to connect to h port 443 after 129998 ms: Couldn't connect to server", true},
		{"Operation timed out after 300001 milliseconds with 0 out of 0 bytes received", "Operation timed out after 300002 milliseconds with 0 out of 0 bytes received", true},
		{"The requested URL returned error: 503", "The requested URL returned error: 404", false},
	} {
		if got := sameOutcome(rec(tc.a), rec(tc.b)); got != tc.same {
			t.Errorf("sameOutcome(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// TestSourceStatusNoCheckout: with the last good commit's checkout gone
// (someone cleaned /var/lib/seconf), status still says what it knows, the
// source's last run and the last apply, and that it could not compare;
// --detailed-exitcode says 2, and the next apply checks it out again.
func TestSourceStatusNoCheckout(t *testing.T) {
	f := newFleet(t, t.TempDir())
	good := f.commit(f.alice, "one", map[string]string{"host.hcl": mountHCL("10m")})
	mustSeconf(t, 0, f.args("apply")...)
	if err := os.RemoveAll(filepath.Join(f.root, gitsource.CheckoutDir)); err != nil {
		t.Fatal(err)
	}
	doc, code := sourceStatus(t, f.root)
	if code != 2 || doc.Drift.Checked || doc.Source.Good == nil || doc.Source.Good.ID != good || doc.LastApply == nil {
		t.Errorf("status --json --detailed-exitcode: exit %d, drift checked %v, source %+v, last apply %v", code, doc.Drift.Checked, doc.Source, doc.LastApply)
	}
	out := mustSeconf(t, 0, "status", "--root", f.root)
	if !strings.Contains(out, "not checked: the last good commit "+gitsource.Short(good)+" is not checked out") {
		t.Errorf("status:\n%s", out)
	}
	mustSeconf(t, 0, f.args("apply")...)
	checkOutcome(t, f.root, outcome{Result: resultApplied, Commit: good, Good: good, Checked: true}, "")
}

// TestSourceRollbackOtherPath: the same commit at another --path is another
// configuration; when it fails, the host goes back to the directory that
// applied, rather than being told the last good commit failed again.
func TestSourceRollbackOtherPath(t *testing.T) {
	f := newFleet(t, t.TempDir())
	id := f.repo.Commit(f.alice, "two hosts", map[string]string{
		"hosts/web/host.hcl": mountHCL("10m"),
		"hosts/bad/host.hcl": "mount \"x\" {\n",
	})
	mustSeconf(t, 0, f.args("apply")...)
	_, errs, code := seconf(t, "apply", "--root", f.root, "--source", f.source, "--allowed-signers", f.allowed, "--path", "hosts/bad")
	if code != 1 || !strings.Contains(errs, "the host is back on the last good commit") || strings.Contains(errs, "the last good one, failed") {
		t.Errorf("apply --path hosts/bad: exit %d, stderr:\n%s", code, errs)
	}
	doc, _ := sourceStatus(t, f.root)
	if doc.Source.Result != resultFailed || doc.Source.Rollback != "succeeded" || doc.Source.Good == nil || doc.Source.Good.ID != id {
		t.Errorf("status source: %+v", doc.Source)
	}
}
