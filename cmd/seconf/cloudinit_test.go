package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"seconf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite examples/cloud-init/user-data.yaml's files from examples/container-logger")

const (
	userData     = "../../examples/cloud-init/user-data.yaml"
	userDataFrom = "../../examples/container-logger"
	userDataDir  = "/etc/seconf/"
)

type cloudConfig struct {
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Content     string `yaml:"content"`
		Encoding    string `yaml:"encoding"`
		Permissions string `yaml:"permissions"`
	} `yaml:"write_files"`
	Runcmd [][]string `yaml:"runcmd"`
}

// exampleFiles reads the files the user-data must carry, by base name.
func exampleFiles(t *testing.T) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(userDataFrom)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(userDataFrom, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = data
		}
	}
	return out
}

// TestCloudInitUserData holds the cloud-init example to what it must do:
// carry examples/container-logger's files byte for byte into /etc/seconf
// (go test -update rewrites them), then apply them, install the timer and
// report how the first converge went.
func TestCloudInitUserData(t *testing.T) {
	want := exampleFiles(t)
	if *update {
		src, err := os.ReadFile(userData)
		if err != nil {
			t.Fatal(err)
		}
		out, err := replaceContents(src, want)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(userData, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(userData)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(src, []byte("#cloud-config\n")) {
		t.Errorf("%s does not start with #cloud-config", userData)
	}
	var cc cloudConfig
	if err := yaml.Unmarshal(src, &cc); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range cc.WriteFiles {
		name, ok := strings.CutPrefix(f.Path, userDataDir)
		if !ok {
			continue
		}
		if f.Encoding != "" {
			t.Errorf("%s: encoding %q; write it as text so that a person can read it", f.Path, f.Encoding)
		}
		got[name] = []byte(f.Content)
	}
	const fix = "go test ./cmd/seconf -run TestCloudInitUserData -update rewrites them"
	if d := cmp.Diff(sortedKeys(want), sortedKeys(got)); d != "" {
		t.Errorf("files in %s against %s (-example +user-data):\n%s", userDataDir, userDataFrom, d)
	}
	for name, data := range want {
		if g, ok := got[name]; ok {
			if d := cmp.Diff(string(data), string(g)); d != "" {
				t.Errorf("%s in %s differs from %s (%s) (-example +user-data):\n%s", name, userData, userDataFrom, fix, d)
			}
		}
	}
	wantCmds := [][]string{
		{"/usr/local/bin/seconf", "apply", "/etc/seconf"},
		{"/usr/local/bin/seconf", "timer", "install", "/etc/seconf"},
		{"/usr/local/bin/seconf", "status", "--detailed-exitcode", "/etc/seconf"},
	}
	if d := cmp.Diff(wantCmds, cc.Runcmd); d != "" {
		t.Errorf("runcmd (-want +got):\n%s", d)
	}
	// What cloud-init writes is a configuration seconf accepts.
	dir := t.TempDir()
	for name, data := range got {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustSeconf(t, 0, "validate", dir)
}

func sortedKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCloudInitSchema runs cloud-init's own validator on the example.
func TestCloudInitSchema(t *testing.T) {
	bin := testenv.Tool(t, "", "cloud-init", "install the Debian package cloud-init (scripts/deps does)")
	out, err := exec.Command(bin, "schema", "--config-file", userData).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Valid cloud-config")) {
		t.Errorf("cloud-init schema --config-file %s: %v\n%s", userData, err, out)
	}
}

// pathLine and contentLine find a write_files entry and its literal block.
var (
	pathLine    = regexp.MustCompile(`^  - path: (\S+)$`)
	contentLine = regexp.MustCompile(`^    content: \|$`)
)

// replaceContents rewrites the literal block of every write_files entry
// for /etc/seconf/NAME with files[NAME], leaving every other line alone.
// Block lines are indented six spaces; the block ends at the first
// non-empty line indented less, and the blank lines before it stay.
func replaceContents(src []byte, files map[string][]byte) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	var out strings.Builder
	name := ""
	done := map[string]bool{}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		out.WriteString(l)
		if m := pathLine.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			name, _ = strings.CutPrefix(m[1], userDataDir)
			continue
		}
		data, ok := files[name]
		if !ok || !contentLine.MatchString(strings.TrimSuffix(l, "\n")) {
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], "      ") || strings.TrimSpace(lines[j]) == "") {
			j++
		}
		for j > i+1 && strings.TrimSpace(lines[j-1]) == "" {
			j--
		}
		for _, dl := range strings.SplitAfter(string(data), "\n") {
			if strings.TrimSpace(dl) != "" {
				out.WriteString("      " + dl)
			} else if dl != "" {
				out.WriteString("\n")
			}
		}
		done[name] = true
		i = j - 1
	}
	var missing []string
	for n := range files {
		if !done[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return nil, &missingError{missing}
	}
	return []byte(out.String()), nil
}

type missingError struct{ names []string }

func (e *missingError) Error() string {
	return "add a write_files entry (path: " + userDataDir + "NAME, content: |) by hand for: " + strings.Join(e.names, ", ")
}
