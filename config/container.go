package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Volume is a container's `volume` block.
type Volume struct {
	Source, Target string
	ReadOnly       bool
	Relabel        string // none, shared (:z), private (:Z)
	// Mount is the mount block the source refers to (mount.NAME.where), if any.
	Mount string
	// Named is the volume block the source refers to (volume.NAME.name), if
	// any: the source is then that named volume, not a host path.
	Named string
	Range hcl.Range
}

// Relabel values.
const (
	RelabelNone    = "none"
	RelabelShared  = "shared"
	RelabelPrivate = "private"
)

// Container is a `container "NAME"` block.
type Container struct {
	Block
	Image           string
	Engine          string // podman or docker
	Command         []string
	Environment     map[string]string
	SELinuxType     string
	SELinuxLevel    string
	Volumes         []Volume
	Publish         []string
	Network         string
	User            string
	Restart         string
	Enabled         bool
	Privileged      bool
	AllowUnconfined bool
	// Quadlet chooses a quadlet .container file (true) or a plain podman run
	// .service (false) for engine podman; nil means decide from the host.
	Quadlet *bool
	// Sensitive names the environment keys whose values came from sensitive variables.
	Sensitive map[string]bool
	// Options are quadlet [Container] keys set through their attributes
	// (ContainerOptions), by attribute name.
	Options map[string]OptionValue
	// Service, Unit and Install are systemd settings for those sections of
	// the unit, sorted by key.
	Service, Unit, Install []SystemdSetting
}

var containerSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "image"}, {Name: "engine"}, {Name: "command"}, {Name: "environment"},
		{Name: "selinux_type"}, {Name: "selinux_level"}, {Name: "publish"}, {Name: "network"},
		{Name: "user"}, {Name: "restart"}, {Name: "enabled"}, {Name: "depends_on"},
		{Name: "privileged"}, {Name: "allow_unconfined"}, {Name: "quadlet"},
	}, containerOptionSchema()...),
	Blocks: []hcl.BlockHeaderSchema{{Type: "volume"}},
}

var volumeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source"}, {Name: "target"}, {Name: "read_only"}, {Name: "relabel"},
}}

func (l *loader) decodeContainer(b *hcl.Block, ctx *hcl.EvalContext) *Container {
	blk, a, content := l.content(b, containerSchema, ctx, KindContainer)
	if blk == nil {
		return nil
	}
	a.require("image")
	c := &Container{
		Image:           a.str("image", ""),
		Engine:          a.str("engine", "podman"),
		Command:         a.strList("command"),
		SELinuxType:     a.str("selinux_type", ""),
		SELinuxLevel:    a.str("selinux_level", ""),
		Publish:         a.strList("publish"),
		Network:         a.str("network", ""),
		User:            a.str("user", ""),
		Restart:         a.str("restart", "always"),
		Enabled:         a.boolean("enabled", true),
		Privileged:      a.boolean("privileged", false),
		AllowUnconfined: a.boolean("allow_unconfined", false),
		Quadlet:         a.optBool("quadlet"),
	}
	c.Environment, c.Sensitive = a.envMap("environment")
	if _, ok := a.attrs["engine"]; ok {
		a.oneOf("engine", c.Engine, "podman", "docker")
	}
	if _, ok := a.attrs["restart"]; ok {
		a.oneOf("restart", c.Restart, "always", "on-failure", "no")
	}
	if c.Engine == "docker" && c.Quadlet != nil && *c.Quadlet {
		rng := a.blk.AttrRange("quadlet")
		l.errorf(&rng, "Quadlet needs podman", "quadlet = true works with engine = \"podman\" only.")
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(volumeSchema)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		va := &attrs{l: l, blk: &Block{Kind: "volume", Ranges: map[string]hcl.Range{}, DeclRange: vb.DefRange}, ctx: ctx, attrs: vc.Attributes}
		va.require("source")
		va.require("target")
		v := Volume{
			Source:   va.str("source", ""),
			Target:   va.str("target", ""),
			ReadOnly: va.boolean("read_only", false),
			Relabel:  va.str("relabel", RelabelNone),
			Range:    vb.DefRange,
		}
		if _, ok := vc.Attributes["relabel"]; ok {
			va.oneOf("relabel", v.Relabel, RelabelNone, RelabelShared, RelabelPrivate)
		}
		for _, d := range va.blk.Deps {
			a.blk.addDep(d)
			switch d.Kind {
			case KindMount:
				v.Mount = d.Name
			case KindVolume:
				v.Named = d.Name
			}
		}
		if v.Named == "" {
			va.hostPath("source", v.Source, va.blk.AttrRange("source"))
		}
		va.hostPath("target", v.Target, va.blk.AttrRange("target"))
		for k, r := range va.blk.Ranges {
			a.blk.Ranges["volume."+k+fmt.Sprint(len(c.Volumes))] = r
		}
		c.Volumes = append(c.Volumes, v)
	}
	l.decodeContainerOptions(c, a)
	c.Block = *a.blk
	l.checkConfinement(c)
	l.checkOptionConfinement(c)
	return c
}

const confineAdvice = "Give the container its own SELinux type instead: a selinux_module that declares it (container_domain_template) and allows exactly what it needs, and selinux_type on the container. If you really mean it, set allow_unconfined = true."

// checkConfinement refuses the usual ways of switching SELinux off for a
// container, unless the block opts in explicitly.
func (l *loader) checkConfinement(c *Container) {
	if c.AllowUnconfined {
		return
	}
	refuse := func(attr, what string) {
		rng := c.AttrRange(attr)
		l.errorf(&rng, "Unconfined container refused", "container %q: %s. %s", c.Name, what, confineAdvice)
	}
	if c.Privileged {
		refuse("privileged", "privileged = true turns SELinux (and most other confinement) off for the container")
	}
	switch c.SELinuxType {
	case "spc_t", "unconfined_t", "container_runtime_t", "kernel_t", "initrc_t":
		refuse("selinux_type", fmt.Sprintf("selinux_type %q is an unconfined type", c.SELinuxType))
	}
	if strings.Contains(c.SELinuxLevel, "disable") {
		refuse("selinux_level", "a label that disables SELinux separation is refused")
	}
	for _, v := range c.Volumes {
		if d, sys := SystemPath(v.Source); sys && v.Relabel != RelabelNone {
			rng := v.Range
			flag := map[string]string{RelabelShared: ":z", RelabelPrivate: ":Z"}[v.Relabel]
			l.errorf(&rng, "Relabelling a system directory refused",
				"container %q: relabel = %q (%s) would relabel %s (system directory %s) for containers and break the host services that use it (logrotate, log scanners, ...). Use relabel = \"none\". %s",
				c.Name, v.Relabel, flag, v.Source, d, confineAdvice)
		}
	}
}
