package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"seconf/host"
)

// Tool finds an external program a test needs: the path in the environment
// variable env if set, else name on the PATH. Missing locally, the test is
// skipped; in CI it fails, because CI must run the real thing. how says
// how to get it.
func Tool(t testing.TB, env, name, how string) string {
	t.Helper()
	if p := os.Getenv(env); env != "" && p != "" {
		return p
	}
	if name != "" {
		if p, err := host.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not available: %s", name, how)
	if env != "" {
		msg = fmt.Sprintf("%s is not set: %s", env, how)
	}
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// VerifyRoot is a file system root for `systemd-analyze verify --root`: the
// host's vendor units (so that multi-user.target and friends resolve),
// stand-in executables at the given paths, and stand-in units of the given
// names. --root, rather than SYSTEMD_UNIT_PATH alone, lets a stand-in
// /usr/bin/podman satisfy verify's executable check without touching the
// build machine.
func VerifyRoot(t testing.TB, executables []string, standInUnits ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr/lib/systemd", "usr/bin", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "", "cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/"))
	for _, exe := range executables {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(exe)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, exe), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range standInUnits {
		data := "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n"
		if err := os.WriteFile(filepath.Join(root, "usr/lib/systemd/system", u), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Verify runs the real systemd-analyze verify on units placed in the root's
// /etc/systemd/system and fails the test on any complaint at all.
func Verify(t testing.TB, root string, units map[string][]byte) {
	t.Helper()
	bin := Tool(t, "", "systemd-analyze", "install systemd")
	var names []string
	for name, data := range units {
		if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin,
		Args: append([]string{"verify", "--root=" + root}, names...), Env: []string{"SYSTEMD_LOG_COLOR=0"}})
	out := append(res.Stdout, res.Stderr...)
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(names, " "), err, out)
	}
}
