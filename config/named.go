package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Block kinds of named volumes and networks.
const (
	KindVolume  = "volume"
	KindNetwork = "network"
)

// NamedVolume is a `volume "NAME"` block: a podman (or docker) named
// volume, created by a oneshot unit (quadlet's NAME.volume, or
// NAME-volume.service) that containers using it require.
type NamedVolume struct {
	Block
	Engine  string // podman or docker
	Quadlet *bool  // as a container's quadlet attribute
	// VolumeName is the engine's name for the volume: volume_name, else
	// the block's name (quadlet's default, systemd-NAME, is not used:
	// seconf always writes the name).
	VolumeName                           string
	Driver, Device, Type, Options, Image string
	User, Group                          *int64 // host uid and gid owning the volume (podman)
	Copy                                 *bool
	Label                                map[string]string
}

// Network is a `network "NAME"` block: a podman (or docker) network,
// created by a oneshot unit that containers on it require.
type Network struct {
	Block
	Engine  string
	Quadlet *bool
	// NetworkName is the engine's name for the network: network_name,
	// else the block's name.
	NetworkName                   string
	Driver, IPAMDriver            string
	Subnet, Gateway, IPRange, DNS []string
	Internal, IPv6, DisableDNS    *bool
	Label, Options                map[string]string
}

var namedVolumeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "engine"}, {Name: "quadlet"}, {Name: "volume_name"}, {Name: "driver"}, {Name: "device"},
	{Name: "type"}, {Name: "options"}, {Name: "image"}, {Name: "user"}, {Name: "group"}, {Name: "copy"},
	{Name: "label"}, {Name: "depends_on"},
}}

var networkSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "engine"}, {Name: "quadlet"}, {Name: "network_name"}, {Name: "driver"}, {Name: "ipam_driver"},
	{Name: "subnet"}, {Name: "gateway"}, {Name: "ip_range"}, {Name: "dns"}, {Name: "internal"},
	{Name: "ipv6"}, {Name: "disable_dns"}, {Name: "label"}, {Name: "options"}, {Name: "depends_on"},
}}

func (l *loader) decodeNamedVolume(b *hcl.Block, ctx *hcl.EvalContext) *NamedVolume {
	blk, a, _ := l.content(b, namedVolumeSchema, ctx, KindVolume)
	if blk == nil {
		return nil
	}
	v := &NamedVolume{
		Engine:     a.str("engine", "podman"),
		Quadlet:    a.optBool("quadlet"),
		VolumeName: a.str("volume_name", b.Labels[0]),
		Driver:     a.str("driver", ""),
		Device:     a.str("device", ""),
		Type:       a.str("type", ""),
		Options:    a.str("options", ""),
		Image:      a.str("image", ""),
		User:       a.optInt("user"),
		Group:      a.optInt("group"),
		Copy:       a.optBool("copy"),
	}
	v.Label = a.plainMap("label")
	l.checkEngine(a, v.Engine, v.Quadlet)
	v.Block = *a.blk
	return v
}

func (l *loader) decodeNetwork(b *hcl.Block, ctx *hcl.EvalContext) *Network {
	blk, a, _ := l.content(b, networkSchema, ctx, KindNetwork)
	if blk == nil {
		return nil
	}
	n := &Network{
		Engine:      a.str("engine", "podman"),
		Quadlet:     a.optBool("quadlet"),
		NetworkName: a.str("network_name", b.Labels[0]),
		Driver:      a.str("driver", ""),
		IPAMDriver:  a.str("ipam_driver", ""),
		Subnet:      a.strList("subnet"),
		Gateway:     a.strList("gateway"),
		IPRange:     a.strList("ip_range"),
		DNS:         a.strList("dns"),
		Internal:    a.optBool("internal"),
		IPv6:        a.optBool("ipv6"),
		DisableDNS:  a.optBool("disable_dns"),
	}
	for _, name := range []string{"subnet", "gateway", "ip_range", "dns"} {
		a.elementRanges(name)
	}
	n.Label = a.plainMap("label")
	n.Options = a.plainMap("options")
	l.checkEngine(a, n.Engine, n.Quadlet)
	n.Block = *a.blk
	return n
}

// checkEngine: the engine is podman or docker, and quadlet needs podman.
func (l *loader) checkEngine(a *attrs, engine string, quadlet *bool) {
	if _, ok := a.attrs["engine"]; ok {
		a.oneOf("engine", engine, "podman", "docker")
	}
	if engine == "docker" && quadlet != nil && *quadlet {
		rng := a.blk.AttrRange("quadlet")
		l.errorf(&rng, "Quadlet needs podman", "quadlet = true works with engine = \"podman\" only.")
	}
}

// optInt is an optional whole number, 0 or more.
func (a *attrs) optInt(name string) *int64 {
	if _, ok := a.attrs[name]; !ok {
		return nil
	}
	n := a.integer(name, -1)
	if n < 0 {
		rng := a.blk.AttrRange(name)
		a.l.errorf(&rng, "Invalid number", "%s must be a whole number, 0 or more.", name)
		return nil
	}
	i := int64(n)
	return &i
}

// plainMap is a map of strings that may not come from a sensitive
// variable: it is written into a unit file.
func (a *attrs) plainMap(name string) map[string]string {
	v, ok := a.value(name, cty.Map(cty.String))
	if !ok {
		return nil
	}
	if v.ContainsMarked() {
		rng := a.blk.AttrRange(name)
		a.l.errorf(&rng, "Sensitive value in a unit file", "%s is written into a unit file, which anyone on the host can read; a sensitive value cannot go there.", name)
		return nil
	}
	a.elementRanges(name)
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		a.noControl(name, k)
		a.noControl(name, e.AsString())
		out[k] = e.AsString()
	}
	return out
}

// namedValue is what volume.NAME and network.NAME evaluate to in other
// blocks: the engine's name for it and the unit that creates it.
func namedValue(name, engineName, kind string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal(engineName),
		"unit": cty.StringVal(name + "-" + kind + ".service"),
	})
}

// decodeNamed decodes the volume and network blocks and makes volume.NAME
// and network.NAME available to the containers decoded after them.
func (l *loader) decodeNamed(byType map[string][]*hcl.Block, ctx *hcl.EvalContext) {
	volumes := map[string]cty.Value{}
	for _, b := range byType[KindVolume] {
		if v := l.decodeNamedVolume(b, ctx); v != nil {
			l.cfg.Volumes = append(l.cfg.Volumes, v)
			volumes[v.Name] = namedValue(v.Name, v.VolumeName, KindVolume)
		}
	}
	networks := map[string]cty.Value{}
	for _, b := range byType[KindNetwork] {
		if n := l.decodeNetwork(b, ctx); n != nil {
			l.cfg.Networks = append(l.cfg.Networks, n)
			networks[n.Name] = namedValue(n.Name, n.NetworkName, KindNetwork)
		}
	}
	ctx.Variables[KindVolume] = objectOrEmpty(volumes)
	ctx.Variables[KindNetwork] = objectOrEmpty(networks)
}
