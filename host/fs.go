package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/selinux/go-selinux"
)

// FS reads and writes files below a root directory. Paths given to it are
// host paths ("/etc/systemd/system/x.service"); symlinks resolve inside the
// root, so a link in an image cannot send a write to the build machine.
type FS struct {
	Root string
	// dirs caches resolved directories: resolving walks every component
	// with lstat, and one run reads many files in few directories.
	dirs *sync.Map
}

// NewFS returns an FS for root that caches resolved directories.
func NewFS(root string) FS { return FS{Root: root, dirs: &sync.Map{}} }

// Path maps a host path to the real path under the root.
func (f FS) Path(p string) (string, error) {
	if f.Root == "" || f.Root == "/" {
		return filepath.Clean("/" + p), nil
	}
	if f.dirs == nil {
		return securejoin.SecureJoin(f.Root, p)
	}
	p = filepath.Clean("/" + p)
	if p == "/" {
		return f.Root, nil
	}
	dir, err := f.dir(filepath.Dir(p))
	if err != nil {
		return "", err
	}
	return f.step(dir, p)
}

// dir resolves a clean directory path, one component at a time from the
// nearest cached ancestor: a new directory costs one lstat, not a walk.
func (f FS) dir(d string) (string, error) {
	if d == "/" {
		return f.Root, nil
	}
	if r, ok := f.dirs.Load(d); ok {
		return r.(string), nil
	}
	parent, err := f.dir(filepath.Dir(d))
	if err != nil {
		return "", err
	}
	r, err := f.step(parent, d)
	if err == nil {
		f.dirs.Store(d, r)
	}
	return r, err
}

// step appends p's last component to its resolved parent; a symlink there
// is resolved inside the root by securejoin.
func (f FS) step(parent, p string) (string, error) {
	full := filepath.Join(parent, filepath.Base(p))
	if st, err := os.Lstat(full); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return securejoin.SecureJoin(f.Root, p)
	}
	return full, nil
}

// ReadFile reads a host path; a missing file is (nil, fs.ErrNotExist).
func (f FS) ReadFile(p string) ([]byte, error) {
	rp, err := f.Path(p)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(rp)
}

// Exists reports whether the host path exists (without following a final symlink).
func (f FS) Exists(p string) bool {
	rp, err := f.Path(filepath.Dir(p))
	if err != nil {
		return false
	}
	_, err = os.Lstat(filepath.Join(rp, filepath.Base(p)))
	return err == nil
}

// WriteFile writes data atomically: a temp file in the same directory,
// fsync, rename, fsync of the directory. A reader sees the old file or the
// new one, never a torn one, and a crash leaves at most a stray temp file.
func (f FS) WriteFile(p string, data []byte, mode fs.FileMode) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".seconf-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, filepath.Base(p))); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Remove deletes a host path; a missing one is not an error.
func (f FS) Remove(p string) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	err = os.Remove(filepath.Join(dir, filepath.Base(p)))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Symlink makes link point at target (a host path), replacing what was there.
func (f FS) Symlink(target, link string) error {
	dir, err := f.Path(filepath.Dir(link))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	full := filepath.Join(dir, filepath.Base(link))
	if cur, err := os.Readlink(full); err == nil && cur == target {
		return nil
	}
	tmp := filepath.Join(dir, ".seconf-link-"+filepath.Base(link))
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, full)
}

// Readlink reads a symlink at a host path.
func (f FS) Readlink(p string) (string, error) {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return "", err
	}
	return os.Readlink(filepath.Join(dir, filepath.Base(p)))
}

// ReadDir lists a host directory; a missing one is empty.
func (f FS) ReadDir(p string) ([]os.DirEntry, error) {
	rp, err := f.Path(p)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(rp)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return ents, err
}

// Label reads a host path's SELinux label from its xattr ("" when it has
// none, as on a host with SELinux off or a tree never labelled).
func (f FS) Label(p string) (string, error) {
	rp, err := f.Path(p)
	if err != nil {
		return "", err
	}
	l, err := selinux.FileLabel(rp)
	if err != nil {
		if _, statErr := os.Stat(rp); statErr != nil {
			return "", statErr
		}
		return "", nil
	}
	return l, nil
}

// Stamp identifies a file's version by its size, modification time and
// inode, without reading it: a policy commit replaces the file.
func Stamp(real string) (string, error) {
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	ino := uint64(0)
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return fmt.Sprintf("%d-%d-%d", st.Size(), st.ModTime().UnixNano(), ino), nil
}

// Info is what seconf checks of an existing path: its type and permission
// bits, and its owner.
type Info struct {
	Mode     fs.FileMode
	UID, GID int
}

// Lstat describes a host path without following a final symlink.
func (f FS) Lstat(p string) (Info, error) {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return Info{}, err
	}
	st, err := os.Lstat(filepath.Join(dir, filepath.Base(p)))
	if err != nil {
		return Info{}, err
	}
	in := Info{Mode: st.Mode()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		in.UID, in.GID = int(sys.Uid), int(sys.Gid)
	}
	return in, nil
}

// Attrs are the permissions, owner and SELinux label seconf gives a file or
// directory. Label "" leaves the label as the kernel or the parent gives it.
type Attrs struct {
	Perm     fs.FileMode // permission bits, and ModeSticky for a directory
	UID, GID int
	Label    string
}

// WriteFileAttrs writes data atomically as WriteFile does, with owner,
// permissions and label set on the temporary file before the rename: the
// file never appears with the wrong owner, mode or label, however briefly.
func (f FS) WriteFileAttrs(p string, data []byte, a Attrs) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".seconf-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chown(a.UID, a.GID); err != nil {
		return fail(err)
	}
	// After chown, which clears the setuid and setgid bits.
	if err := tmp.Chmod(a.Perm); err != nil {
		return fail(err)
	}
	if a.Label != "" {
		if err := selinux.SetFileLabel(tmp.Name(), a.Label); err != nil {
			return fail(fmt.Errorf("label %s: %w", a.Label, err))
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, filepath.Base(p))); err != nil {
		return err
	}
	return syncDir(dir)
}

// Mkdir makes one directory (its parents as 0755 root directories when
// missing) and gives it a's owner, permissions and label. An existing
// directory only gets the attributes.
func (f FS) Mkdir(p string, a Attrs) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// 0700 until owner and mode are set: nobody else sees it half made.
	if err := os.Mkdir(filepath.Join(dir, filepath.Base(p)), 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	return f.SetAttrs(p, a)
}

// SetAttrs gives an existing file or directory a's owner, permissions and
// label, without following a final symlink (a symlink is refused).
func (f FS) SetAttrs(p string, a Attrs) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	full := filepath.Join(dir, filepath.Base(p))
	st, err := os.Lstat(full)
	if err != nil {
		return err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; seconf sets attributes on files and directories only", p)
	}
	if err := os.Lchown(full, a.UID, a.GID); err != nil {
		return err
	}
	if err := os.Chmod(full, a.Perm); err != nil {
		return err
	}
	if a.Label != "" {
		if err := selinux.LsetFileLabel(full, a.Label); err != nil {
			return fmt.Errorf("label %s %s: %w", p, a.Label, err)
		}
	}
	return nil
}

// Rmdir removes an empty directory; a missing one is not an error, a
// directory with anything in it is (fs.ErrExist wrapped).
func (f FS) Rmdir(p string) error {
	dir, err := f.Path(filepath.Dir(p))
	if err != nil {
		return err
	}
	err = syscall.Rmdir(filepath.Join(dir, filepath.Base(p)))
	switch {
	case err == nil, errors.Is(err, syscall.ENOENT):
		return nil
	case errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%s is not empty: %w", p, fs.ErrExist)
	}
	return fmt.Errorf("remove %s: %w", p, err)
}

// Resolve is the host path p leads to once the symlinks on its way are
// followed inside the root (a final symlink included): what a check of a
// refused tree must look at.
func (f FS) Resolve(p string) (string, error) {
	root := f.Root
	if root == "" {
		root = "/"
	}
	real, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil {
		return "", err
	}
	return filepath.Clean("/" + rel), nil
}

// Labelled reports whether the tree at the host path p (the nearest
// existing ancestor) carries SELinux labels: a root never labelled, or a
// host with SELinux off, has none to keep.
func (f FS) Labelled(p string) bool {
	for d := p; ; d = filepath.Dir(d) {
		if f.Exists(d) {
			l, err := f.Label(d)
			return err == nil && l != ""
		}
		if d == "/" {
			return false
		}
	}
}
