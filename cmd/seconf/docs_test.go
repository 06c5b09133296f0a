package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"seconf/internal/lazyre"
)

// TestManPages generates the man pages twice with a fixed
// SOURCE_DATE_EPOCH: one page per command, the date from the epoch, no
// generator footer, and the same bytes both times.
func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1735689600") // 2025-01-01
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "made/on/demand")
	mustSeconf(t, 0, "docs", "man", a)
	mustSeconf(t, 0, "docs", "man", b)
	for _, tc := range []struct{ name, page, want string }{
		{"root", "seconf.1", `.TH "SECONF" "1" "Jan 2025" "seconf `},
		{"apply", "seconf-apply.1", "seconf-apply - Converge the host to the configuration"},
		{"timer-install", "seconf-timer-install.1", `\fB--every\fP`},
		{"timer-remove", "seconf-timer-remove.1", "seconf-timer-remove"},
		{"status", "seconf-status.1", `\fB--detailed-exitcode\fP`},
		{"completion", "seconf-completion-bash.1", "bash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa, err := os.ReadFile(filepath.Join(a, tc.page))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(pa, []byte(tc.want)) {
				t.Errorf("%s lacks %q:\n%s", tc.page, tc.want, pa)
			}
			if bytes.Contains(pa, []byte("Auto generated")) {
				t.Errorf("%s carries the generator's dated footer", tc.page)
			}
			pb, err := os.ReadFile(filepath.Join(b, tc.page))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pa, pb) {
				t.Errorf("%s differs between two runs", tc.page)
			}
		})
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, errs, code := seconf(t, "docs", "man", a); code != 1 || !strings.Contains(errs, "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: exit %d, %s", code, errs)
	}
}

// TestCompletion: cobra's completion command is there for every shell.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct{ shell, want string }{
		{"bash", "__start_seconf"},
		{"zsh", "#compdef seconf"},
		{"fish", "complete -c seconf"},
		{"powershell", "Register-ArgumentCompleter"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			out := mustSeconf(t, 0, "completion", tc.shell)
			if !strings.Contains(out, tc.want) {
				t.Errorf("seconf completion %s lacks %q", tc.shell, tc.want)
			}
		})
	}
}

// TestVersionFromGitCheckout builds seconf as `go build` and `go install`
// do in a git checkout and checks that `seconf version` names the module
// version and the checkout's commit. -buildvcs=true is explicit because an
// environment may turn VCS stamping off (GOFLAGS=-buildvcs=false).
func TestVersionFromGitCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds seconf")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout (or no git): nothing to stamp")
	}
	bin := filepath.Join(t.TempDir(), "seconf")
	if out, err := exec.Command(gobin, "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// A checkout without a tag gets a pseudo-version; +dirty, -dirty when
	// the tree has uncommitted changes.
	re := regexp.MustCompile(`^seconf (v\d+\.\d+\.\d+\S*) \(commit ` + strings.TrimSpace(string(head)) + `(-dirty)?\)\n$`)
	if !re.Match(out) {
		t.Errorf("seconf version = %q, want it to match %s", out, re)
	}
}

// TestRoff: text that troff would take for a request or an escape is set
// as text.
func TestRoff(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "plan changes nothing", "plan changes nothing"},
		{"backslash", `C:\path`, `C:\epath`},
		{"line starting with a dot", "see\n.hcl files", "see\n\\&.hcl files"},
		{"line starting with a quote", "'quoted'", `\&'quoted'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := roff(tc.in); got != tc.want {
				t.Errorf("roff(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRegexpsCompile compiles every expression seconf's packages declare
// (compiled on first use since internal/lazyre): a typo in one used only on
// a rare path fails here, as it would have at every start before.
func TestRegexpsCompile(t *testing.T) {
	all := lazyre.All()
	if len(all) < 15 {
		t.Fatalf("only %d expressions registered: are the packages linked?", len(all))
	}
	for _, r := range all {
		t.Run(r.String(), func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("does not compile: %v", p)
				}
			}()
			r.Compiled()
		})
	}
}
