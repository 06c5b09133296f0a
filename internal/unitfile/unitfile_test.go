package unitfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/internal/testenv"
)

// TestWords: what every renderer writes into an Exec line, as systemd's
// parser reads it back (checked end to end by the renderers' parse-back
// tests and systemd-analyze verify).
func TestWords(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		executable     bool
	}{
		{"plain", "/usr/local/bin/seconf", "/usr/local/bin/seconf", true},
		{"executable-dollar", "/opt/$x/seconf", "/opt/$x/seconf", true},
		{"executable-percent-space", "/opt/a b/50%", `"/opt/a b/50%%"`, true},
		{"flag", "--lock-timeout=15m0s", "--lock-timeout=15m0s", false},
		{"percent", "50%", "50%%", false},
		{"dollar", "$HOME", "$$HOME", false},
		{"space", "/my dir", `"/my dir"`, false},
		{"quote-backslash", `a"b\c`, `"a\"b\\c"`, false},
		{"empty", "", `""`, false},
		{"semicolon", ";", `";"`, false},
		{"non-ascii-space", "a\u00a0b", "\"a\u00a0b\"", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Word(tc.in)
			if tc.executable {
				got = Executable(tc.in)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestLayout: sections in first-use order, lines in order, header and
// comments as comments, AddOnce saying a line once.
func TestLayout(t *testing.T) {
	f := New("Managed by seconf (x.y).", "second\nline")
	f.Add("Unit", "Description", "d")
	f.Add("Service", "ExecStart", NewCmdline("/bin/x").Add("a b", "%").Raw("%t").String())
	f.AddOnce("Unit", "After", "a.service")
	f.AddOnce("Unit", "After", "a.service")
	f.Comment("Service", "why")
	want := "# Managed by seconf (x.y).\n# second?line\n\n[Unit]\nDescription=d\nAfter=a.service\n\n[Service]\nExecStart=/bin/x \"a b\" %% %t\n# why\n"
	if d := cmp.Diff(want, string(f.Bytes())); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestLongLineMaxIsSystemds: a unit whose longest line is LongLineMax-1
// bytes loads in the real systemd-analyze verify, one of LongLineMax bytes
// does not; LongLine finds exactly the second.
func TestLongLineMaxIsSystemds(t *testing.T) {
	bin := testenv.Tool(t, "", "systemd-analyze", "install systemd")
	for _, tc := range []struct {
		name  string
		n     int
		loads bool
	}{
		{"one below", LongLineMax - 1, true},
		{"at the limit", LongLineMax, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const key = "Description="
			data := []byte("[Unit]\n" + key + strings.Repeat("x", tc.n-len(key)) + "\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n")
			if n, k, length := LongLine(data, LongLineMax); (n == 0) != tc.loads || (n != 0 && (n != 2 || k != "Description" || length != tc.n)) {
				t.Errorf("LongLine = %d, %q, %d", n, k, length)
			}
			p := filepath.Join(t.TempDir(), "long.service")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "verify", p).CombinedOutput()
			loads := err == nil && !bytes.Contains(out, []byte("failed to load"))
			if loads != tc.loads {
				t.Errorf("systemd-analyze verify on a %d-byte line: loads %v, want %v: %v\n%s", tc.n, loads, tc.loads, err, out)
			}
		})
	}
}
