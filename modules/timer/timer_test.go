package timer

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seconf/internal/testenv"
	"seconf/modules/units"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// renderCases are the settings every test renders.
var renderCases = []struct {
	name string
	s    Settings
}{
	{"default", Settings{Seconf: "/usr/local/bin/seconf", Paths: []string{"/etc/seconf"}}},
	{"hourly-vars", Settings{
		Seconf: "/usr/local/bin/seconf",
		Paths:  []string{"/etc/seconf/base.hcl", "/etc/seconf/site"},
		Vars:   []string{"refpolicy_services=/usr/local/share/refpolicy", "motd=50% off $HOME"},
		Every:  90 * time.Minute,
	}},
	// Sensitive --var values: an EnvironmentFile, not the Exec line.
	{"secrets", Settings{
		Seconf:  "/usr/local/bin/seconf",
		Paths:   []string{"/etc/seconf"},
		Vars:    []string{"site=lab"},
		Secrets: []string{"token= p\"q\\r`s $HOME # ;x ", "pin=1234"},
	}},
	// A source instead of paths: the service also reaches the network.
	{"source", Settings{
		Seconf:         "/usr/local/bin/seconf",
		Source:         "git+https://git.example.com/fleet%20conf.git#main",
		AllowedSigners: "/etc/seconf/allowed_signers",
		SourcePath:     "hosts/web",
		Vars:           []string{"site=paris"},
	}},
	// Every character systemd reads specially in an Exec line.
	{"awkward-paths", Settings{
		Seconf: `/opt/my tools/se%conf$1`,
		Paths:  []string{`/srv/conf "quoted"/a\b`, "/-dash"},
		Every:  time.Minute,
		// Directories of file blocks: ReadWritePaths= splits on spaces.
		Writes: []string{"/srv/my app/x%i$y", `/srv/q"uo\te`},
	}},
}

// TestRenderGolden holds the rendered files to testdata/NAME.{service,timer}.
func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Render(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				golden := filepath.Join("testdata", tc.name+path.Ext(f.Path))
				if *update {
					if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if d := cmp.Diff(string(want), string(f.Data)); d != "" {
					t.Errorf("%s (-golden +rendered):\n%s", f.Path, d)
				}
			}
		})
	}
}

// TestUnit checks what the engine relies on: one unit, the .timer enabled
// by timers.target and started, both files owned by their header.
func TestUnit(t *testing.T) {
	us, diags := Source{Settings: &renderCases[0].s}.Units(context.Background(), nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	type summary struct {
		ID, Name        string
		Enable, Start   bool
		Generated       bool
		WantedBy, Files []string
	}
	var got []summary
	for _, u := range us {
		s := summary{ID: u.ID, Name: u.Name, Enable: u.Enable, Start: u.Start, Generated: u.Generated, WantedBy: u.WantedBy}
		for _, f := range u.Files {
			s.Files = append(s.Files, f.Path)
			if !bytes.HasPrefix(f.Data, []byte(units.Header)) {
				t.Errorf("%s does not start with %q", f.Path, units.Header)
			}
		}
		got = append(got, s)
	}
	want := []summary{{
		ID: "timer.seconf-converge", Name: "seconf-converge.timer", Enable: true, Start: true,
		WantedBy: []string{"timers.target"},
		Files:    []string{"/etc/systemd/system/seconf-converge.service", "/etc/systemd/system/seconf-converge.timer"},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("units (-want +got):\n%s", d)
	}
	if us, diags := (Source{}).Units(context.Background(), nil, nil); diags.HasErrors() || len(us) != 0 {
		t.Errorf("a Source without settings renders %d units, %v; want none", len(us), diags)
	}
}

func TestRenderRefuses(t *testing.T) {
	ok := Settings{Seconf: "/usr/bin/seconf", Paths: []string{"/etc/seconf"}}
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"relative-binary", func(s *Settings) { s.Seconf = "seconf" }, "not an absolute path"},
		{"relative-path", func(s *Settings) { s.Paths = []string{"etc/seconf"} }, "not an absolute path"},
		{"no-path", func(s *Settings) { s.Paths = nil }, "no configuration path"},
		{"too-often", func(s *Settings) { s.Every = 30 * time.Second }, "at least 1m0s"},
		{"fractional", func(s *Settings) { s.Every = 90*time.Second + time.Millisecond }, "whole seconds"},
		{"newline", func(s *Settings) { s.Paths = []string{"/etc/sec\nonf"} }, "control character"},
		{"path-zero-width", func(s *Settings) { s.Paths = []string{"/etc/sec\u200bonf"} }, "invisible character U+200B"},
		{"var-nbsp", func(s *Settings) { s.Vars = []string{"site=a\u00a0b"} }, "non-ASCII space"},
		{"secret-name", func(s *Settings) { s.Secrets = []string{"my-token=x"} }, "rename the variable"},
		{"secret-newline", func(s *Settings) { s.Secrets = []string{"token=a\nb"} }, "control character"},
		{"secret-nbsp", func(s *Settings) { s.Secrets = []string{"token=a\u00a0b"} }, "non-ASCII space"},
		{"long-line", func(s *Settings) {
			s.Vars = []string{"a=" + strings.Repeat("x", 60000)}
			for i := 0; i < 5; i++ {
				s.Vars = append(s.Vars, s.Vars...)
			}
		}, "LONG_LINE_MAX"},
		{"source-and-paths", func(s *Settings) { s.Source, s.AllowedSigners = "git+https://x/y.git", "/etc/a" }, "give one or the other"},
		{"source-no-signers", func(s *Settings) { s.Paths, s.Source = nil, "git+https://x/y.git" }, "needs its allowed signers"},
		{"source-relative-signers", func(s *Settings) {
			s.Paths, s.Source, s.AllowedSigners = nil, "git+https://x/y.git", "allowed"
		}, "not an absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			_, err := Render(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			for _, kv := range s.Secrets {
				if _, v, _ := strings.Cut(kv, "="); err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("the error quotes the secret: %v", err)
				}
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, "0"},
		{"seconds", 10 * time.Second, "10s"},
		{"minutes", 30 * time.Minute, "30min"},
		{"mixed", 90*time.Minute + 5*time.Second, "1h 30min 5s"},
		{"day", 24 * time.Hour, "24h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := span(tc.d); got != tc.want {
				t.Errorf("span(%s) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

// TestSystemdVerify runs the real systemd-analyze verify on every rendering:
// it must have nothing to say. The binary is created at its (awkward) path,
// which proves that systemd unquotes and unescapes ExecStart's first word
// back to the exact file; everything else (timers.target, sysinit.target)
// comes from the machine's own units through SYSTEMD_UNIT_PATH.
func TestSystemdVerify(t *testing.T) {
	bin := testenv.Tool(t, "", "systemd-analyze", "install systemd (scripts/deps does)")
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := tc.s
			// The binary must exist for verify: put it under dir, at the
			// case's path, and check that the Exec line still finds it.
			s.Seconf = filepath.Join(dir, "root", s.Seconf)
			if err := os.MkdirAll(filepath.Dir(s.Seconf), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Seconf, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			files, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			units := filepath.Join(dir, "units")
			os.Mkdir(units, 0o755)
			var args []string
			for _, f := range files {
				if f.Path == EnvFile {
					continue // not a unit; read by the test below
				}
				p := filepath.Join(units, path.Base(f.Path))
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, p)
			}
			cmd := exec.Command(bin, append([]string{"verify"}, args...)...)
			// The trailing colon keeps systemd's own unit directories.
			cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+units+":", "SYSTEMD_LOG_COLOR=0")
			out, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}

// TestSecretsEnvFile: sensitive --var values are in the 0600 environment
// file that the service names, never in the unit, and systemd's own parser
// of environment files reads each value back exactly. That parser is run
// through the environment.d generator, which shares it with
// EnvironmentFile= but then expands $NAME (EnvironmentFile= does not), so
// the values read back here hold no "$".
func TestSecretsEnvFile(t *testing.T) {
	const gen = "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"
	secrets := map[string]string{
		"plain": "hunter2", "spaces": "  lead and trail  ", "quotes": `say "hi" it's`,
		"backslashes": `a\b\\c\`, "ticks": "`id`", "comment": "# not; a comment", "equals": "a=b=c",
		"unicode": "pässwörd",
	}
	s := Settings{Seconf: "/usr/bin/seconf", Paths: []string{"/etc/seconf"}}
	for k, v := range secrets {
		s.Secrets = append(s.Secrets, k+"="+v)
	}
	files, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var env []byte
	for _, f := range files {
		switch {
		case f.Path == EnvFile:
			env = f.Data
			if f.Mode != 0o600 || !f.Sensitive || !units.Owned(f.Data) {
				t.Errorf("env file mode %o sensitive %v owned %v", f.Mode, f.Sensitive, units.Owned(f.Data))
			}
		default:
			for _, v := range secrets {
				if len(v) > 3 && bytes.Contains(f.Data, []byte(v)) {
					t.Errorf("%s holds a secret:\n%s", f.Path, f.Data)
				}
			}
			if path.Ext(f.Path) == ".service" && !bytes.Contains(f.Data, []byte("\nEnvironmentFile="+EnvFile+"\n")) {
				t.Errorf("the service does not read %s:\n%s", EnvFile, f.Data)
			}
		}
	}
	if env == nil {
		t.Fatal("no environment file")
	}
	if _, err := os.Stat(gen); err != nil {
		t.Skipf("systemd's environment.d generator is not installed: %v", err)
	}
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, "environment.d"), 0o755)
	if err := os.WriteFile(filepath.Join(home, "environment.d", "10-seconf.conf"), env, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gen)
	cmd.Env = []string{"HOME=/nonexistent", "XDG_CONFIG_HOME=" + home}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", gen, err)
	}
	// The generator prints NAME=VALUE, quoting values as a shell would:
	// let a shell read them back.
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "SECONF_VAR_") {
			continue
		}
		sh := exec.Command("/bin/sh", "-c", line+`; printf %s "$`+name+`"`)
		v, err := sh.Output()
		if err != nil {
			t.Fatalf("sh: %v: %s", err, line)
		}
		got[strings.TrimPrefix(name, "SECONF_VAR_")] = string(v)
	}
	if d := cmp.Diff(secrets, got); d != "" {
		t.Errorf("values read back by systemd's parser (-want +got):\n%s", d)
	}
}
