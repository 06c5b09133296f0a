package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seconf runs the command in-process as a user would from a shell.
func seconf(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// mustSeconf runs seconf and fails the test unless it exits with want.
func mustSeconf(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, errs, code := seconf(t, args...)
	if code != want {
		t.Fatalf("seconf %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

// writeFiles makes a directory with the given files.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
