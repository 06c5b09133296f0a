package files

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"seconf/host"
)

// Account databases of the managed root: owners are looked up there, never
// in the build machine's, so that an image build gives a file the image's
// "fluent", whatever uid the builder's "fluent" has.
const (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// accounts are the root's users (name → uid, primary gid) and groups
// (name → gid), read once per plan.
type accounts struct {
	users  map[string][2]int
	groups map[string]int
	root   string // for messages: where the files were read
}

func readAccounts(h *host.Host) (*accounts, error) {
	a := &accounts{users: map[string][2]int{}, groups: map[string]int{}, root: h.Root}
	read := func(p string, min int, line func(f []string) error) error {
		data, err := h.FS.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			l := sc.Text()
			if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
				continue // NIS compat entries name no local account
			}
			f := strings.Split(l, ":")
			if len(f) < min {
				return fmt.Errorf("%s line %d: %d fields, want %d", p, n, len(f), min)
			}
			if err := line(f); err != nil {
				return fmt.Errorf("%s line %d: %w", p, n, err)
			}
		}
		return sc.Err()
	}
	err := read(passwdFile, 7, func(f []string) error {
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("user %q: uid or gid is not a number", f[0])
		}
		if _, dup := a.users[f[0]]; !dup { // the first entry wins, as getpwnam's
			a.users[f[0]] = [2]int{uid, gid}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read(groupFile, 4, func(f []string) error {
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("group %q: gid is not a number", f[0])
		}
		if _, dup := a.groups[f[0]]; !dup {
			a.groups[f[0]] = gid
		}
		return nil
	})
	return a, err
}

// owner resolves owner and group as the block gives them: names from the
// root's databases or numbers; no owner is root, no group is the owner's
// primary group (root's for a number or no owner).
func (a *accounts) owner(owner, group string) (uid, gid int, attr string, err error) {
	uid, gid = 0, 0
	if owner != "" {
		if n, e := strconv.Atoi(owner); e == nil {
			uid = n
		} else if u, ok := a.users[owner]; ok {
			uid, gid = u[0], u[1]
		} else {
			return 0, 0, "owner", fmt.Errorf("user %q is not in %s under %s (the managed root's accounts, not this machine's): create it first (useradd, or the package that brings it), or give a number", owner, passwdFile, a.root)
		}
	}
	if group != "" {
		if n, e := strconv.Atoi(group); e == nil {
			gid = n
		} else if g, ok := a.groups[group]; ok {
			gid = g
		} else {
			return 0, 0, "group", fmt.Errorf("group %q is not in %s under %s (the managed root's accounts, not this machine's): create it first (groupadd, or the package that brings it), or give a number", group, groupFile, a.root)
		}
	}
	return uid, gid, "", nil
}
