package confine

import (
	"fmt"
	"strings"

	"seconf/config"
)

// Bind is a host path or named volume a container has mounted: a volume
// block, or a mount entry of type bind or volume.
type Bind struct {
	Source, Target string
	ReadOnly       bool
	Relabel        string // none, shared, private: the engine relabels the source
	Named          bool   // a named volume, which the engine keeps and labels
	// Volume is the index of the volume block, or -1 for a mount entry,
	// which Attr then names (mount[2]).
	Volume int
	Attr   string
	Desc   string // as a comment names it
}

// Binds lists what a container mounts from the host, in declaration order:
// its volume blocks, then its mount entries of type bind or volume (the
// other types, tmpfs and the like, are the container's own).
func Binds(c *config.Container) []Bind {
	var out []Bind
	for i, v := range c.Volumes {
		b := Bind{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly, Relabel: v.Relabel, Named: v.Named != "", Volume: i}
		if b.Relabel == "" {
			b.Relabel = config.RelabelNone
		}
		b.Desc = fmt.Sprintf("volume %s -> %s (%s)", quote(b.Source), quote(b.Target), mode(b.ReadOnly))
		out = append(out, b)
	}
	for i, s := range c.Options["mount"].List {
		m, err := config.ParseMount(s)
		if err != nil || m.Type != "bind" && m.Type != "volume" {
			continue
		}
		src, _, _ := m.Source()
		b := Bind{Source: src, Relabel: config.RelabelNone, Named: m.Type == "volume", Volume: -1, Attr: fmt.Sprintf("mount[%d]", i)}
		for _, f := range m.Fields {
			k, v, hasValue := strings.Cut(f, "=")
			switch {
			case k == "destination" || k == "dst" || k == "target":
				b.Target = v
			case (k == "ro" || k == "readonly") && (!hasValue || v == "true"):
				b.ReadOnly = true
			case k == "relabel" && v == "shared", k == "z":
				b.Relabel = config.RelabelShared
			case k == "relabel" && v == "private", k == "Z":
				b.Relabel = config.RelabelPrivate
			}
		}
		b.Desc = fmt.Sprintf("mount %s -> %s (%s)", quote(b.Source), quote(b.Target), mode(b.ReadOnly))
		out = append(out, b)
	}
	return out
}

func mode(readOnly bool) string {
	if readOnly {
		return "read-only"
	}
	return "read-write"
}
