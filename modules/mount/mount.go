package mount

import (
	"context"
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/unitfile"
	"seconf/modules/units"
)

// networkTypes are file systems systemd treats as remote.
var networkTypes = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ceph": true,
	"glusterfs": true, "sshfs": true, "fuse.sshfs": true, "9p": true, "davfs": true, "ncpfs": true,
}

// Source turns mount blocks into units.
type Source struct{}

// Kind is the block kind this source renders.
func (Source) Kind() string { return config.KindMount }

// Validate renders every mount without a host.
func (s Source) Validate(cfg *config.Config) hcl.Diagnostics {
	_, diags := s.Units(context.Background(), cfg, nil)
	return diags
}

// Units renders every mount block; the host is not read.
func (Source) Units(_ context.Context, cfg *config.Config, _ *host.Host) ([]*units.Unit, hcl.Diagnostics) {
	var out []*units.Unit
	var diags hcl.Diagnostics
	for _, m := range cfg.Mounts {
		files, err := Render(m)
		if err != nil {
			rng := m.DeclRange
			if ae, ok := err.(*attrError); ok {
				rng = m.AttrRange(ae.attr)
			}
			diags = append(diags, engine.Errorf(&rng, "Invalid mount", "mount %q: %v", m.Name, err))
			continue
		}
		u := &units.Unit{
			ID:     m.ID(),
			Range:  m.DeclRange,
			Name:   config.MountUnitName(m.Where),
			Files:  files,
			Enable: m.Enabled,
			Start:  m.Enabled,
		}
		if m.Enabled {
			u.WantedBy = []string{target(m)}
		}
		out = append(out, u)
	}
	return out, diags
}

// attrError is a rendering error about one attribute.
type attrError struct {
	attr string
	err  error
}

func (e *attrError) Error() string { return e.err.Error() }

func attrErr(attr, format string, args ...any) error {
	return &attrError{attr: attr, err: fmt.Errorf(format, args...)}
}

// Render renders one mount block as its .mount unit.
func Render(m *config.Mount) ([]units.File, error) {
	if !path.IsAbs(m.Where) || path.Clean(m.Where) != m.Where || m.Where == "/" {
		return nil, attrErr("where", "where %q must be an absolute, normalised path other than /", m.Where)
	}
	// What= and Where= are raw strings to systemd: it strips surrounding
	// whitespace and reads a trailing backslash as a line continuation.
	for _, v := range [][2]string{{"what", m.What}, {"where", m.Where}} {
		if s := v[1]; s == "" || s != strings.TrimSpace(s) || strings.HasSuffix(s, `\`) || hasControl(s) {
			return nil, attrErr(v[0], "%s %q cannot be written to a unit: no surrounding whitespace, trailing backslash or control characters", v[0], s)
		}
	}
	if m.Type != "" && strings.IndexFunc(m.Type, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r))
	}) >= 0 {
		return nil, attrErr("type", "type %q is not a file system type name", m.Type)
	}
	// systemd hands What= to mount(8) as an argument of its own: a leading
	// '-' would make it an option.
	if strings.HasPrefix(m.What, "-") {
		return nil, attrErr("what", "what %q starts with '-', which mount(8) would read as an option", m.What)
	}
	opts, err := options(m)
	if err != nil {
		return nil, err
	}
	u := unitfile.New(units.HeaderFor(m.ID()))
	u.Add("Unit", "Description", unitfile.Specifiers("mount "+m.Name+" (seconf)"))
	u.Add("Mount", "What", unitfile.Specifiers(m.What))
	u.Add("Mount", "Where", unitfile.Specifiers(m.Where))
	if m.Type != "" {
		u.Add("Mount", "Type", m.Type)
	}
	if opts != "" {
		u.Add("Mount", "Options", unitfile.Specifiers(opts))
	}
	if m.Enabled {
		u.Add("Install", "WantedBy", target(m))
	}
	p := path.Join(host.UnitDir, config.MountUnitName(m.Where))
	return []units.File{{Path: p, Data: u.Bytes(), Mode: 0o644}}, nil
}

// options is the mount option string: the SELinux context first, then the
// block's options, joined by commas.
func options(m *config.Mount) (string, error) {
	var opts []string
	if c := m.SELinuxContext; c != "" {
		// Inside the quotes mount(8) takes everything up to the next quote;
		// whitespace and backslashes have no business in a context either.
		if strings.ContainsAny(c, `"\`) || strings.IndexFunc(c, unicode.IsSpace) >= 0 || hasControl(c) {
			return "", attrErr("selinux_context", "selinux_context %q is not an SELinux context (user:role:type:level)", c)
		}
		opts = append(opts, `context="`+c+`"`)
	}
	for _, o := range m.Options {
		if o == "" || strings.IndexFunc(o, unicode.IsSpace) >= 0 || strings.HasSuffix(o, `\`) || hasControl(o) {
			return "", attrErr("options", "mount option %q is empty or holds whitespace, a trailing backslash or a control character", o)
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

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }
