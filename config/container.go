package config

import (
	"fmt"
	"strconv"
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
	// Confine asks seconf to generate the container's own SELinux type
	// (ConfinedType) in a module of its own (ConfinedModule); SELinuxType
	// is then that type, so that renderers and restarts need not know.
	Confine bool
}

var containerSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "image"}, {Name: "engine"}, {Name: "command"}, {Name: "environment"},
		{Name: "selinux_type"}, {Name: "selinux_level"}, {Name: "publish"}, {Name: "network"},
		{Name: "user"}, {Name: "restart"}, {Name: "enabled"}, {Name: "depends_on"},
		{Name: "privileged"}, {Name: "allow_unconfined"}, {Name: "quadlet"}, {Name: "confine"},
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
		Confine:         a.boolean("confine", false),
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
	if c.Confine {
		l.checkConfine(a, c)
	}
	l.checkConfinement(c)
	l.checkOptionConfinement(c)
	return c
}

// ConfinedModule is the name of the module seconf generates for a container
// with confine = true, and ConfinedType the type it declares: derived from
// the container's name alone, so that the same configuration names the same
// type on every host. '-' and '.', which container names allow and SELinux
// identifiers do not, become '_'.
func ConfinedModule(container string) string {
	return "seconf_" + strings.NewReplacer("-", "_", ".", "_").Replace(container)
}

// ConfinedType is the SELinux type of a container with confine = true.
func ConfinedType(container string) string { return ConfinedModule(container) + "_t" }

// checkConfine holds confine = true to what it can mean: the type is
// seconf's to name, and a privileged container runs without SELinux.
func (l *loader) checkConfine(a *attrs, c *Container) {
	rng := a.blk.AttrRange("confine")
	if _, ok := a.attrs["selinux_type"]; ok {
		l.errorf(&rng, "Conflicting SELinux type",
			"container %q: confine = true makes seconf generate the container's type (%s); selinux_type names one. Drop one of them: keep selinux_type to run under a type of your own module.",
			c.Name, ConfinedType(c.Name))
		return
	}
	if c.Privileged {
		l.errorf(&rng, "Confine and privileged",
			"container %q: privileged = true turns SELinux off for the container, so a type of its own would confine nothing. Drop privileged.", c.Name)
		return
	}
	// The generated type manages the engine's container_file_t content
	// and is entered from it: a label of another kind for that content,
	// or none at all, leaves it nothing to run.
	for _, attr := range []string{"security_label_disable", "security_label_file_type"} {
		if _, ok := a.attrs[attr]; ok {
			arng := c.AttrRange(attr)
			l.errorf(&arng, "Confine and "+attr,
				"container %q: confine = true writes a type for the engine's own labelling (container_file_t content, MCS categories); %s changes that labelling. Drop one of them.", c.Name, attr)
			return
		}
	}
	c.SELinuxType = ConfinedType(c.Name)
}

// checkConfinedNames refuses two confined containers whose names map to one
// generated module (web-1 and web.1), and a selinux_module of that name: one
// of them would silently replace the other's policy.
func (l *loader) checkConfinedNames() {
	taken := map[string]string{}
	for _, m := range l.cfg.Modules {
		taken[m.Name] = m.ID()
	}
	for _, c := range l.cfg.Containers {
		if !c.Confine {
			continue
		}
		name := ConfinedModule(c.Name)
		if other, ok := taken[name]; ok {
			rng := c.AttrRange("confine")
			l.errorf(&rng, "Generated module name taken",
				"container %q: confine = true generates the module %s (type %s), but %s already has that name. Rename one of them.",
				c.Name, name, ConfinedType(c.Name), other)
			continue
		}
		taken[name] = c.ID()
	}
}

// confineAdvice is what to do instead of what was refused: a type of the
// container's own, unless it has one already (confine = true), which no
// type makes safe.
func confineAdvice(c *Container) string {
	if c.Confine {
		return "confine = true does not make this safe: it reaches past any SELinux type, the generated one too. If you really mean it, set allow_unconfined = true."
	}
	return "Give the container its own SELinux type instead: confine = true (seconf generates a type allowed what the block declares), or a selinux_module that declares one (container_domain_template) and selinux_type on the container. If you really mean it, set allow_unconfined = true."
}

// checkConfinement refuses the usual ways of switching SELinux off for a
// container, unless the block opts in explicitly.
func (l *loader) checkConfinement(c *Container) {
	if c.AllowUnconfined {
		return
	}
	refuse := func(attr, what string) {
		rng := c.AttrRange(attr)
		l.errorf(&rng, "Unconfined container refused", "container %q: %s. %s", c.Name, what, confineAdvice(c))
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
	} else if allCategories(c.SELinuxLevel) {
		refuse("selinux_level", fmt.Sprintf("selinux_level %q holds every category, so the container dominates every other container's level and MCS no longer keeps it from their files", c.SELinuxLevel))
	}
	for _, v := range c.Volumes {
		if d, sys := SystemPath(v.Source); sys && v.Relabel != RelabelNone {
			rng := v.Range
			flag := map[string]string{RelabelShared: ":z", RelabelPrivate: ":Z"}[v.Relabel]
			l.errorf(&rng, "Relabelling a system directory refused",
				"container %q: relabel = %q (%s) would relabel %s (system directory %s) for containers and break the host services that use it (logrotate, log scanners, ...). Use relabel = \"none\". %s",
				c.Name, v.Relabel, flag, v.Source, d, confineAdvice(c))
		}
	}
}

// allCategories reports whether an MCS level (or the high level of a
// range, s0-s0:c0.c1023) holds all 1024 categories, as an unconfined
// process's does. A level that does not parse is left to the engine.
func allCategories(level string) bool {
	if _, h, ok := strings.Cut(level, "-"); ok {
		level = h
	}
	_, cats, ok := strings.Cut(level, ":")
	if !ok {
		return false
	}
	var seen [1024]bool
	n := 0
	for _, part := range strings.Split(cats, ",") {
		lo, hi, isRange := strings.Cut(part, ".")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(strings.TrimPrefix(lo, "c"))
		b, err2 := strconv.Atoi(strings.TrimPrefix(hi, "c"))
		if err1 != nil || err2 != nil || !strings.HasPrefix(lo, "c") || !strings.HasPrefix(hi, "c") || a < 0 || b > 1023 || b < a {
			return false
		}
		for i := a; i <= b; i++ {
			if !seen[i] {
				seen[i] = true
				n++
			}
		}
	}
	return n == len(seen)
}
