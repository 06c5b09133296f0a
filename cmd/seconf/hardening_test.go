package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNestedFileExitsOne runs the built binary on a 400 KB file of nested
// brackets, which used to overflow Go's stack in HCL's parser: a fatal
// error exits 2, which --detailed-exitcode reads as "changes pending". Each
// command must refuse it with exit 1 and say where.
func TestNestedFileExitsOne(t *testing.T) {
	bin := buildSeconf(t)
	root := t.TempDir()
	for _, tc := range []struct{ name, src string }{
		{"brackets", "a = " + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + "\n"},
		{"parentheses", "container \"c\" {\n  image = " + strings.Repeat("(", 200_000) + "\"i\"" + strings.Repeat(")", 200_000) + "\n}\n"},
		{"operators", "container \"c\" {\n  image = " + strings.Repeat("!", 400_000) + "true\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.src})
			for _, args := range [][]string{
				{"validate", cfg},
				{"plan", "--detailed-exitcode", "--root", root, cfg},
				{"status", "--detailed-exitcode", "--root", root, cfg},
				{"fmt", "--check", cfg},
			} {
				cmd := exec.Command(bin, args...)
				out, _ := cmd.CombinedOutput()
				if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "Expression nested too deeply") || !strings.Contains(string(out), "host.hcl line ") {
					t.Errorf("%s: exit %d, want 1 with the line:\n%.2000s", strings.Join(args[:1], " "), code, out)
				}
			}
		})
	}
}

// panicWriter fails the way a bug would: with a panic.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("writer exploded") }

// TestPanicExitsOne: a panic in the command is an internal error, exit 1,
// never Go's exit 2.
func TestPanicExitsOne(t *testing.T) {
	var errb strings.Builder
	code := run([]string{"version"}, panicWriter{}, &errb)
	if code != 1 || !strings.Contains(errb.String(), "internal error: writer exploded") || !strings.Contains(errb.String(), "bug in seconf") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
}

// TestCLIErrors: every error a user meets on the command line exits 1 and
// names the thing involved and what to do; none exits 2 (changes pending).
func TestCLIErrors(t *testing.T) {
	good := writeFiles(t, map[string]string{"host.hcl": "container \"c\" {\n  image = \"i\"\n}\n"})
	empty := t.TempDir()
	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "pipe.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(good, "host.hcl")
	badHCL := writeFiles(t, map[string]string{"host.hcl": "container \"c\" {\n  image = \n}\n"})
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want []string // all in stderr
		not  string   // never in the output
	}{
		{"unknown flag", []string{"plan", "--nope", good}, []string{"unknown flag: --nope", "seconf plan --help"}, ""},
		{"bad duration", []string{"apply", "--lock-timeout", "soon", "--root", root, good}, []string{"--lock-timeout", "seconf apply --help"}, ""},
		{"unknown command", []string{"aply", good}, []string{`unknown command "aply"`, "apply"}, ""},
		{"no path", []string{"validate"}, []string{"requires at least 1 arg"}, ""},
		{"var without =", []string{"validate", "--var", "s3cretvalue", good}, []string{"--var number 1 has no '='", "NAME=VALUE"}, "s3cretvalue"},
		{"var without a name", []string{"validate", "--var", "=s3cretvalue", good}, []string{"no name before '='"}, "s3cretvalue"},
		{"undeclared var", []string{"validate", "--var", "imgae=x", good}, []string{"declares no variable \"imgae\""}, ""},
		{"missing path", []string{"validate", filepath.Join(empty, "nope.hcl")}, []string{"nope.hcl", "no such file or directory", "Give an existing"}, ""},
		{"empty path", []string{"validate", ""}, []string{"An empty path"}, ""},
		{"empty directory", []string{"validate", empty}, []string{"holds no *.hcl file"}, ""},
		{"fifo in the directory", []string{"validate", fifoDir}, []string{"pipe.hcl is a named pipe (FIFO)", "regular files"}, ""},
		{"fifo given to fmt", []string{"fmt", filepath.Join(fifoDir, "pipe.hcl")}, []string{"named pipe (FIFO)"}, ""},
		{"device", []string{"validate", "/dev/null"}, []string{"/dev/null is a character device"}, ""},
		{"syntax error in fmt", []string{"fmt", badHCL}, []string{"host.hcl line 2", "Invalid expression"}, ""},
		{"root missing", []string{"plan", "--root", filepath.Join(empty, "nope"), good}, []string{"--root: root", "does not exist"}, ""},
		{"root is a file", []string{"plan", "--root", aFile, good}, []string{"is not a directory"}, ""},
		{"root empty", []string{"plan", "--root", "", good}, []string{"the root is empty"}, ""},
		{"timer with a relative path offline", []string{"timer", "install", "--root", root, "--seconf-path", "/usr/bin/seconf", "etc/seconf"}, []string{"absolute path on the target host"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var out, errs string
			var code int
			go func() {
				out, errs, code = seconf(t, tc.args...)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("seconf hangs")
			}
			if code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if tc.not != "" && strings.Contains(out+errs, tc.not) {
				t.Errorf("the output quotes %q:\n%s%s", tc.not, out, errs)
			}
		})
	}
	if ents, err := os.ReadDir(root); err != nil || len(ents) > 0 {
		t.Errorf("a refused command wrote into the root: %v %v", ents, errors.Unwrap(err))
	}
}

// TestDiagnosticsCapped: a file that is not HCL at all gives a screenful,
// not thousands of errors.
func TestDiagnosticsCapped(t *testing.T) {
	cfg := writeFiles(t, map[string]string{"host.hcl": strings.Repeat("x y\n", 5000)})
	_, errs, code := seconf(t, "validate", cfg)
	if code != 1 || strings.Count(errs, "Error: ") != maxDiags || !strings.Contains(errs, "more. Fix the first ones") {
		t.Errorf("exit %d, %d errors printed:\n%.3000s", code, strings.Count(errs, "Error: "), errs)
	}
}
