package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// init sends a process that runSandboxed started into sandboxMain before
// anything else of the program runs. It is an init of package host rather
// than a branch in main because every binary that runs a sandboxed command
// imports host: seconf, and the go test binaries of every package whose
// tests compile a module, so the re-exec works in all of them without each
// main taking part. Both markers (argv[0] and the spec variable) must be
// there; otherwise it does nothing.
func init() {
	if len(os.Args) != 1 || os.Args[0] != sandboxArgv0 {
		return
	}
	if spec, ok := os.LookupEnv(sandboxEnv); ok {
		sandboxMain(spec)
	}
}

// sandboxMain sets the sandbox up and execs the tool; it never returns. A
// setup failure is written to fd 3, which the parent reads, and ends the
// process before the tool ever starts.
func sandboxMain(raw string) {
	// no_new_privs, the capability sets and execve act on the calling
	// thread: all of them must happen on this one.
	runtime.LockOSThread()
	report := os.NewFile(3, "sandbox-setup")
	die := func(err error) {
		report.WriteString(err.Error())
		os.Exit(125)
	}
	if _, err := unix.FcntlInt(3, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		os.Exit(125) // no pipe to report on: the parent sees exit 125
	}
	var s sandboxSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		die(fmt.Errorf("read the sandbox spec: %w", err))
	}
	if err := s.setup(); err != nil {
		die(err)
	}
	err := unix.Exec(s.Path, s.Args, sandboxEnviron())
	die(fmt.Errorf("exec %s: %w", s.Path, err))
}

func (s *sandboxSpec) setup() error {
	// Nothing mounted from here on may propagate to the machine.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mount namespace private: %w", err)
	}
	if s.Compile {
		return s.setupCompile()
	}
	for _, b := range s.Binds {
		if err := bindOver(b); err != nil {
			return err
		}
	}
	if s.Dir != "" {
		if err := unix.Chdir(s.Dir); err != nil {
			return fmt.Errorf("chdir %s: %w", s.Dir, err)
		}
	}
	return nil
}

// bindOver mounts b.Src over b.Dst in the machine's view. Dst is opened
// without following a final symlink and the mount goes onto that very
// inode (through /proc/self/fd), so a link planted at Dst cannot redirect
// it; the caller makes sure no directory above Dst is a link.
func bindOver(b Bind) error {
	dst, err := unix.Open(b.Dst, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bind over %s: %w", b.Dst, err)
	}
	defer unix.Close(dst)
	src, err := unix.Open(b.Src, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bind %s: %w", b.Src, err)
	}
	defer unix.Close(src)
	var ds, ss unix.Stat_t
	if err := unix.Fstat(dst, &ds); err != nil {
		return fmt.Errorf("bind over %s: %w", b.Dst, err)
	}
	if err := unix.Fstat(src, &ss); err != nil {
		return fmt.Errorf("bind %s: %w", b.Src, err)
	}
	if ds.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("bind over %s: it is a symbolic link", b.Dst)
	}
	if (ds.Mode&unix.S_IFMT == unix.S_IFDIR) != (ss.Mode&unix.S_IFMT == unix.S_IFDIR) {
		return fmt.Errorf("bind %s over %s: one is a directory, the other is not", b.Src, b.Dst)
	}
	if err := unix.Mount(fdPath(src), fdPath(dst), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s over %s: %w", b.Src, b.Dst, err)
	}
	if b.ReadOnly {
		if err := remount(b.Dst, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV); err != nil {
			return err
		}
	}
	return nil
}

func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// remount sets flags on the bind mount at p, keeping those it has (a bind
// remount replaces them all).
func remount(p string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return fmt.Errorf("remount %s: %w", p, err)
	}
	// The ST_ bits of statfs are the MS_ bits of mount for these.
	const keep = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
		unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME
	flags |= uintptr(st.Flags) & keep
	if err := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", p, err)
	}
	return nil
}

// compileEtc is all of /etc a Compile sandbox sees, found by tracing the
// devel Makefile's build (make, sh, gawk, find, m4, sed, checkmodule,
// semodule_package) and hll/pp: the loader's cache, the SELinux config
// from which the Makefile takes the policy name (and with it MLS or not),
// and the alternatives links through which /usr/bin/awk and the like
// resolve. Not the rest: no shadow, passwd, resolv.conf or ld.so.preload.
var compileEtc = []string{"/etc/ld.so.cache", "/etc/selinux/config", "/etc/alternatives"}

// compileDev are the device nodes a Compile sandbox has.
var compileDev = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}

// usrLinks are the top-level directories that merged-usr systems make
// links into /usr: mirrored as links, or bound read-only where they are
// directories.
var usrLinks = []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// oldRoot is where the machine's filesystem hangs during setup.
const oldRoot = "/.oldroot"

type compileMount struct {
	src, dst string // src as the machine sees it, symlinks resolved
	ro, dev  bool
}

// setupCompile builds the Compile sandbox's filesystem on a tmpfs, makes
// it the root with pivot_root, detaches the machine's filesystem entirely,
// and drops to nobody without capabilities.
func (s *sandboxSpec) setupCompile() error {
	// Resolve every source while the machine's root is still "/": a link's
	// absolute target would point into the new root later.
	var mounts []compileMount
	var links [][2]string // path, target
	add := func(src, dst string, ro, dev, optional bool) error {
		real, err := filepath.EvalSymlinks(src)
		if err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("%s: %w", src, err)
		}
		mounts = append(mounts, compileMount{src: real, dst: filepath.Clean(dst), ro: ro, dev: dev})
		return nil
	}
	if err := add("/usr", "/usr", true, false, false); err != nil {
		return err
	}
	for _, p := range usrLinks {
		st, err := os.Lstat(p)
		switch {
		case err != nil:
		case st.Mode()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			links = append(links, [2]string{p, t})
		case st.IsDir():
			mounts = append(mounts, compileMount{src: p, dst: p, ro: true})
		}
	}
	for _, p := range compileEtc {
		if err := add(p, p, true, false, true); err != nil {
			return err
		}
	}
	for _, p := range compileDev {
		if err := add(p, p, true, true, false); err != nil {
			return err
		}
	}
	// The work directory and the caller's binds go in after the sandbox's
	// own /tmp, in which they may lie.
	base := len(mounts)
	if s.WorkDir != "" {
		if err := add(s.WorkDir, s.WorkDir, false, false, false); err != nil {
			return err
		}
	}
	for _, b := range s.Binds {
		if err := add(b.Src, b.Dst, b.ReadOnly, false, false); err != nil {
			return err
		}
	}
	work := append([]compileMount(nil), mounts[base:]...)
	mounts = mounts[:base]
	// Parents before children, so that a bind below /tmp lands in the
	// sandbox's /tmp.
	sort.SliceStable(work, func(i, j int) bool { return depth(work[i].dst) < depth(work[j].dst) })

	// The new root: a small tmpfs that holds only mount points.
	const newRoot = "/tmp"
	if err := unix.Mount("tmpfs", newRoot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("mount the sandbox's root: %w", err)
	}
	if err := os.Mkdir(newRoot+oldRoot, 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(newRoot, newRoot+oldRoot); err != nil {
		return fmt.Errorf("pivot_root into the sandbox's root: %w (is / a mount point? seconf does not run in a plain chroot)", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	for _, l := range links {
		if err := os.Symlink(l[1], l[0]); err != nil {
			return err
		}
	}
	for _, m := range mounts {
		if err := bindInto(m); err != nil {
			return err
		}
	}
	if err := os.MkdirAll("/tmp", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=256m"); err != nil {
		return fmt.Errorf("mount the sandbox's /tmp: %w", err)
	}
	for _, m := range work {
		if err := bindInto(m); err != nil {
			return err
		}
	}
	// The machine's filesystem goes away for good: nothing else of it can
	// be reached from here, not even by a process that gets mount rights.
	if err := unix.Unmount(oldRoot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the machine's filesystem: %w", err)
	}
	if err := os.Remove(oldRoot); err != nil {
		return err
	}
	if err := remount("/", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV); err != nil {
		return err
	}
	dir := s.Dir
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	return dropPrivileges()
}

func depth(p string) int { return strings.Count(p, "/") }

// bindInto binds m.src of the machine (now under oldRoot) at m.dst of the
// sandbox. A bind is not recursive: what is mounted below a source stays
// hidden.
func bindInto(m compileMount) error {
	src := oldRoot + m.src
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if st.IsDir() {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", m.dst, err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(m.dst), 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", m.dst, err)
		}
		f, err := os.OpenFile(m.dst, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("mount point %s: %w", m.dst, err)
		}
		f.Close()
	}
	if err := unix.Mount(src, m.dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s at %s: %w", m.src, m.dst, err)
	}
	flags := uintptr(unix.MS_NOSUID)
	if !m.dev {
		flags |= unix.MS_NODEV
	}
	if m.ro {
		flags |= unix.MS_RDONLY
	}
	return remount(m.dst, flags)
}

// dropPrivileges makes the process nobody for good: no_new_privs (setuid
// bits and file capabilities give nothing), an empty bounding set, no
// supplementary groups, uid and gid 65534 (which clears the permitted and
// effective sets), and empty capability sets for what is left.
func dropPrivileges() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	for c := 0; ; c++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // past the last capability this kernel knows
		}
		if err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear the ambient capabilities: %w", err)
	}
	// syscall's (not x/sys's) set*id act on every thread of the process.
	if err := syscall.Setgroups([]int{}); err != nil {
		return fmt.Errorf("drop supplementary groups: %w", err)
	}
	if err := syscall.Setresgid(SandboxGID, SandboxGID, SandboxGID); err != nil {
		return fmt.Errorf("setgid %d: %w", SandboxGID, err)
	}
	if err := syscall.Setresuid(SandboxUID, SandboxUID, SandboxUID); err != nil {
		return fmt.Errorf("setuid %d: %w", SandboxUID, err)
	}
	var data [2]unix.CapUserData // version 3 takes two
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("clear the capability sets: %w", err)
	}
	return nil
}
