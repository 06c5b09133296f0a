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

	"seconf/engine/host"
)

// store reads a policy store directly, the way semodule -lfull -m does, but
// only for the modules asked about: listing checksums of all ~300 modules
// through semodule costs half a second, reading two of them a millisecond.
type store struct {
	fs    host.FS
	dir   string // host path of the store's active modules directory
	prios []int  // priorities in use, highest first, read once
}

// installed is one module at one priority.
type installed struct {
	Priority int
	Lang     string
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
	st := store{fs: fs, dir: path.Join("/var/lib/selinux", name, "active/modules")}
	ents, _ := fs.ReadDir(st.dir)
	for i := len(ents) - 1; i >= 0; i-- {
		if prio, err := strconv.Atoi(ents[i].Name()); err == nil && ents[i].IsDir() {
			st.prios = append(st.prios, prio)
		}
	}
	return st
}

// exists reports whether there is a policy store at all.
func (s store) exists() bool { return s.fs.Exists(s.dir) }

// lookup returns the priorities a module is installed at, highest first.
func (s store) lookup(name string) ([]installed, error) {
	var out []installed
	for _, prio := range s.prios {
		dir := path.Join(s.dir, fmt.Sprintf("%03d", prio), name)
		lang, err := s.fs.ReadFile(path.Join(dir, "lang_ext"))
		if err != nil {
			continue
		}
		out = append(out, installed{Priority: prio, Lang: strings.TrimSpace(string(lang)), dir: dir})
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
