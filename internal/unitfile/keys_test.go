package unitfile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// systemdBinary is where Debian and Fedora install the manager, which
// lists the settings it knows (--dump-configuration-items).
const systemdBinary = "/usr/lib/systemd/systemd"

// knownKeys lists the settings of section the machine's systemd knows.
func knownKeys(t *testing.T, section string) []string {
	t.Helper()
	if _, err := os.Stat(systemdBinary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: systemdBinary, Args: []string{"--dump-configuration-items"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if strings.HasPrefix(l, "[") {
			cur = strings.Trim(l, "[]")
			continue
		}
		if k, _, ok := strings.Cut(l, "="); ok && cur == section {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		t.Fatalf("systemd lists no [%s] settings", section)
	}
	return out
}

// probes are values with an unknown specifier (%Z) in the shapes settings
// take: a word, a path, a path with a number, prefixed forms. A setting
// that resolves specifiers fails on %Z with "Failed to resolve".
var probes = []string{"x%Zy", "/x%Zy", "/x%Zy 1", "file:/x%Zy", "a:/x%Zy", "x%Zy:y", "ingress:/x%Zy", "-/x%Zy", "|/x%Zy", "!/x%Zy"}

// measure writes one unit per setting and probe and asks the real
// systemd-analyze verify which settings resolved specifiers.
func measure(t *testing.T, section string, keys []string) map[string]bool {
	t.Helper()
	bin := testenv.Tool(t, "", "systemd-analyze", "install systemd")
	expands := map[string]bool{}
	resolved := regexp.MustCompile(`/k_([A-Za-z]+)\.service:\d+: Failed to resolve`)
	for _, probe := range probes {
		dir := t.TempDir()
		var files []string
		for _, k := range keys {
			var b strings.Builder
			b.WriteString("[Unit]\nDescription=probe\n")
			if section == "Unit" {
				fmt.Fprintf(&b, "%s=%s\n", k, probe)
			}
			b.WriteString("[Service]\nExecStart=/bin/true\n")
			if section == "Service" && k != "ExecStart" {
				fmt.Fprintf(&b, "%s=%s\n", k, probe)
			}
			f := filepath.Join(dir, "k_"+k+".service")
			if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		// verify exits non-zero on the broken settings, as intended.
		res, _ := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: append([]string{"verify"}, files...), Env: []string{"SYSTEMD_LOG_COLOR=0"}})
		for _, m := range resolved.FindAllSubmatch(append(res.Stdout, res.Stderr...), -1) {
			expands[string(m[1])] = true
		}
		if !bytes.Contains(res.Stderr, []byte("k_")) && len(keys) > 0 {
			t.Fatalf("systemd-analyze verify said nothing about the probes:\n%s", res.Stderr)
		}
	}
	expands["ExecStart"] = section == "Service" // not probed: every unit needs one
	return expands
}

// TestSpecifierClasses measures, on this machine's systemd, which
// settings resolve specifiers and checks the list against it: every
// setting systemd knows is listed, and the list says Expands exactly for
// those that resolve specifiers. Settings of a newer systemd than this
// one are listed Unprobed or by reasoning, and are not measured here.
func TestSpecifierClasses(t *testing.T) {
	for _, section := range []string{"Unit", "Service"} {
		t.Run(section, func(t *testing.T) {
			known := knownKeys(t, section)
			expands := measure(t, section, known)
			var missing, wrong []string
			for _, k := range known {
				switch e := KeyExpansion(section, k); {
				case e == Unknown:
					missing = append(missing, k)
				case e == Unprobed:
					// measured here, but listed for the systemd that lacked it
				case (e == Expands) != expands[k]:
					wrong = append(wrong, fmt.Sprintf("%s (listed %v, resolves specifiers: %v)", k, e, expands[k]))
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("settings systemd knows that the list lacks: %s", strings.Join(missing, " "))
			}
			if len(wrong) > 0 {
				t.Errorf("settings listed in the wrong class:\n%s", strings.Join(wrong, "\n"))
			}
			if n := len(Keys(section)); n < len(known) {
				t.Errorf("the list has %d settings, systemd %d", n, len(known))
			}
		})
	}
}

func TestKeyExpansion(t *testing.T) {
	for _, tc := range []struct {
		section, key string
		want         Expansion
	}{
		{"Service", "TimeoutStartSec", Literal},
		{"Service", "CPUQuota", Literal},
		{"Service", "ReadWritePaths", Expands},
		{"Unit", "After", Expands},
		{"Install", "WantedBy", Expands},
		{"Service", "RestartSteps", Unprobed},
		{"Service", "NoSuchSetting", Unknown},
		{"Container", "Image", Unknown},
	} {
		if got := KeyExpansion(tc.section, tc.key); got != tc.want {
			t.Errorf("%s.%s: %v, want %v", tc.section, tc.key, got, tc.want)
		}
	}
	if !slices.Contains(Keys("Install"), "WantedBy") {
		t.Error("Install lacks WantedBy")
	}
}
