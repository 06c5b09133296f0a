package config

import (
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/hashicorp/hcl/v2"
)

// Mount is a `mount "NAME"` block: a systemd .mount unit.
type Mount struct {
	Block
	What, Where, Type string
	Options           []string
	SELinuxContext    string
	Enabled           bool
}

var mountSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "what"}, {Name: "where"}, {Name: "type"}, {Name: "options"}, {Name: "selinux_context"},
	{Name: "enabled"}, {Name: "depends_on"},
}}

func (l *loader) decodeMount(b *hcl.Block, ctx *hcl.EvalContext) *Mount {
	blk, a, _ := l.content(b, mountSchema, ctx, KindMount)
	if blk == nil {
		return nil
	}
	a.require("what")
	a.require("where")
	m := &Mount{
		What:           a.str("what", ""),
		Where:          a.str("where", ""),
		Type:           a.str("type", ""),
		Options:        a.strList("options"),
		SELinuxContext: a.str("selinux_context", ""),
		Enabled:        a.boolean("enabled", true),
	}
	m.Block = *a.blk
	a.hostPath("where", m.Where, m.AttrRange("where"))
	// A context mount option, however placed among the options (one
	// element may hold several, comma-separated), labels the mount as
	// selinux_context does.
	optContext := ""
	for _, o := range m.Options {
		for _, f := range strings.Split(o, ",") {
			f = strings.TrimSpace(f)
			for _, k := range []string{"context=", "fscontext=", "defcontext=", "rootcontext="} {
				if strings.HasPrefix(f, k) && optContext == "" {
					optContext = f
				}
			}
		}
	}
	if d, refused := mountRefused(m.Where); refused {
		rng := m.AttrRange("where")
		l.errorf(&rng, "Mount over a system directory refused", "%s lies in %s, which the host itself runs from; a mount there would hide it (and with selinux_context, relabel it). Mount the file system elsewhere, such as /srv/NAME.", m.Where, d)
	} else if d, sys := SystemPath(m.Where); sys && m.SELinuxContext != "" {
		rng := m.AttrRange("selinux_context")
		l.errorf(&rng, "Relabelling a system directory refused", "selinux_context would label %s (system directory %s) for this mount, and the host services that use it would lose access. Mount it elsewhere, or drop selinux_context.", m.Where, d)
	} else if d, sys := SystemPath(m.Where); sys && optContext != "" {
		rng := m.AttrRange("options")
		l.errorf(&rng, "Relabelling a system directory refused", "the mount option %q would label %s (system directory %s) for this mount, and the host services that use it would lose access. Mount it elsewhere, or drop the option.", optContext, m.Where, d)
	}
	if optContext != "" && m.SELinuxContext != "" {
		rng := m.AttrRange("options")
		l.errorf(&rng, "Conflicting SELinux context", "Set the context once, with selinux_context; drop %q from options.", optContext)
	}
	return m
}

// MountUnitName is the systemd unit name of a mount point: /srv/data → srv-data.mount.
func MountUnitName(where string) string {
	return unit.UnitNamePathEscape(where) + ".mount"
}
