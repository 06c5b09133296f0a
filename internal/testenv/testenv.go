package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
)

func run(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: name, Args: args, Dir: dir})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return res.Stdout
}

// PolicyRoot returns a new root holding a copy of the host's policy store
// (/etc/selinux and /var/lib/selinux), for semodule -p ROOT.
func PolicyRoot(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/etc/selinux/config", "/var/lib/selinux"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("no SELinux policy store on this machine (%v): install selinux-policy-default and policycoreutils (.ci/run does)", err)
		}
	}
	root := t.TempDir()
	for _, d := range []string{"etc", "var/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "", "cp", "-a", "/etc/selinux", filepath.Join(root, "etc"))
	run(t, "", "cp", "-a", "/var/lib/selinux", filepath.Join(root, "var/lib"))
	return root
}

var (
	servicesOnce sync.Once
	servicesDir  string
	servicesErr  error
)

// RefpolicyServices returns a directory holding refpolicy's container.te
// and container.fc, taken from Debian's selinux-policy-src: Debian 12's
// policy has no container types without them.
func RefpolicyServices(t testing.TB) string {
	t.Helper()
	servicesOnce.Do(func() {
		const tarball = "/usr/src/selinux-policy-src.tar.zst"
		if _, err := os.Stat(tarball); err != nil {
			servicesErr = fmt.Errorf("%v: install selinux-policy-src and zstd (.ci/run does)", err)
			return
		}
		dir, err := os.MkdirTemp("", "seconf-refpolicy-")
		if err != nil {
			servicesErr = err
			return
		}
		const in = "selinux-policy-src/policy/modules/services/"
		_, servicesErr = host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: "tar", Args: []string{
			"--zstd", "-xf", tarball, "-C", dir, in + "container.te", in + "container.fc"}})
		servicesDir = filepath.Join(dir, in)
	})
	if servicesErr != nil {
		t.Fatal(servicesErr)
	}
	return servicesDir
}

// ListFull is semodule -lfull's output (priority, name, language, disabled).
func ListFull(t testing.TB, root string) string {
	t.Helper()
	return string(run(t, "", "semodule", "-p", root, "-n", "-lfull"))
}

// CommitNum is the store's commit counter: it moves with every policy commit.
func CommitNum(t testing.TB, root string) uint32 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "var/lib/selinux/default/active/commit_num"))
	if err != nil || len(data) < 4 {
		t.Fatalf("read commit_num: %v", err)
	}
	return binary.LittleEndian.Uint32(data)
}

// Modules lists the store's modules as semodule -l prints them.
func Modules(t testing.TB, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, l := range strings.Split(string(run(t, "", "semodule", "-p", root, "-n", "-l")), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out[f[0]] = true
		}
	}
	return out
}

// Checksums maps "PRIORITY NAME" to the checksum semodule -lfull -m prints.
func Checksums(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(string(run(t, "", "semodule", "-p", root, "-n", "-lfull", "-m")), "\n") {
		f := strings.Fields(l)
		for _, w := range f {
			if len(f) >= 3 && strings.HasPrefix(w, "sha256:") {
				out[f[0]+" "+f[1]] = w
			}
		}
	}
	return out
}

// Snapshot hashes every file, link and directory under root (names, modes,
// contents) but the apply lock, so that a test can prove a run wrote nothing.
func Snapshot(t testing.TB, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		// The apply lock lives in /run (a tmpfs on a real host) and is
		// empty whenever nobody holds it: it is not a change to the host.
		if rel == "run" || rel == "run/seconf.lock" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Diff names the lines of two snapshots that differ, for failure messages.
func Diff(a, b string) string {
	as, bs := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		as[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		bs[l] = true
	}
	var out []string
	for l := range as {
		if !bs[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range bs {
		if !as[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is set (go test ./... -update).
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got; run with -update if intended):\n%s", path, d)
	}
}
