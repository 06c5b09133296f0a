package selinux

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"seconf/host"
)

// store reads a policy store directly, the way semodule -lfull -m does, but
// only for the modules asked about: listing checksums of all ~300 modules
// through semodule costs half a second, reading two of them a millisecond.
type store struct {
	fs   host.FS
	name string // the policy type (SELINUXTYPE): default, targeted, ...
	dir  string // host path of the store's active modules directory
	// at lists, by module name, the priorities it is installed at, highest
	// first: one directory listing a priority instead of a probe a module.
	at map[string][]int
	// off holds the disabled modules: one listing instead of a probe each.
	off map[string]bool
	// err is why the modules directory could not be listed, when it
	// exists: an unprivileged user cannot read a store (mode 0700).
	err error
}

// installed is one module at one priority.
type installed struct {
	Priority int
	dir      string
	// sums is its fingerprint once read (cil, hll), so that a plan reads
	// the stored files once.
	sums *[2]string
}

func openStore(fsys host.FS) store {
	name := "default"
	if data, err := fsys.ReadFile(host.SELinuxConfig); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SELINUXTYPE="); ok && v != "" {
				name = strings.TrimSpace(v)
			}
		}
	}
	st := store{fs: fsys, name: name, dir: path.Join(host.PolicyStores, name, "active/modules"), at: map[string][]int{}, off: map[string]bool{}}
	ents, err := fsys.ReadDir(st.dir)
	if err != nil {
		st.err = err
	}
	for _, e := range ents {
		if e.Name() != "disabled" || !e.IsDir() {
			continue
		}
		offs, err := fsys.ReadDir(path.Join(st.dir, "disabled"))
		if err != nil && st.err == nil {
			st.err = err
		}
		for _, o := range offs {
			st.off[o.Name()] = true
		}
	}
	for i := len(ents) - 1; i >= 0; i-- {
		prio, err := strconv.Atoi(ents[i].Name())
		if err != nil || !ents[i].IsDir() {
			continue
		}
		mods, err := fsys.ReadDir(path.Join(st.dir, ents[i].Name()))
		if err != nil && st.err == nil {
			st.err = err
		}
		for _, m := range mods {
			st.at[m.Name()] = append(st.at[m.Name()], prio)
		}
	}
	return st
}

// exists reports whether there is a policy store at all.
func (s store) exists() bool { return s.fs.Exists(s.dir) }

// lookup returns the priorities a module is installed at, highest first.
func (s store) lookup(name string) ([]installed, error) {
	var out []installed
	for _, prio := range s.at[name] {
		out = append(out, installed{Priority: prio, dir: path.Join(s.dir, fmt.Sprintf("%03d", prio), name)})
	}
	return out, nil
}

// disabled reports whether the module is disabled (semodule -d).
func (s store) disabled(name string) bool { return s.off[name] }

// file returns one of the files the store keeps for a module, as it lies
// there (bzip2-compressed), or nil when the store has none by that name:
// "cil" is missing for a .pp module never enabled, "hll" for a CIL module.
func (s store) file(in installed, name string) ([]byte, error) {
	data, err := s.fs.ReadFile(path.Join(in.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// raw returns the installed module's CIL file as stored (compressed), nil
// when there is none (a disabled .pp module).
func (s store) raw(in installed) ([]byte, error) { return s.file(in, "cil") }

// cil returns the installed module's CIL, decompressed. A .pp module that
// was never enabled has no CIL in the store, only its package (hll), which
// semodule's own converter turns into CIL, as semodule -lfull -m does.
func (s store) cil(ctx context.Context, r host.Runner, in installed) ([]byte, error) {
	raw, err := s.raw(in)
	if err != nil || raw != nil {
		if err != nil {
			return nil, err
		}
		return decompress(raw)
	}
	hll, err := s.file(in, "hll")
	if err != nil {
		return nil, err
	}
	lang, _ := s.file(in, "lang_ext")
	if hll == nil || strings.TrimSpace(string(lang)) != "pp" {
		return nil, fmt.Errorf("the store holds neither CIL nor a policy package for %s at priority %d (%s)", path.Base(in.dir), in.Priority, in.dir)
	}
	pp, err := decompress(hll)
	if err != nil {
		return nil, err
	}
	res, err := r.Run(ctx, host.Cmd{Name: host.PPToCIL, Stdin: pp})
	if err != nil {
		return nil, fmt.Errorf("convert the stored package of %s to CIL: %w", path.Base(in.dir), err)
	}
	return res.Stdout, nil
}

// fingerprint is the hashes of the module's files as they lie in the
// store: equal to a record's, the module is the very one seconf installed,
// known without decompressing anything or running a tool.
func (s store) fingerprint(in installed) (cil, hll string, err error) {
	for _, f := range []struct {
		name string
		sum  *string
	}{{"cil", &cil}, {"hll", &hll}} {
		data, err := s.file(in, f.name)
		if err != nil {
			return "", "", err
		}
		if data != nil {
			*f.sum = checksum(data)
		}
	}
	return cil, hll, nil
}

// packageFile is the file a distribution ships a module in, when the root
// has one: Debian's /usr/share/selinux/default/NAME.pp.bz2, Fedora's
// /usr/share/selinux/packages/NAME.pp.bz2 (container-selinux and others).
func (s store) packageFile(name string) string {
	for _, dir := range []string{path.Join("/usr/share/selinux", s.name), "/usr/share/selinux/packages", path.Join("/usr/share/selinux/packages", s.name)} {
		for _, ext := range []string{".pp.bz2", ".pp", ".cil.bz2", ".cil"} {
			if p := path.Join(dir, name+ext); s.fs.Exists(p) {
				return p
			}
		}
	}
	return ""
}

// describe says where a module seconf does not own is, and whose it is as
// far as the host tells.
func (s store) describe(name string, prio int) string {
	var whose []string
	switch prio {
	case 100:
		whose = append(whose, "where the distribution's policy packages install theirs")
	case 200:
		whose = append(whose, "where packages such as container-selinux install theirs")
	case 400:
		whose = append(whose, "semodule's default: installed by hand or by another tool")
	default:
		whose = append(whose, "installed outside seconf")
	}
	if f := s.packageFile(name); f != "" {
		whose = append(whose, "shipped as "+f)
	}
	return fmt.Sprintf("priority %d (%s)", prio, strings.Join(whose, "; "))
}

// decompress undoes the store's bzip2 compression (off when semanage.conf
// sets bzip-blocksize=0).
func decompress(raw []byte) ([]byte, error) {
	if !bytes.HasPrefix(raw, []byte("BZh")) {
		return raw, nil
	}
	return io.ReadAll(bzip2.NewReader(bytes.NewReader(raw)))
}

func checksum(cil []byte) string {
	sum := sha256.Sum256(cil)
	return "sha256:" + hex.EncodeToString(sum[:])
}
