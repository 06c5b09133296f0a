package mount

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// vendorUnitDirs hold the units the distribution ships (tmp.mount, ...);
// a mount unit of the same name in /etc would replace it, so it is refused.
var vendorUnitDirs = []string{"/usr/lib/systemd/system", "/lib/systemd/system"}

// networkTypes are file systems systemd treats as remote.
var networkTypes = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ceph": true,
	"glusterfs": true, "sshfs": true, "fuse.sshfs": true, "9p": true, "davfs": true, "ncpfs": true,
}

// Source turns mount blocks into units.
type Source struct {
	// BaseDir is the configuration's directory; headers name the .hcl file
	// relative to it. Empty means the file's base name.
	BaseDir string
}

// Kind is the block kind this source renders.
func (Source) Kind() string { return config.KindMount }

// Units renders every mount block. h is read only to refuse shadowing a
// vendor unit; it may be nil.
func (s Source) Units(cfg *config.Config, h *host.Host) ([]*engine.Unit, error) {
	var units []*engine.Unit
	for _, m := range cfg.Mounts {
		name := config.MountUnitName(m.Where)
		if h != nil {
			for _, d := range vendorUnitDirs {
				if p := filepath.Join(d, name); h.FS.Exists(p) {
					return nil, fmt.Errorf("%s: the host already has %s (%s); seconf does not replace it", m.ID(), name, p)
				}
			}
		}
		files, err := Render(m, Origin(s.BaseDir, m.DeclRange.Filename))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.ID(), err)
		}
		u := &engine.Unit{
			ID:     m.ID(),
			Range:  m.DeclRange,
			Name:   name,
			Files:  files,
			Enable: m.Enabled,
			Start:  m.Enabled,
		}
		if m.Enabled {
			u.WantedBy = []string{target(m)}
		}
		units = append(units, u)
	}
	return units, nil
}

// Render renders one mount block as its .mount unit.
func Render(m *config.Mount, origin string) ([]engine.File, error) {
	if !path.IsAbs(m.Where) || path.Clean(m.Where) != m.Where || m.Where == "/" {
		return nil, fmt.Errorf("where %q must be an absolute, normalised path other than /", m.Where)
	}
	// What= and Where= are raw strings to systemd: it strips surrounding
	// whitespace and reads a trailing backslash as a line continuation.
	for _, v := range [][2]string{{"what", m.What}, {"where", m.Where}} {
		if s := v[1]; s == "" || s != strings.TrimSpace(s) || strings.HasSuffix(s, `\`) || hasControl(s) {
			return nil, fmt.Errorf("%s %q cannot be written to a unit: no surrounding whitespace, trailing backslash or control characters", v[0], s)
		}
	}
	if m.Type != "" && strings.IndexFunc(m.Type, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r))
	}) >= 0 {
		return nil, fmt.Errorf("type %q is not a file system type name", m.Type)
	}
	opts, err := options(m)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s (%s). Edits are overwritten.\n", engine.Header, oneLine(origin), m.ID())
	b.WriteString("\n[Unit]\n")
	fmt.Fprintf(&b, "Description=mount %s (seconf)\n", specifiers(m.Name))
	b.WriteString("\n[Mount]\n")
	fmt.Fprintf(&b, "What=%s\n", specifiers(m.What))
	fmt.Fprintf(&b, "Where=%s\n", specifiers(m.Where))
	if m.Type != "" {
		fmt.Fprintf(&b, "Type=%s\n", m.Type)
	}
	if opts != "" {
		fmt.Fprintf(&b, "Options=%s\n", specifiers(opts))
	}
	if m.Enabled {
		fmt.Fprintf(&b, "\n[Install]\nWantedBy=%s\n", target(m))
	}
	p := path.Join(host.UnitDir, config.MountUnitName(m.Where))
	return []engine.File{{Path: p, Data: []byte(b.String()), Mode: 0o644}}, nil
}

// options is the mount option string: the SELinux context first, then the
// block's options, joined by commas.
func options(m *config.Mount) (string, error) {
	var opts []string
	if c := m.SELinuxContext; c != "" {
		// Inside the quotes mount(8) takes everything up to the next quote;
		// whitespace and backslashes have no business in a context either.
		if strings.ContainsAny(c, `"\`) || strings.IndexFunc(c, unicode.IsSpace) >= 0 || hasControl(c) {
			return "", fmt.Errorf("selinux_context %q is not an SELinux context (user:role:type:level)", c)
		}
		opts = append(opts, `context="`+c+`"`)
	}
	for _, o := range m.Options {
		if o == "" || strings.IndexFunc(o, unicode.IsSpace) >= 0 || strings.HasSuffix(o, `\`) || hasControl(o) {
			return "", fmt.Errorf("mount option %q is empty or holds whitespace, a trailing backslash or a control character", o)
		}
		opts = append(opts, o)
	}
	return strings.Join(opts, ","), nil
}

// target is the boot target that wants the mount, as for an fstab line.
func target(m *config.Mount) string {
	if networkTypes[m.Type] {
		return "remote-fs.target"
	}
	for _, o := range m.Options {
		if o == "_netdev" {
			return "remote-fs.target"
		}
	}
	return "local-fs.target"
}

// specifiers escapes systemd specifiers: What=, Where= and Options= expand
// them, and a literal % must survive.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// oneLine keeps a file name from breaking the comment line it sits in.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// Origin is how a header names the .hcl file: relative to base when the file
// lies below it, else its base name.
func Origin(base, file string) string {
	if base != "" {
		if rel, err := filepath.Rel(base, file); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(file)
}
