package container

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"seconf/internal/testenv"
	"seconf/modules/units"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// words splits a value the way systemd's extract_first_word does with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE (Exec lines, Environment=): whitespace
// separates, single and double quotes group, a backslash escapes. Quotes
// make a word even when it is empty.
func words(s string) ([]string, error) {
	const ws = " \t\n\r"
	var out []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(ws, s[i]) >= 0 {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		var w strings.Builder
		var q byte
		for ; i < len(s); i++ {
			c := s[i]
			if q == 0 && strings.IndexByte(ws, c) >= 0 {
				break
			}
			switch {
			case c == '\\':
				i++
				if i == len(s) {
					return nil, errors.New("trailing backslash")
				}
				switch s[i] {
				case '\\', '"', '\'', ' ':
					w.WriteByte(s[i])
				case 'n':
					w.WriteByte('\n')
				case 't':
					w.WriteByte('\t')
				default:
					return nil, fmt.Errorf("escape \\%c not expected in %q", s[i], s)
				}
			case q != 0 && c == q:
				q = 0
			case q == 0 && (c == '"' || c == '\''):
				q = c
			default:
				w.WriteByte(c)
			}
		}
		if q != 0 {
			return nil, fmt.Errorf("unbalanced quote in %q", s)
		}
		out = append(out, w.String())
	}
}

// unspec undoes specifier escaping: %% is %. Any other %X is a specifier
// seconf wrote on purpose (%t, %N, %n) and stays as it is.
func unspec(s string) string { return strings.ReplaceAll(s, "%%", "%") }

// undollar undoes $$ in an Exec word; a lone $ before a name would be an
// environment variable systemd expands, so it is an error here.
func undollar(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '_' || s[i+1] >= 'A' && s[i+1] <= 'Z' || s[i+1] >= 'a' && s[i+1] <= 'z') {
			return "", fmt.Errorf("unescaped $ in %q would expand a variable", s)
		}
		b.WriteByte('$')
	}
	return b.String(), nil
}

// argv is what systemd runs for an Exec line: split into words, then
// specifiers and $ resolved in each.
func argv(line string) ([]string, error) {
	ws, err := words(line)
	if err != nil {
		return nil, err
	}
	for i, w := range ws {
		if ws[i], err = undollar(unspec(w)); err != nil {
			return nil, err
		}
	}
	return ws, nil
}

// opts is a deserialized unit: values by "Section.Key", in file order.
type opts map[string][]string

func parseUnit(t testing.TB, data []byte) opts {
	t.Helper()
	os, err := unit.Deserialize(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("deserialize: %v\n%s", err, data)
	}
	o := opts{}
	for _, op := range os {
		o[op.Section+"."+op.Name] = append(o[op.Section+"."+op.Name], op.Value)
	}
	return o
}

// keys lists the options' names with their counts: the shape of a unit.
func (o opts) keys() []string {
	var ks []string
	for k, v := range o {
		ks = append(ks, fmt.Sprintf("%s×%d", k, len(v)))
	}
	sort.Strings(ks)
	return ks
}

func (o opts) one(t testing.TB, key string) string {
	t.Helper()
	if len(o[key]) != 1 {
		t.Fatalf("%s: want one value, have %q", key, o[key])
	}
	return o[key][0]
}

// fileByExt returns the rendered file with the extension.
func fileByExt(t testing.TB, files []units.File, ext string) units.File {
	t.Helper()
	for _, f := range files {
		if filepath.Ext(f.Path) == ext {
			return f
		}
	}
	t.Fatalf("no %s file among %d", ext, len(files))
	return units.File{}
}

func quadletBin(t *testing.T) string {
	return testenv.Tool(t, "SECONF_QUADLET", "", "run `export SECONF_QUADLET=$(.ci/build-quadlet)` (it builds podman v5.4.2's quadlet generator and prints its path)")
}

// verifyRoot is a root for systemd-analyze verify with podman and docker
// stand-ins, so that units running them pass the executable check.
func verifyRoot(t *testing.T, standInUnits ...string) string {
	return testenv.VerifyRoot(t, []string{Podman, Docker, Sh}, standInUnits...)
}

func verify(t *testing.T, root string, units map[string][]byte) {
	t.Helper()
	testenv.Verify(t, root, units)
}

// quadlet runs the real quadlet generator on .container files and returns
// the generated services by name.
func quadlet(t *testing.T, containers map[string][]byte) map[string][]byte {
	t.Helper()
	bin := quadletBin(t)
	dir := t.TempDir()
	for name, data := range containers {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-dryrun", "-no-kmsg-log")
	cmd.Env = append(os.Environ(), "QUADLET_UNIT_DIRS="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("quadlet: %v\n%s", err, stderr.Bytes())
	}
	// quadlet -dryrun prints each unit after a ---NAME--- line, and reports
	// a file it cannot convert on stderr while still exiting 0.
	if bytes.Contains(stderr.Bytes(), []byte("rror")) {
		t.Fatalf("quadlet complained:\n%s", stderr.Bytes())
	}
	out := map[string][]byte{}
	var name string
	for _, line := range strings.SplitAfter(stdout.String(), "\n") {
		if strings.HasPrefix(line, "---") && strings.HasSuffix(strings.TrimSpace(line), "---") {
			name = strings.Trim(strings.TrimSpace(line), "-")
			out[name] = nil
			continue
		}
		if name != "" {
			out[name] = append(out[name], line...)
		}
	}
	if len(out) != len(containers) {
		t.Fatalf("quadlet generated %d units from %d files:\n%s\n%s", len(out), len(containers), stdout.Bytes(), stderr.Bytes())
	}
	return out
}
