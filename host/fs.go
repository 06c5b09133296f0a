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
	if f.Root == "" || f.Root == "/" || f.dirs == nil {
		rp, err := f.Path(p)
		if err != nil {
			return nil, err
		}
		return readFile(rp)
	}
	// Opened without following a link instead of an lstat first: the
	// common case (no link) costs one system call less.
	p = filepath.Clean("/" + p)
	dir, err := f.dir(filepath.Dir(p))
	if err != nil {
		return nil, err
	}
	data, err := readFd(filepath.Join(dir, filepath.Base(p)), syscall.O_NOFOLLOW, nil)
	if errors.Is(err, syscall.ELOOP) { // a link: resolved inside the root, as Path does
		rp, err := f.Path(p)
		if err != nil {
			return nil, err
		}
		return readFile(rp)
	}
	return data, err
}

// ReadPrivate reads a host path only if it is a regular file of the
// effective user that no one else may write: a cache seconf wrote, not
// something a group or an image put in its place. Otherwise it returns nil,
// and no error.
func (f FS) ReadPrivate(p string) ([]byte, error) {
	dir, err := f.Path(filepath.Dir(p)) // the file itself is not followed
	if err != nil {
		return nil, err
	}
	data, err := readFd(filepath.Join(dir, filepath.Base(p)), syscall.O_NOFOLLOW|syscall.O_NONBLOCK, func(st *syscall.Stat_t) bool {
		return st.Mode&syscall.S_IFMT == syscall.S_IFREG && int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
	})
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) || errors.Is(err, errNotPrivate) {
		return nil, nil
	}
	return data, err
}

var errNotPrivate = errors.New("not a private file")

// ReadLocal reads a file of the machine seconf runs on (a configuration's
// policy source), not of the root: os.ReadFile at a third of its system
// calls.
func ReadLocal(name string) ([]byte, error) { return readFile(name) }

// readFile is os.ReadFile without the runtime's poller: os.Open offers
// every file to epoll and switches it to non-blocking and back, six system
// calls a file that a regular file never needs. The no-change path reads a
// few hundred files.
func readFile(name string) ([]byte, error) { return readFd(name, 0, nil) }

// readFd opens name with the extra flags, lets ok judge what it opened
// (errNotPrivate when it refuses), and reads it to the end.
func readFd(name string, flags int, ok func(*syscall.Stat_t) bool) ([]byte, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|flags, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|flags, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	statErr := syscall.Fstat(fd, &st)
	if ok != nil && (statErr != nil || !ok(&st)) {
		return nil, errNotPrivate
	}
	size := 512
	if statErr == nil && st.Size > 0 && st.Size < 1<<30 {
		size = int(st.Size) + 1 // one more, to see the end in one read
	}
	data := make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return data, nil
		}
		data = data[:len(data)+n]
		// A regular file that gave all fstat said, and less than asked,
		// is at its end: no read just to be told so.
		if statErr == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && int64(len(data)) == st.Size && len(data) < cap(data) {
			return data, nil
		}
	}
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

// FindInode looks for the entry named name whose inode is ino in the tree
// at dir (dir itself included), breadth first in name order, never
// following a symlink and reading at most maxDirs directories. It returns
// the entry's host path, or "" when it found none. Only entries of that
// name are stat'ed: the walk costs one getdents a directory.
func (f FS) FindInode(dir, name string, ino uint64, maxDirs int) (string, error) {
	dir = filepath.Clean("/" + dir)
	real, err := f.Path(dir)
	if err != nil {
		return "", err
	}
	inodeOf := func(p string) uint64 {
		st, err := os.Lstat(p)
		if err != nil {
			return 0
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			return sys.Ino
		}
		return 0
	}
	if filepath.Base(dir) == name && inodeOf(real) == ino {
		return dir, nil
	}
	type item struct{ host, real string }
	queue := []item{{dir, real}}
	for n := 0; len(queue) > 0 && n < maxDirs; n++ {
		d := queue[0]
		queue = queue[1:]
		ents, err := os.ReadDir(d.real)
		if err != nil {
			continue // unreadable or gone: not where the object is
		}
		for _, e := range ents {
			hp, rp := filepath.Join(d.host, e.Name()), filepath.Join(d.real, e.Name())
			if e.Name() == name && inodeOf(rp) == ino {
				return hp, nil
			}
			if e.IsDir() {
				queue = append(queue, item{hp, rp})
			}
		}
	}
	return "", nil
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
