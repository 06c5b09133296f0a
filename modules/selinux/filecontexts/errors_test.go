package filecontexts

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// setfilesCheck runs setfiles -c, which makes libselinux validate a file
// contexts file (regexes compiled, contexts checked against the machine's
// binary policy, duplicates refused), and reports whether it accepted it.
func setfilesCheck(t *testing.T, fc string) (bool, string) {
	t.Helper()
	bin := testenv.Tool(t, "", "setfiles", "install policycoreutils")
	pols, _ := filepath.Glob(filepath.Join(host.SELinuxDir, machinePolicyType(t), "policy", "policy.*"))
	if len(pols) == 0 {
		t.Fatal("no binary policy: install selinux-policy-default (.ci/run does)")
	}
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: []string{"-c", pols[len(pols)-1], fc}})
	return err == nil, string(res.Stderr)
}

func TestMalformedInput(t *testing.T) {
	good := "system_u:object_r:etc_t:s0"
	cases := []struct {
		name, data string
		want       string // in the error, after "fc:LINE: "
		line       int
		// libselinux refuses it too (setfiles -c); false where this
		// package is stricter, or where RE2 lacks a PCRE feature.
		toolRejects bool
	}{
		{"missing fields", "# c\n/a\n", "missing fields", 2, true},
		{"bad file type", "/a -x " + good + "\n", `invalid file type "-x"`, 1, true},
		{"unbalanced group", "/a " + good + "\n/b( " + good + "\n", "missing closing )", 2, true},
		{"unclosed class", "/a[ " + good + "\n", "missing closing ]", 1, true},
		{"stray parenthesis", "/a) " + good + "\n", "unexpected )", 1, true},
		{"repeated quantifier", "/a** " + good + "\n", "invalid nested repetition", 1, true},
		{"range out of order", "/a[z-a] " + good + "\n", "invalid character class range", 1, true},
		{"malformed context", "/a foo\n", `context "foo"`, 1, true},
		{"empty type", "/a system_u:object_r::s0\n", `type "" is not`, 1, true},
		{"bad range", "/a system_u:object_r:etc_t:s0-\n", "bad sensitivity", 1, true},
		{"non-ASCII", "/caf\xc3\xa9 " + good + "\n", "non-ASCII", 1, true},
		{"back-reference", "/(a)\\1 " + good + "\n", "back-reference", 1, false},
		{"look-ahead", "/a(?=b) " + good + "\n", "PCRE feature", 1, false},
		{"NUL in a field", "/a " + good + "\x00x\n", "NUL", 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(File{Name: "fc", Kind: Specs, Data: []byte(c.data)})
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if le.File != "fc" || le.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want fc:%d: ...%s...", err, c.line, c.want)
			}
			fc := writeFiles(t, map[string]string{"file_contexts": c.data})
			if ok, msg := setfilesCheck(t, fc); ok == c.toolRejects {
				t.Errorf("setfiles -c accepted=%v (%s), the table says it rejects=%v", ok, msg, c.toolRejects)
			}
		})
	}
}

// TestErrorsAreCollected: one Load reports every bad line, each with its
// file and line.
func TestErrorsAreCollected(t *testing.T) {
	_, err := Load(
		File{Name: "a", Kind: Specs, Data: []byte("/x\n/y -q system_u:object_r:etc_t:s0\n/ok system_u:object_r:etc_t:s0\n")},
		File{Name: "b", Kind: Specs, Data: []byte("\n\n/z( system_u:object_r:etc_t:s0")},
	)
	if err == nil {
		t.Fatal("no error")
	}
	var got []string
	for _, l := range strings.Split(err.Error(), "\n") {
		got = append(got, strings.SplitN(l, ": ", 2)[0])
	}
	if strings.Join(got, " ") != "a:1 a:2 b:3" {
		t.Errorf("errors at %v, want a:1 a:2 b:3:\n%v", got, err)
	}
}

// TestAcceptedAsLibselinuxDoes: what libselinux accepts and real files
// have: fields after the third (a comment there), CRLF, white space of every kind,
// contexts without MLS, <<none>>.
func TestAcceptedAsLibselinuxDoes(t *testing.T) {
	data := "# comment\n   \n\t# indented comment\n/a\t-d\tsystem_u:object_r:etc_t:s0 # trailing\n/b -- system_u:object_r:etc_t:s0 extra fields\r\n" +
		"/c\vsystem_u:object_r:etc_t\n/d\f<<none>>\n/e system_u:object_r:etc_t:s0-s15:c0.c1023\n/f system_u:object_r:etc_t:s0:c1,c3.c7\n/g\tsystem_u:object_r:etc_t:s0"
	s, err := Load(File{Name: "fc", Kind: Specs, Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sp := range s.Specs() {
		got = append(got, sp.Where()+" "+sp.String())
	}
	want := []string{
		"fc:4 /a\t-d\tsystem_u:object_r:etc_t:s0",
		"fc:5 /b\t--\tsystem_u:object_r:etc_t:s0",
		"fc:6 /c\tsystem_u:object_r:etc_t",
		"fc:7 /d\t<<none>>",
		"fc:8 /e\tsystem_u:object_r:etc_t:s0-s15:c0.c1023",
		"fc:9 /f\tsystem_u:object_r:etc_t:s0:c1,c3.c7",
		"fc:10 /g\tsystem_u:object_r:etc_t:s0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	fc := writeFiles(t, map[string]string{"file_contexts": data})
	if ok, msg := setfilesCheck(t, fc); !ok {
		// The contexts without MLS are refused by an MLS policy: that is
		// the policy's check, not the file's syntax.
		if !strings.Contains(msg, "invalid context system_u:object_r:etc_t\n") {
			t.Errorf("setfiles -c refused it: %s", msg)
		}
	}
}
