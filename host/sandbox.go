package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Sandbox says how a command is confined. seconf runs as root, and the SELinux
// tool chain reads input it must not trust: a root's semanage.conf names
// programs that libsemanage runs, and m4 runs whatever a .te's esyscmd says.
// A Sandbox is set on Cmd and run by ExecRunner; there is no unsandboxed
// fallback: a host that cannot make the namespaces gets an error.
//
// Two kinds:
//   - Binds alone: a private mount namespace in which each Bind is mounted
//     over its destination; nothing else changes (the command keeps root and
//     the machine's view), and the binds vanish with the command.
//   - Compile: the command sees a filesystem of its own (the system's /usr
//     and the merged-usr links read-only, the few files of /etc the policy
//     tool chain reads, /dev/null and friends, an empty /tmp, WorkDir
//     read-write, then Binds), has no network (a new, empty network
//     namespace), its own PID, IPC, UTS and cgroup namespaces, and runs as
//     nobody (65534) with no capabilities and no_new_privs, so no setuid
//     program or file capability gives them back.
type Sandbox struct {
	Binds []Bind
	// Compile confines the command as above.
	Compile bool
	// WorkDir is the one read-write directory of a Compile sandbox, mounted
	// at the same path. It and everything in it is handed to the sandbox's
	// uid before the command starts: keep it inside a directory only root
	// can enter, so that no other process running as nobody reaches it.
	WorkDir string
}

// Bind mounts Src (a file or a directory of the build machine) over Dst (of
// the same kind). In a private namespace Dst is a path of the machine and
// must not be a symlink; in a Compile sandbox it is a path inside the
// sandbox's own filesystem.
type Bind struct {
	Src, Dst string
	ReadOnly bool
}

// SandboxUID and SandboxGID are who a Compile sandbox runs as: nobody, who
// owns nothing on the build machine.
const (
	SandboxUID = 65534
	SandboxGID = 65534
)

// compileEnv is the whole environment of a command in a Compile sandbox
// (plus Cmd.Env): seconf's own environment may hold secrets and a PATH
// that names a user's directories.
var compileEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/"}

// SandboxError is a sandbox that could not be set up: the command did not run.
type SandboxError struct {
	Cmd Cmd
	Msg string
}

func (e *SandboxError) Error() string {
	return fmt.Sprintf("%s: cannot run it in its sandbox: %s (seconf never runs it unsandboxed)", e.Cmd.Name, e.Msg)
}

// sandboxSpec is what the parent hands the sandbox's first process (see
// sandboxMain), in the environment variable sandboxEnv.
type sandboxSpec struct {
	Path    string
	Args    []string // argv, argv[0] included
	Dir     string
	Binds   []Bind
	Compile bool
	WorkDir string
}

// The marker that sends a process into sandboxMain: both must be present.
const (
	sandboxArgv0 = "seconf-sandbox-init"
	sandboxEnv   = "SECONF_SANDBOX_SPEC"
)

// runSandboxed runs c through a new copy of this very binary (/proc/self/exe)
// started in new namespaces: Go cannot run code between fork and exec, so
// the mounts and the dropping of privileges happen in that copy, in
// sandboxMain, before it execs the tool. A setup failure comes back on an
// extra pipe (fd 3, closed on exec): the tool never ran.
func (r ExecRunner) runSandboxed(ctx context.Context, c Cmd) (Result, error) {
	sb := c.Sandbox
	fail := func(format string, a ...any) (Result, error) {
		return Result{Code: -1}, &SandboxError{Cmd: c, Msg: fmt.Sprintf(format, a...)}
	}
	if !filepath.IsAbs(c.Name) {
		return fail("the program must be an absolute path (host.Tool gives one)")
	}
	for _, b := range sb.Binds {
		if !filepath.IsAbs(b.Src) || !filepath.IsAbs(b.Dst) {
			return fail("bind %s over %s: both must be absolute paths", b.Src, b.Dst)
		}
	}
	if os.Geteuid() != 0 {
		// Dropping to nobody and mounting need root; a user namespace
		// would leave the tool as root of that namespace, or as the
		// caller: neither is the unprivileged uid a Compile sandbox
		// promises.
		return fail("sandboxes need root: run seconf as root")
	}
	spec := sandboxSpec{Path: c.Name, Args: append([]string{c.Name}, c.Args...), Dir: c.Dir,
		Binds: sb.Binds, Compile: sb.Compile, WorkDir: sb.WorkDir}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	var env []string
	if sb.Compile {
		if sb.WorkDir != "" {
			if !filepath.IsAbs(sb.WorkDir) {
				return fail("work directory %s is not an absolute path", sb.WorkDir)
			}
			if err := chownTree(sb.WorkDir, SandboxUID, SandboxGID); err != nil {
				return fail("hand %s to uid %d: %v", sb.WorkDir, SandboxUID, err)
			}
		}
		attr.Cloneflags |= syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC |
			syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP
		env = append(append(env, compileEnv...), c.Env...)
	} else {
		env = append(os.Environ(), c.Env...)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return fail("%v", err)
	}
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{sandboxArgv0}
	cmd.Env = append(env, sandboxEnv+"="+string(js))
	cmd.SysProcAttr = attr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	pr, pw, err := os.Pipe()
	if err != nil {
		return fail("%v", err)
	}
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw}
	start := time.Now()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return fail("cannot start it in new namespaces (%v): seconf needs mount, network and PID namespaces and /proc; "+
			"run it on a host (or in a container with CAP_SYS_ADMIN) that allows them", err)
	}
	// EOF once the tool is exec'd (the pipe is close-on-exec) or setup died.
	setup, _ := io.ReadAll(pr)
	err = cmd.Wait()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	if r.Log != nil {
		fmt.Fprintf(r.Log, "run: %s (sandboxed, %.2fs)\n", c, time.Since(start).Seconds())
	}
	if len(setup) > 0 {
		res.Code = -1
		return res, &SandboxError{Cmd: c, Msg: string(setup)}
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.Code = ee.ExitCode()
		} else {
			res.Code = -1
		}
		return res, &CmdError{Cmd: c, Result: res, Err: err}
	}
	return res, nil
}

// chownTree hands dir and everything below it to uid:gid without following
// symlinks.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// ReadUntrusted reads a regular file that a sandboxed command left in its
// work directory, where it could as well have left a symlink to
// /etc/shadow, a FIFO that blocks the reader, or a file that fills memory:
// no symlink is followed at the last component, anything but a regular
// file is an error, and so is a file larger than limit bytes.
func ReadUntrusted(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link, not the file the command should have written", path)
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, st.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// sandboxEnviron is the environment the tool gets: the process's own minus
// the spec.
func sandboxEnviron() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, sandboxEnv+"=") {
			env = append(env, e)
		}
	}
	return env
}
