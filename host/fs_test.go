package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
