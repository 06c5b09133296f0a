package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// exitError carries an exit code up to main without printing twice.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program but the process: tests call it directly.
//
// Exit codes: 0 success, 1 error, 2 changes pending (plan and status with
// --detailed-exitcode, and nothing else), 3 fmt --check found files to
// format. A panic is an error like any other, exit 1: Go's runtime would
// exit 2 for it, which a timer or a CI job reading --detailed-exitcode
// would take for "changes pending". (A panic in another goroutine, or a
// fatal error such as a stack overflow, cannot be caught here and still
// exits 2: config's pre-scan keeps HCL's parser from overflowing.)
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "Error: internal error: %v\n\nThis is a bug in seconf: please report it with the command that caused it and this trace.\n%s", r, debug.Stack())
			code = 1
		}
	}()
	cmd := newRoot(stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}
