package selinux

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"seconf/host"
)

// store reads a policy store directly, the way semodule -lfull -m does, but
// only for the modules asked about: listing checksums of all ~300 modules
// through semodule costs half a second, reading two of them a millisecond.
type store struct {
	fs  host.FS
	dir string // host path of the store's active modules directory
	// at lists, by module name, the priorities it is installed at, highest
	// first: one directory listing a priority instead of a probe a module.
	at map[string][]int
}

// installed is one module at one priority.
type installed struct {
	Priority int
	dir      string
}

func openStore(fs host.FS) store {
	name := "default"
	if data, err := fs.ReadFile("/etc/selinux/config"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SELINUXTYPE="); ok && v != "" {
				name = strings.TrimSpace(v)
			}
		}
	}
	st := store{fs: fs, dir: path.Join("/var/lib/selinux", name, "active/modules"), at: map[string][]int{}}
	ents, _ := fs.ReadDir(st.dir)
	for i := len(ents) - 1; i >= 0; i-- {
		prio, err := strconv.Atoi(ents[i].Name())
		if err != nil || !ents[i].IsDir() {
			continue
		}
		mods, _ := fs.ReadDir(path.Join(st.dir, ents[i].Name()))
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
func (s store) disabled(name string) bool {
	return s.fs.Exists(path.Join(s.dir, "disabled", name))
}

// raw returns the installed module's CIL file as stored (compressed).
func (s store) raw(in installed) ([]byte, error) {
	return s.fs.ReadFile(path.Join(in.dir, "cil"))
}

// cil returns the installed module's CIL, decompressed.
func (s store) cil(in installed) ([]byte, error) {
	raw, err := s.raw(in)
	if err != nil {
		return nil, err
	}
	return decompress(raw)
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
