package selinux

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"seconf/config"
	"seconf/host"
)

// Tools whose upgrade can change what a .te compiles to.
var toolchainPaths = []string{host.DevelMakefile, host.PPToCIL, "/usr/bin/checkmodule", "/usr/bin/semodule_package", "/usr/bin/m4"}

// inputHash keys the compile cache: everything a module's CIL depends on.
func (p *Provider) inputHash(m *config.Module) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "format %s\nname %s\n", m.Format, m.Name)
	if m.Source == "" {
		fmt.Fprintf(h, "content %d\n%s", len(m.Content), m.Content)
	} else {
		files := []string{m.Source}
		if m.Format == config.FormatTE {
			base := strings.TrimSuffix(m.Source, ".te")
			files = append(files, base+".if", base+".fc")
		}
		for _, f := range files {
			data, err := host.ReadLocal(f)
			if err != nil && !os.IsNotExist(err) {
				return "", err
			}
			fmt.Fprintf(h, "file %s %d %v\n", filepath.Base(f), len(data), err == nil)
			h.Write(data)
		}
	}
	if m.Format != config.FormatCIL {
		if p.toolchain == "" {
			p.toolchain = toolchainFingerprint()
		}
		h.Write([]byte(p.toolchain))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// toolchainFingerprint hashes the size and mtime of the compilers and of
// the devel interface directories: a policy upgrade replaces the interface
// files by rename, which moves their directory's mtime, and with them what a
// .te expands to. Directories only: a dozen stats instead of ~450.
func toolchainFingerprint() string {
	h := sha256.New()
	for _, p := range toolchainPaths {
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
		}
	}
	filepath.WalkDir(host.DevelInclude, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(h, "%s %d\n", p, info.ModTime().UnixNano())
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}
