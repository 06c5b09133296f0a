package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	// A link whose target is inside the root reads that file, the target
	// taken as the root's path.
	os.WriteFile(filepath.Join(root, "etc/real"), []byte("inside"), 0o644)
	os.Symlink("/etc/real", filepath.Join(root, "etc/alias"))
	if data, err := fs.ReadFile("/etc/alias"); err != nil || string(data) != "inside" {
		t.Errorf("ReadFile through an in-root link = %q, %v; want the root's /etc/real", data, err)
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

// TestReadFileAsOS: FS.ReadFile's own reader gives what os.ReadFile gives,
// bytes and errors, for files whose size fstat tells right (regular), wrong
// (/proc, which says 0) or not at all.
func TestReadFileAsOS(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640 KB
	for name, data := range map[string][]byte{"empty": nil, "small": []byte("x\n"), "big": big} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, path string }{
		{"empty", filepath.Join(dir, "empty")},
		{"small", filepath.Join(dir, "small")},
		{"big", filepath.Join(dir, "big")},
		{"proc reports size 0", "/proc/self/mountinfo"},
		{"missing", filepath.Join(dir, "none")},
		{"directory", dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := os.ReadFile(tc.path)
			got, err := readFile(tc.path)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("error %v, os.ReadFile's %v", err, wantErr)
			}
			if errors.Is(wantErr, fs.ErrNotExist) != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(err, fs.ErrNotExist) differs: %v", err)
			}
			// /proc/self is this process: its mounts do not change between
			// the two reads.
			if !bytes.Equal(want, got) {
				t.Errorf("%d bytes, os.ReadFile's %d, or the same number of other bytes", len(got), len(want))
			}
		})
	}
}

// TestReadPrivate: a cache is read only from a regular file of the
// effective user that no one else may write; anything else reads as no
// cache at all.
func TestReadPrivate(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "var/lib/seconf")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(p string) error
		want  string
	}{
		{"own private file", func(p string) error { return os.WriteFile(p, []byte("entry"), 0o600) }, "entry"},
		{"own, readable by others", func(p string) error { return os.WriteFile(p, []byte("entry"), 0o644) }, "entry"},
		{"group may write", func(p string) error {
			if err := os.WriteFile(p, []byte("entry"), 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o620)
		}, ""},
		{"another user's", func(p string) error {
			if err := os.WriteFile(p, []byte("entry"), 0o600); err != nil {
				return err
			}
			return os.Chown(p, os.Geteuid()+1, -1)
		}, ""},
		{"symlink to an own file", func(p string) error {
			if err := os.WriteFile(p+".real", []byte("entry"), 0o600); err != nil {
				return err
			}
			return os.Symlink(filepath.Base(p)+".real", p)
		}, ""},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, ""},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, ""},
		{"missing", func(string) error { return nil }, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("cache%d", i)
			if err := tc.setup(filepath.Join(dir, name)); err != nil {
				t.Skipf("setup: %v", err) // chown needs root
			}
			got, err := NewFS(root).ReadPrivate("/var/lib/seconf/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}
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

// TestWriteFileAttrs: the file appears with its owner, mode and label, and
// Resolve sees through the root's symlinks as a write would go.
func TestWriteFileAttrs(t *testing.T) {
	root := t.TempDir()
	f := NewFS(root)
	if err := f.WriteFileAttrs("/etc/app/a.conf", []byte("x"), Attrs{Perm: 0o640, UID: 4242, GID: 4343, Label: "system_u:object_r:etc_t:s0"}); err != nil {
		t.Fatal(err)
	}
	in, err := f.Lstat("/etc/app/a.conf")
	if err != nil {
		t.Fatal(err)
	}
	if in.Mode.Perm() != 0o640 || in.UID != 4242 || in.GID != 4343 {
		t.Errorf("got %v %d:%d", in.Mode, in.UID, in.GID)
	}
	if l, _ := f.Label("/etc/app/a.conf"); l != "system_u:object_r:etc_t:s0" {
		t.Errorf("label %q", l)
	}
	if err := f.Mkdir("/srv/d", Attrs{Perm: 0o750 | fs.ModeSticky, UID: 1, GID: 2}); err != nil {
		t.Fatal(err)
	}
	if in, _ := f.Lstat("/srv/d"); in.Mode != fs.ModeDir|fs.ModeSticky|0o750 || in.UID != 1 || in.GID != 2 {
		t.Errorf("directory %v %d:%d", in.Mode, in.UID, in.GID)
	}
	if err := f.WriteFile("/srv/d/x", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Rmdir("/srv/d"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("rmdir of a full directory: %v", err)
	}
	os.Symlink("/etc/app", filepath.Join(root, "srv/link"))
	if got, err := f.Resolve("/srv/link/a.conf"); err != nil || got != "/etc/app/a.conf" {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	if err := f.SetAttrs("/srv/link", Attrs{Perm: 0o777}); err == nil {
		t.Error("SetAttrs followed a symlink")
	}
}
