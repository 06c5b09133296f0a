package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Cmd is one external command.
type Cmd struct {
	Name  string
	Args  []string
	Dir   string
	Env   []string // added to the environment
	Stdin []byte
	// Sandbox, when set, confines the command (see Sandbox); Name must
	// then be an absolute path.
	Sandbox *Sandbox
	// Progress, when set, receives the command's stderr as it comes (a
	// pull's progress). A terminal (*os.File) is handed to the command
	// itself, so that it draws its progress bars; the error then says
	// only the exit status, the message being on the terminal already.
	Progress io.Writer
}

// String is the command line as a person would type it.
func (c Cmd) String() string {
	return strings.Join(append([]string{c.Name}, c.Args...), " ")
}

// Result is what a command left.
type Result struct {
	Stdout, Stderr []byte
	Code           int
}

// Runner runs external commands. An error names the command and carries its
// stderr; a non-zero exit is an error.
type Runner interface {
	Run(ctx context.Context, c Cmd) (Result, error)
}

// ExecRunner runs commands with os/exec, logging each to Log when set.
type ExecRunner struct {
	Log io.Writer
}

// CmdError is a command that failed.
type CmdError struct {
	Cmd    Cmd
	Result Result
	Err    error
}

func (e *CmdError) Error() string {
	msg := strings.TrimSpace(string(e.Result.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(e.Result.Stdout))
	}
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s", e.Cmd.Name, msg)
}

func (e *CmdError) Unwrap() error { return e.Err }

// Run runs c and waits for it.
func (r ExecRunner) Run(ctx context.Context, c Cmd) (Result, error) {
	if c.Sandbox != nil {
		return r.runSandboxed(ctx, c)
	}
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
	}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if f, ok := c.Progress.(*os.File); ok {
		cmd.Stderr = f
	} else if c.Progress != nil {
		cmd.Stderr = io.MultiWriter(&errb, c.Progress)
	}
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	if r.Log != nil {
		fmt.Fprintf(r.Log, "run: %s (%.2fs)\n", c, time.Since(start).Seconds())
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

// LookPath reports whether a command exists, for choices that depend on
// what the host has installed.
func LookPath(name string) (string, error) { return exec.LookPath(name) }
