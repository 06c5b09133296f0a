package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSymlinkStaysInRoot: an image whose /etc/systemd/system is a symlink to
// an absolute path must not send a write to the build machine's own path.
func TestSymlinkStaysInRoot(t *testing.T) {
	t.Run("cached", func(t *testing.T) { symlinkStaysInRoot(t, NewFS) })
	t.Run("uncached", func(t *testing.T) { symlinkStaysInRoot(t, func(r string) FS { return FS{Root: r} }) })
}

func symlinkStaysInRoot(t *testing.T, newFS func(string) FS) {
	root := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	// Absolute target: inside the root it means ROOT/OUTSIDE, not OUTSIDE.
	if err := os.Symlink(outside, filepath.Join(root, "etc/systemd")); err != nil {
		t.Fatal(err)
	}
	fs := newFS(root)
	// Resolve the directory once before the link appears, as a cache would.
	fs.Exists("/etc/systemd/x.service")
	if err := fs.WriteFile("/etc/systemd/x.service", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x.service")); err == nil {
		t.Fatal("the write escaped the root through a symlink")
	}
	if _, err := os.Stat(filepath.Join(root, outside, "x.service")); err != nil {
		t.Errorf("the write did not land inside the root: %v", err)
	}
	// A file that is a symlink to an absolute path reads inside the root.
	os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o644)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "etc/link"))
	if data, err := fs.ReadFile("/etc/link"); err == nil && string(data) == "host" {
		t.Error("a read followed a symlink out of the root")
	}
	// .. cannot climb out either.
	p, err := fs.Path("/../../etc/passwd")
	if err != nil || !strings.HasPrefix(p, root) {
		t.Errorf("Path(/../../etc/passwd) = %q, %v", p, err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	root := t.TempDir()
	fs := FS{Root: root}
	for _, data := range []string{"one", "two"} {
		if err := fs.WriteFile("/etc/seconf/env/a.env", []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(root, "etc/seconf/env/a.env")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat: %v %v", st, err)
	}
	if data, _ := os.ReadFile(p); string(data) != "two" {
		t.Errorf("content %q", data)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestLockWaitsThenNamesHolder(t *testing.T) {
	h, err := New(t.TempDir(), Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := h.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = h.Lock(context.Background(), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "pid ") || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("second lock: %v after %s", err, time.Since(start))
	}
	unlock()
	unlock2, err := h.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}

func TestRunnerErrorNamesCommand(t *testing.T) {
	_, err := ExecRunner{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo broken >&2; exit 3"}})
	var ce *CmdError
	if err == nil || !strings.Contains(err.Error(), "sh: broken") {
		t.Fatalf("error %v", err)
	}
	if !asCmdError(err, &ce) || ce.Result.Code != 3 {
		t.Errorf("exit code not kept: %+v", ce)
	}
}

func asCmdError(err error, ce **CmdError) bool {
	c, ok := err.(*CmdError)
	*ce = c
	return ok
}

// TestFindInode finds an entry by name and inode as the kernel's AVC names
// it, never through a symlink (a link to the object, or out of the tree),
// and not past its directory budget.
func TestFindInode(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) uint64 {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
		st, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	deep := mk("/var/log/a/b/apache2")
	other := mk("/var/log/apache2") // same name, another inode: not it
	logs := mk("/var/log")
	outside := mk("/elsewhere/apache2")
	os.Symlink("/elsewhere", filepath.Join(root, "var/log/0link"))
	fs := NewFS(root)
	for _, tc := range []struct {
		name, dir, entry string
		ino              uint64
		maxDirs          int
		want             string
	}{
		{"deep", "/var/log", "apache2", deep, 100, "/var/log/a/b/apache2"},
		{"shallow", "/var/log/", "apache2", other, 100, "/var/log/apache2"},
		{"the directory itself", "/var/log", "log", logs, 100, "/var/log"},
		{"wrong inode", "/var/log", "apache2", deep + other + 12345, 100, ""},
		{"wrong name", "/var/log", "apache", deep, 100, ""},
		{"not through a symlink", "/var/log", "apache2", outside, 100, ""},
		{"out of budget", "/var/log", "apache2", deep, 2, ""},
		{"missing directory", "/nope", "apache2", deep, 100, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fs.FindInode(tc.dir, tc.entry, tc.ino, tc.maxDirs)
			if err != nil || got != tc.want {
				t.Errorf("FindInode(%q, %q) = %q, %v; want %q", tc.dir, tc.entry, got, err, tc.want)
			}
		})
	}
}
