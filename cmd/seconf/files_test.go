package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"seconf/host"
	"seconf/internal/testenv"
)

// filesRoot is a root with its own accounts: "fluent" exists only there,
// and "daemon" has another uid than on any Debian build machine (1), so a
// test sees whose databases were read.
func filesRoot(t *testing.T) string {
	t.Helper()
	root := unitRoot(t)
	writeAt(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:7001:7002::/:/usr/sbin/nologin\nfluent:x:4242:4343::/var/lib/fluent:/usr/sbin/nologin\n")
	writeAt(t, root, "/etc/group", "root:x:0:\ndaemon:x:7002:\nfluent:x:4343:\nlogs:x:4444:fluent\n")
	return root
}

// stat is what a person checks of a file: mode, owner and group.
type stat struct {
	Mode     string
	UID, GID uint32
}

func statAt(t *testing.T, root, p string) stat {
	t.Helper()
	st, err := os.Lstat(filepath.Join(root, p))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return stat{Mode: st.Mode().String(), UID: sys.Uid, GID: sys.Gid}
}

const filesConfig = `
file "conf" {
  path    = "/etc/fluent/fluent.conf"
  content = <<-EOT
    <source>
      @type tail
    </source>
  EOT
  mode  = "0640"
  owner = "fluent"
}

file "daemon" {
  path    = "/etc/app/daemon.json"
  content = "{\"a\": 1}\n"
  owner   = "daemon"
  group   = "logs"
}

directory "buffer" {
  path  = "/var/lib/fluent/buffer"
  mode  = "0750"
  owner = "fluent"
}

container "logger" {
  image   = "docker.io/fluent/fluentd:v1.17-1"
  quadlet = false
  volume {
    source    = file.conf.path
    target    = "/fluentd/etc/fluent.conf"
    read_only = true
  }
  volume {
    source = directory.buffer.path
    target = "/buffer"
  }
}

container "other" {
  image   = "docker.io/library/busybox:1.36"
  quadlet = false
}
`

// TestFilesCreateAndNoOp: files and directories appear with their content,
// mode and owners resolved in the root's own accounts; a second apply
// writes nothing at all.
func TestFilesCreateAndNoOp(t *testing.T) {
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": filesConfig})
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	for _, id := range []string{"file.conf", "file.daemon", "directory.buffer"} {
		if !strings.Contains(out, "+ create   "+id) {
			t.Errorf("apply did not create %s:\n%s", id, out)
		}
	}
	got := map[string]stat{}
	for _, p := range []string{"/etc/fluent/fluent.conf", "/etc/app/daemon.json", "/var/lib/fluent/buffer"} {
		got[p] = statAt(t, root, p)
	}
	want := map[string]stat{
		"/etc/fluent/fluent.conf": {"-rw-r-----", 4242, 4343}, // fluent's primary group
		"/etc/app/daemon.json":    {"-rw-r--r--", 7001, 4444}, // the root's daemon, not the machine's
		"/var/lib/fluent/buffer":  {"drwxr-x---", 4242, 4343},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("modes and owners (-want +got):\n%s", d)
	}
	if c := readAt(t, root, "/etc/fluent/fluent.conf"); c != "<source>\n  @type tail\n</source>\n" {
		t.Errorf("content %q", c)
	}
	snap := testenv.Snapshot(t, root)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !strings.Contains(out, "No changes") {
		t.Errorf("second apply:\n%s", out)
	}
	if after := testenv.Snapshot(t, root); after != snap {
		t.Errorf("second apply wrote to the root:\n%s", testenv.Diff(snap, after))
	}
}

// planLines are the plan's change lines, "ACTION ID", without reasons.
func planLines(out string) []string {
	var lines []string
	re := regexp.MustCompile(`^ {1,2}[-+~!] (\S+)\s+(\S+)\s+\(`)
	for _, l := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			lines = append(lines, m[1]+" "+m[2])
		}
	}
	return lines
}

// TestFileChangeRestartsItsContainer: a change to a file or directory a
// container mounts — content, mode or owner — restarts that container and
// no other; a file no container mounts restarts none.
func TestFileChangeRestartsItsContainer(t *testing.T) {
	cases := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"content", func(s string) string { return strings.Replace(s, "@type tail", "@type syslog", 1) },
			[]string{"update file.conf", "restart container.logger"}},
		{"mode only", func(s string) string { return strings.Replace(s, `mode  = "0640"`, `mode  = "0600"`, 1) },
			[]string{"update file.conf", "restart container.logger"}},
		{"owner of a mounted directory", func(s string) string {
			return strings.Replace(s, "owner = \"fluent\"\n}\n\ncontainer", "owner = \"daemon\"\n}\n\ncontainer", 1)
		}, []string{"update directory.buffer", "restart container.logger"}},
		{"a file no container mounts", func(s string) string { return strings.Replace(s, `{\"a\": 1}`, `{\"a\": 2}`, 1) },
			[]string{"update file.daemon"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filesRoot(t)
			cfg := writeFiles(t, map[string]string{"host.hcl": filesConfig})
			mustSeconf(t, 0, "apply", "--root", root, cfg)
			changed := tc.edit(filesConfig)
			if changed == filesConfig {
				t.Fatal("the edit changed nothing")
			}
			cfg = writeFiles(t, map[string]string{"host.hcl": changed})
			out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
			if d := cmp.Diff(tc.want, planLines(out)); d != "" {
				t.Errorf("plan (-want +got):\n%s\n%s", d, out)
			}
			if len(tc.want) > 1 && !strings.Contains(out, "(file.conf updates)") && !strings.Contains(out, "(directory.buffer updates)") {
				t.Errorf("the plan does not say why the container restarts:\n%s", out)
			}
		})
	}
}

// TestFileDriftRestored: a file seconf wrote and a person changed (content,
// mode) is drift: plan says so, apply puts it back.
func TestFileDriftRestored(t *testing.T) {
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": filesConfig})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	want := readAt(t, root, "/etc/fluent/fluent.conf")
	writeAt(t, root, "/etc/fluent/fluent.conf", "edited by hand\n")
	os.Chmod(filepath.Join(root, "var/lib/fluent/buffer"), 0o777)
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--diff", "--root", root, cfg)
	for _, s := range []string{"changed on the host since seconf wrote it (drift)", "-edited by hand", "mode 0777, want 0750", "restart  container.logger"} {
		if !strings.Contains(out, s) {
			t.Errorf("plan lacks %q:\n%s", s, out)
		}
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if got := readAt(t, root, "/etc/fluent/fluent.conf"); got != want {
		t.Errorf("content not put back: %q", got)
	}
	if st := statAt(t, root, "/etc/fluent/fluent.conf"); st != (stat{"-rw-r-----", 4242, 4343}) {
		t.Errorf("the rewritten file is %+v", st)
	}
	if st := statAt(t, root, "/var/lib/fluent/buffer"); st.Mode != "drwxr-x---" {
		t.Errorf("directory mode not put back: %s", st.Mode)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// TestFileDriftOnSharedInode: a file seconf wrote, replaced by a hard link
// to a file outside the root with the same bytes, is put back without
// touching that other file: attributes are set on a new file renamed into
// place, never on an inode someone else's path shares.
func TestFileDriftOnSharedInode(t *testing.T) {
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": filesConfig})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	p := filepath.Join(root, "etc/app/daemon.json")
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte(readAt(t, root, "/etc/app/daemon.json")), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
	if err := os.Link(outside, p); err != nil {
		t.Skipf("no hard link across the test's directories: %v", err)
	}
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "update   file.daemon") {
		t.Errorf("plan:\n%s", out)
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	st, err := os.Stat(outside)
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); st.Mode().Perm() != 0o600 || sys.Uid != 0 || sys.Gid != 0 || sys.Nlink != 1 {
		t.Errorf("the file outside the root was changed: mode %v, owner %d:%d, links %d", st.Mode().Perm(), sys.Uid, sys.Gid, sys.Nlink)
	}
	if got := statAt(t, root, "/etc/app/daemon.json"); got != (stat{"-rw-r--r--", 7001, 4444}) {
		t.Errorf("the file in the root is %+v", got)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

const takeOver = `
file "daemon" {
  path    = "/etc/docker/daemon.json"
  content = "{\"selinux-enabled\": true}\n"
  %s
}
`

// TestFileTakeOver: a file seconf did not write is refused unless the block
// takes it over; then the original is kept and put back, bytes, mode and
// owner, when the block goes.
func TestFileTakeOver(t *testing.T) {
	root := filesRoot(t)
	const orig = "{\"log-level\": \"warn\"}\n"
	writeAt(t, root, "/etc/docker/daemon.json", orig)
	os.Chown(filepath.Join(root, "etc/docker/daemon.json"), 7001, 7002)
	os.Chmod(filepath.Join(root, "etc/docker/daemon.json"), 0o600)
	before := statAt(t, root, "/etc/docker/daemon.json")

	cfg := writeFiles(t, map[string]string{"host.hcl": strings.Replace(takeOver, "%s", "", 1)})
	_, errs, code := seconf(t, "apply", "--root", root, cfg)
	if code != 1 || !strings.Contains(errs, "seconf did not write it") || !strings.Contains(errs, "take_over = true") || !strings.Contains(errs, "line 3") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	if got := readAt(t, root, "/etc/docker/daemon.json"); got != orig {
		t.Fatalf("refused, yet changed: %q", got)
	}

	cfg = writeFiles(t, map[string]string{"host.hcl": strings.Replace(takeOver, "%s", "take_over = true", 1)})
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	if !strings.Contains(out, "take over the file seconf did not write") {
		t.Errorf("apply:\n%s", out)
	}
	if got := readAt(t, root, "/etc/docker/daemon.json"); !strings.Contains(got, "selinux-enabled") {
		t.Errorf("not taken over: %q", got)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	empty := writeFiles(t, map[string]string{"host.hcl": "\n"})
	out = mustSeconf(t, 0, "apply", "--root", root, empty)
	if !strings.Contains(out, "as it was before seconf took it over is put back") {
		t.Errorf("removal:\n%s", out)
	}
	if got := readAt(t, root, "/etc/docker/daemon.json"); got != orig {
		t.Errorf("original not put back: %q", got)
	}
	if st := statAt(t, root, "/etc/docker/daemon.json"); st != before {
		t.Errorf("original's mode and owner %+v, want %+v", st, before)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, host.OriginalsDir)); len(ents) != 0 {
		t.Errorf("the kept original is still there: %v", ents)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, empty)
}

// TestFileRemoval: when blocks go, what seconf made goes; a file changed by
// hand since is left and forgotten, and a directory is removed only once
// nothing but seconf's leaving files was in it.
func TestFileRemoval(t *testing.T) {
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": filesConfig + `
file "in_buffer" {
  path    = "/var/lib/fluent/buffer/seed"
  content = "x"
}
directory "spool" {
  path = "/var/spool/app"
}
`})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	writeAt(t, root, "/etc/app/daemon.json", "{\"edited\": true}\n")
	writeAt(t, root, "/var/spool/app/someones", "data")
	empty := writeFiles(t, map[string]string{"host.hcl": "\n"})
	out := mustSeconf(t, 0, "apply", "--root", root, empty)
	for _, s := range []string{"- delete   file.conf", "- delete   file.in_buffer", "- delete   directory.buffer",
		"! forget   file.daemon", "/etc/app/daemon.json changed since seconf wrote it",
		"! forget   directory.spool", "holds files seconf did not write"} {
		if !strings.Contains(out, s) {
			t.Errorf("removal lacks %q:\n%s", s, out)
		}
	}
	for p, want := range map[string]bool{
		"/etc/fluent/fluent.conf": false, "/var/lib/fluent/buffer": false,
		"/etc/app/daemon.json": true, "/var/spool/app/someones": true,
	} {
		if _, err := os.Lstat(filepath.Join(root, p)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", p, err == nil, want)
		}
	}
	// Forgotten: nothing left to do, and a later block for the same path
	// is someone else's file again.
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, empty)
}

// TestFilePathsRefused: paths in the trees seconf never writes are refused
// at their line, also when a symlink in the root leads there, and a path
// that is a symlink is refused.
func TestFilePathsRefused(t *testing.T) {
	cases := []struct {
		name, hcl string
		setup     func(root string)
		want      string
	}{
		{"shadow", `file "x" {
  path    = "/etc/shadow"
  content = ""
}`, nil, "line 2"},
		{"sudoers drop-in", `file "x" {
  path    = "/etc/sudoers.d/app"
  content = ""
}`, nil, "/etc/sudoers.d grants root"},
		{"/lib is /usr/lib", `file "x" {
  path    = "/lib/systemd/system/evil.service"
  content = ""
}`, nil, "/usr"},
		{"a unit directory", `file "x" {
  path    = "/etc/systemd/system/app.service.d/override.conf"
  content = ""
}`, nil, "/etc/systemd/system holds"},
		{"a drop-in over seconf's units", `file "x" {
  path    = "/usr/local/lib/systemd/system/web.service.d/override.conf"
  content = ""
}`, nil, "/usr/local/lib/systemd/system holds"},
		{"a runtime-set drop-in", `file "x" {
  path    = "/etc/systemd/system.control/web.service.d/50-x.conf"
  content = ""
}`, nil, "/etc/systemd/system.control holds"},
		{"the manager's environment", `file "x" {
  path    = "/etc/systemd/system.conf.d/env.conf"
  content = ""
}`, nil, "/etc/systemd/system.conf.d sets"},
		{"root's own containers.conf", `file "x" {
  path    = "/root/.config/containers/containers.conf"
  content = ""
}`, nil, "/root/.config/containers can switch"},
		{"the rootful drop-ins", `file "x" {
  path    = "/etc/containers/containers.rootful.conf.d/label.conf"
  content = ""
}`, nil, "containers.rootful.conf.d can switch"},
		{"the system directory /srv", `directory "x" {
  path = "/srv"
}`, nil, "is a system directory"},
		{"through a symlink into SELinux's policy", `file "x" {
  path    = "/etc/app/config"
  content = ""
}`, func(root string) {
			os.MkdirAll(filepath.Join(root, "etc/selinux"), 0o755)
			os.Symlink("/etc/selinux", filepath.Join(root, "etc/app"))
		}, "leads through a symbolic link to /etc/selinux/config"},
		{"a symlink", `file "x" {
  path    = "/etc/app.conf"
  content = ""
}`, func(root string) { os.Symlink("/etc/passwd", filepath.Join(root, "etc/app.conf")) }, "is a symbolic link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filesRoot(t)
			if tc.setup != nil {
				tc.setup(root)
			}
			snap := testenv.Snapshot(t, root)
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl + "\n"})
			_, errs, code := seconf(t, "apply", "--root", root, cfg)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want an error with %q:\n%s", code, tc.want, errs)
			}
			if after := testenv.Snapshot(t, root); after != snap {
				t.Errorf("a refused apply wrote:\n%s", testenv.Diff(snap, after))
			}
		})
	}
}

// TestFileOwnerUnknownInRoot: a user the build machine has but the root
// lacks is an error at the owner attribute, naming the root's passwd.
func TestFileOwnerUnknownInRoot(t *testing.T) {
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": "file \"x\" {\n  path    = \"/etc/x\"\n  content = \"\"\n  owner   = \"nobody\"\n}\n"})
	_, errs, code := seconf(t, "plan", "--root", root, cfg)
	if code != 1 || !strings.Contains(errs, `user "nobody" is not in /etc/passwd under`) || !strings.Contains(errs, "line 4") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}

// TestSensitiveFileContent: content from a sensitive variable is in no
// output and the state record keeps a keyed hash, not its sha256.
func TestSensitiveFileContent(t *testing.T) {
	const secret = "token-do-not-print-4711"
	root := filesRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": `
variable "token" {
  sensitive = true
}
file "token" {
  path    = "/etc/app/token"
  content = var.token
  mode    = "0600"
}
`})
	t.Setenv("SECONF_VAR_token", secret)
	for _, args := range [][]string{{"plan", "--diff"}, {"plan", "--json", "--diff"}, {"apply", "-v", "--diff"}} {
		out, errs, code := seconf(t, append(args, "--root", root, cfg)...)
		if code != 0 || strings.Contains(out+errs, secret) {
			t.Errorf("%v: exit %d, or the secret printed:\n%s\n%s", args, code, out, errs)
		}
	}
	if got := readAt(t, root, "/etc/app/token"); got != secret {
		t.Errorf("file holds %q", got)
	}
	var state struct {
		Files map[string]struct{ Sum string }
	}
	data := readAt(t, root, host.StatePath)
	if err := json.Unmarshal([]byte(data), &state); err != nil {
		t.Fatal(err)
	}
	if sum := state.Files["file.token"].Sum; !strings.HasPrefix(sum, "hmac-sha256:") {
		t.Errorf("recorded sum %q, want a keyed hash", sum)
	}
	if st := statAt(t, root, host.HashKeyPath); st.Mode != "-rw-------" {
		t.Errorf("hash key is %s", st.Mode)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
	t.Setenv("SECONF_VAR_token", secret+"2")
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--diff", "--root", root, cfg)
	if !strings.Contains(out, "~ update   file.token") || !strings.Contains(out, "sensitive content hidden") {
		t.Errorf("a changed sensitive file:\n%s", out)
	}
}

// TestFileSourceRules: source is read relative to the .hcl file, must be a
// regular file, and may not lead out of the configuration's directory.
func TestFileSourceRules(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.conf"), []byte("x"), 0o644)
	cfg := writeFiles(t, map[string]string{
		"host.hcl":       "file \"a\" {\n  path   = \"/etc/a\"\n  source = \"conf/a.conf\"\n}\n",
		"conf/a.conf":    "from source\n",
		"other/link.hcl": "",
	})
	root := filesRoot(t)
	mustSeconf(t, 0, "apply", "--root", root, filepath.Join(cfg, "host.hcl"))
	if got := readAt(t, root, "/etc/a"); got != "from source\n" {
		t.Errorf("content %q", got)
	}
	os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(cfg, "conf/link.conf"))
	bad := writeFiles(t, map[string]string{"host.hcl": "file \"a\" {\n  path   = \"/etc/a\"\n  source = \"conf/link.conf\"\n}\n"})
	os.MkdirAll(filepath.Join(bad, "conf"), 0o755)
	os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(bad, "conf/link.conf"))
	_, errs, code := seconf(t, "validate", bad)
	if code != 1 || !strings.Contains(errs, "outside the configuration's directory") {
		t.Errorf("symlink out: exit %d:\n%s", code, errs)
	}
	dir := writeFiles(t, map[string]string{"host.hcl": "file \"a\" {\n  path   = \"/etc/a\"\n  source = \"conf\"\n}\n", "conf/x": ""})
	_, errs, code = seconf(t, "validate", dir)
	if code != 1 || !strings.Contains(errs, "not a regular file") {
		t.Errorf("a directory as source: exit %d:\n%s", code, errs)
	}
}

func labelOf(t *testing.T, root, p string) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(filepath.Join(root, p), "security.selinux", buf)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(buf[:n]), "\x00")
}

// TestFileSELinuxType: in a labelled tree, selinux_type labels the file and
// the directory with the policy's context for the path, type replaced;
// plan warns that a relabel would not keep it (no file context gives the
// type) and names the selinux_fcontext to add. A label changed by hand is
// drift. An unlabelled tree gets no label, and plan says so.
func TestFileSELinuxType(t *testing.T) {
	const hcl = `
directory "data" {
  path         = "/srv/data"
  selinux_type = "container_file_t"
}
file "conf" {
  path         = "/etc/app.conf"
  content      = "x\n"
  selinux_type = "container_file_t"
}
`
	root := testenv.PolicyRoot(t)
	writeAt(t, root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
	for _, d := range []string{"", "etc"} {
		if err := unix.Lsetxattr(filepath.Join(root, d), "security.selinux", []byte("system_u:object_r:etc_t:s0"), 0); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFiles(t, map[string]string{"host.hcl": hcl})
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	for _, s := range []string{"A relabel would not keep this type", `selinux_fcontext { path = "/srv/data(/.*)?", type = "container_file_t" }`, `"/etc/app\\.conf"`} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), s) {
			t.Errorf("plan lacks %q:\n%s", s, out)
		}
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	for _, p := range []string{"/srv/data", "/etc/app.conf"} {
		if got := labelOf(t, root, p); got != "system_u:object_r:container_file_t:s0" {
			t.Errorf("%s is labelled %q", p, got)
		}
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
	unix.Lsetxattr(filepath.Join(root, "etc/app.conf"), "security.selinux", []byte("system_u:object_r:etc_t:s0"), 0)
	out = mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "label system_u:object_r:etc_t:s0, want system_u:object_r:container_file_t:s0") {
		t.Errorf("label drift:\n%s", out)
	}

	// With the selinux_fcontext plan advises in the same configuration, the
	// first plan no longer advises it: it is committed with the label.
	const cache = `
directory "cache" {
  path         = "/srv/cache"
  selinux_type = "tmp_t"
}
`
	const rule = `
selinux_fcontext "cache" {
  path = "/srv/cache(/.*)?"
  type = "tmp_t"
}
`
	for _, tc := range []struct {
		hcl    string
		advice bool
	}{{cache, true}, {cache + rule, false}} {
		fresh := testenv.PolicyRoot(t)
		out = mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", fresh, writeFiles(t, map[string]string{"host.hcl": tc.hcl}))
		if got := strings.Contains(out, `selinux_fcontext { path = "/srv/cache(/.*)?", type = "tmp_t" }`); got != tc.advice {
			t.Errorf("advises the selinux_fcontext: %v, want %v:\n%s", got, tc.advice, out)
		}
	}

	bare := filesRoot(t)
	out = mustSeconf(t, 0, "plan", "--root", bare, cfg)
	if !strings.Contains(out, "carries no SELinux labels") {
		t.Errorf("unlabelled root:\n%s", out)
	}
	mustSeconf(t, 0, "apply", "--root", bare, cfg)
	if got := labelOf(t, bare, "/etc/app.conf"); got != "" {
		t.Errorf("a file in an unlabelled tree got %q", got)
	}
}
