package filecontexts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// This file runs libselinux's own lookup (matchpathcon, from selinux-utils)
// on the same files as the package, to compare answers.

func matchpathconBin(t testing.TB) string {
	return testenv.Tool(t, "", "matchpathcon", "install selinux-utils")
}

// toolMode is matchpathcon's -m letter for a file type.
var toolMode = map[FileType]string{Regular: "f", Directory: "d", Symlink: "l", Socket: "s", NamedPipe: "p", BlockDevice: "b", CharDevice: "c"}

// matchpathcon looks paths up with the real libselinux reading the file
// contexts at fc (and the .homedirs, .local, .subs and .subs_dist beside
// it), with file type ft; for Any it passes no -m, and matchpathcon then
// uses the mode of a path that exists (lstat) and 0 for one that does not.
// The answer for each path is its context, or "<<none>>".
func matchpathcon(t testing.TB, fc string, ft FileType, paths []string) []string {
	t.Helper()
	bin := matchpathconBin(t)
	base := []string{"-N", "-n", "-f", fc}
	if ft != Any {
		base = append(base, "-m", toolMode[ft])
	}
	// Chunks of arguments well under ARG_MAX, two processes at a time
	// (libselinux takes a few hundred microseconds a lookup here).
	var chunks [][2]int
	for start := 0; start < len(paths); {
		end, size := start, 0
		for end < len(paths) && size < 64<<10 {
			size += len(paths[end]) + 1
			end++
		}
		chunks = append(chunks, [2]int{start, end})
		start = end
	}
	out := make([]string, len(paths))
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for ci, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			args := append(append(append([]string{}, base...), "--"), paths[c[0]:c[1]]...)
			res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: args})
			if err != nil {
				errs[ci] = err
				return
			}
			lines := strings.Split(strings.TrimSuffix(string(res.Stdout), "\n"), "\n")
			if len(lines) != c[1]-c[0] {
				errs[ci] = fmt.Errorf("matchpathcon printed %d lines for %d paths: %s", len(lines), c[1]-c[0], res.Stderr)
				return
			}
			copy(out[c[0]:], lines)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// ours is the package's answer in matchpathcon's terms.
func ours(s *Set, p string, ft FileType) string {
	if ft == Any {
		// As matchpathcon: the mode of what is there, after dropping one
		// trailing slash.
		q := p
		if len(q) > 1 && strings.HasSuffix(q, "/") {
			q = q[:len(q)-1]
		}
		if st, err := os.Lstat(q); err == nil {
			ft = FileTypeOf(st.Mode())
		}
	}
	c, ok := s.Lookup(p, ft)
	if !ok {
		return "<<none>>"
	}
	return c.String()
}

// compareWithTool checks every path with type ft and reports differences
// (the first 30) with the spec the package chose.
func compareWithTool(t *testing.T, s *Set, fc string, ft FileType, paths []string) {
	t.Helper()
	want := matchpathcon(t, fc, ft, paths)
	bad := 0
	for i, p := range paths {
		if got := ours(s, p, ft); got != want[i] {
			bad++
			if bad <= 30 {
				m := s.Match(p, ft)
				t.Errorf("%q type %q: got %s (spec %v, matched as %q), matchpathcon says %s", p, ft, got, m.Spec, m.Path, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("type %q: %d of %d paths differ", ft, bad, len(paths))
	}
}

// machinePolicy copies this machine's file contexts (the text files, not
// the compiled .bin, which libselinux would prefer) into a private
// directory and returns the path of its file_contexts.
func machinePolicy(t testing.TB) string {
	t.Helper()
	policyType := machinePolicyType(t)
	src := filepath.Dir(PolicyFile(policyType))
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatalf("%v: install selinux-policy-default (.ci/run does)", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "file_contexts") || strings.HasSuffix(e.Name(), ".bin") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "file_contexts")
}

// machinePolicyType is SELINUXTYPE of this machine's /etc/selinux/config.
func machinePolicyType(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(host.SELinuxConfig)
	if err != nil {
		t.Fatalf("%v: install selinux-policy-default (.ci/run does)", err)
	}
	policyType := "default"
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SELINUXTYPE="); ok && v != "" {
			policyType = strings.TrimSpace(v)
		}
	}
	return policyType
}

// openDir loads the file contexts at fc through Open, as seconf does.
func openDir(t testing.TB, fc string) *Set {
	t.Helper()
	s, err := Open(os.ReadFile, fc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// walk lists every file and directory under the given directories.
func walk(dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable or vanished: the rest still counts
			}
			out = append(out, p)
			return nil
		})
	}
	return out
}

// writeFiles writes a file_contexts and the files beside it into a new
// directory and returns the file_contexts path.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "file_contexts")
}
