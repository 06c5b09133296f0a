package selinux

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"seconf/host"
	"seconf/internal/lazyre"
)

// transaction is one semodule run, prepared: the checks done, the
// sanitised semanage.conf written.
//
// semodule runs as root, and offline it works on a root that is data, not
// code; three things of the root would otherwise reach the build machine:
//   - the store: semodule -s defaults to the build machine's SELINUXTYPE,
//     so it is always given the root's own (a root whose policy is
//     "targeted" on a "default" machine would never converge);
//   - symlinks: semodule -p ROOT follows a link at ROOT/var/lib/selinux or
//     anywhere in the store and writes where it points; such a root is
//     refused before semodule starts (checkStoreLinks);
//   - semanage.conf: libsemanage reads ROOT/etc/selinux/semanage.conf, whose
//     [load_policy], [setfiles], [verify ...] sections and path keys name
//     programs it runs as root; semodule runs in a private mount namespace
//     in which that file is a sanitised copy (sanitizeSemanageConf). A root
//     without one gets the build machine's own, which is trusted.
//
// Online (the live host) the store and semanage.conf are the host's own,
// owned by root and as trusted as seconf itself: only -s is added, which
// names the store semodule would have chosen anyway.
type transaction struct {
	h       *host.Host
	bin     string
	args    []string // -s, and offline -p ROOT -n
	sandbox *host.Sandbox
	tmp     string // holds the sanitised semanage.conf
}

// prepareTransaction checks h's policy store and readies semodule for it.
// It runs only when there is something to commit: never on a no-change
// plan. Close removes what it wrote.
func prepareTransaction(h *host.Host) (*transaction, error) {
	bin, err := host.Tool("semodule")
	if err != nil {
		return nil, err
	}
	st, err := storeName(h.FS)
	if err != nil {
		return nil, err
	}
	t := &transaction{h: h, bin: bin, args: []string{"-s", st}}
	if !h.Offline() {
		return t, nil
	}
	// -p keeps the whole transaction under the root; -S alone would still
	// write the built policy into the build machine's /etc/selinux.
	t.args = append(t.args, "-p", h.Root, "-n")
	if err := checkStoreLinks(h.Root, st); err != nil {
		return nil, err
	}
	conf := filepath.Join(h.Root, host.SELinuxDir, "semanage.conf")
	data, err := os.ReadFile(conf)
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	clean, dropped, err := sanitizeSemanageConf(data, conf)
	if err != nil {
		return nil, err
	}
	for _, d := range dropped {
		fmt.Fprintf(h.Log, "%s: ignored %s (names a program or a path)\n", conf, d)
	}
	if t.tmp, err = os.MkdirTemp("", "seconf-semanage-"); err != nil {
		return nil, err
	}
	sane := filepath.Join(t.tmp, "semanage.conf")
	if err := os.WriteFile(sane, clean, 0o644); err != nil {
		t.Close()
		return nil, err
	}
	t.sandbox = &host.Sandbox{Binds: []host.Bind{{Src: sane, Dst: conf, ReadOnly: true}}}
	return t, nil
}

// Run runs semodule with ops (-X/-i/-r/-e/-d arguments) as one commit.
func (t *transaction) Run(ctx context.Context, ops []string) error {
	_, err := t.h.Runner.Run(ctx, host.Cmd{Name: t.bin, Args: append(append([]string(nil), t.args...), ops...), Sandbox: t.sandbox})
	return err
}

// Close removes the sanitised semanage.conf.
func (t *transaction) Close() {
	if t.tmp != "" {
		os.RemoveAll(t.tmp)
	}
}

// storeNameRe is a policy store name: one plain path component.
var storeNameRe = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// storeName is the store the host's /etc/selinux/config names
// (SELINUXTYPE, the last one as libselinux reads it; "default" without
// one). It becomes a path component under the root, hence the check.
func storeName(fsys host.FS) (string, error) {
	name := "default"
	data, err := fsys.ReadFile(host.SELinuxConfig)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SELINUXTYPE="); ok && strings.TrimSpace(v) != "" {
			name = strings.TrimSpace(v)
		}
	}
	if !storeNameRe.MatchString(name) || name == ".." {
		return "", fmt.Errorf("%s: SELINUXTYPE=%q is not a policy store name (letters, digits, '_', '.', '-')", filepath.Join(fsys.Root, host.SELinuxConfig), name)
	}
	return name, nil
}

// checkStoreLinks refuses a root in which semodule -p would follow a
// symlink: the directories on the way to the store, semanage.conf and
// config, and everything inside the store's two trees (and the staging
// tree under final/). It walks about 1,400 entries of a stock store and
// runs only when a transaction is about to run, never on a no-change plan.
func checkStoreLinks(root, store string) error {
	refuse := func(p string) error {
		target, _ := os.Readlink(p)
		return fmt.Errorf("%s is a symbolic link (to %s): semodule -p would follow it and change files outside the root; "+
			"replace it with a copy of what it points to (or remove it) and run again", p, target)
	}
	for _, rel := range []string{"etc", "var", "var/lib", "etc/selinux", "var/lib/selinux", "var/lib/selinux/final",
		"etc/selinux/config", "etc/selinux/semanage.conf"} {
		p := filepath.Join(root, rel)
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return refuse(p)
		}
	}
	for _, rel := range []string{"etc/selinux/" + store, "var/lib/selinux/" + store, "var/lib/selinux/final/" + store} {
		err := filepath.WalkDir(filepath.Join(root, rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 {
				return refuse(p)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// safeConfKeys are the semanage.conf keys that set a value and name no
// program or path (libsemanage's conf-scan.l). Everything else goes:
// store-root and compiler-directory (paths libsemanage reads and runs),
// every [section] ([load_policy], [setfiles], [sefcontext_compile],
// [verify module|linked|kernel]: programs it runs), and keys unknown to
// seconf. Without them libsemanage uses its built-in defaults, which are
// the build machine's programs.
var safeConfKeys = map[string]bool{
	"module-store": true, "policy-version": true, "target-platform": true, "expand-check": true,
	"file-mode": true, "save-previous": true, "save-linked": true, "disable-genhomedircon": true,
	"handle-unknown": true, "usepasswd": true, "ignoredirs": true, "bzip-blocksize": true,
	"bzip-small": true, "remove-hll": true, "optimize-policy": true, "multiple-decls": true,
	"ignore-module-cache": true,
}

// confValueRe is a value seconf copies: words, numbers, and the
// ';'-separated directories of ignoredirs.
var confValueRe = lazyre.New(`^[A-Za-z0-9_./;:,+-]+$`)

// sanitizeSemanageConf rewrites a root's semanage.conf (read from name)
// with the safe keys only, and says what it dropped. A module-store other
// than direct (a policy server, a socket) is refused: seconf cannot vouch
// for what semodule would talk to.
func sanitizeSemanageConf(data []byte, name string) ([]byte, []string, error) {
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s, as seconf passes it to semodule: keys that name no program or path only.\n", name)
	var dropped []string
	section := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if section != "" {
			if strings.HasPrefix(line, "[end]") {
				section = ""
			}
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line
			if j := strings.Index(line, "]"); j > 0 {
				section = line[:j+1]
			}
			dropped = append(dropped, fmt.Sprintf("%s (line %d)", section, i+1))
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if !ok || !safeConfKeys[key] {
			dropped = append(dropped, fmt.Sprintf("%s (line %d)", key, i+1))
			continue
		}
		if !confValueRe.MatchString(val) {
			return nil, nil, fmt.Errorf("%s:%d: %s = %q is not a value seconf passes on (words, numbers, paths separated by ';')", name, i+1, key, val)
		}
		if key == "module-store" && val != "direct" {
			return nil, nil, fmt.Errorf("%s:%d: module-store = %s: seconf works on a direct store only; set module-store = direct", name, i+1, val)
		}
		fmt.Fprintf(&out, "%s = %s\n", key, val)
	}
	return out.Bytes(), dropped, nil
}
