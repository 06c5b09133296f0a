package container

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/modules/units"
)

// Source turns container blocks into units.
type Source struct{}

// Kind is the block kind this source renders.
func (Source) Kind() string { return config.KindContainer }

// Validate renders every container as each rendering would, without a
// host, so that `seconf validate` refuses what plan would.
func (Source) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, c := range cfg.Containers {
		renders := []func(*config.Container, Links) ([]units.File, error){RenderDockerService}
		if c.Engine != "docker" {
			renders = []func(*config.Container, Links) ([]units.File, error){RenderPodmanService}
			if c.Quadlet == nil || *c.Quadlet {
				renders = append(renders, RenderQuadlet)
			}
		}
		links, _ := LinksFor(c, cfg)
		for _, r := range renders {
			if _, err := r(c, links); err != nil {
				diags = append(diags, diagFor(c, err))
				break
			}
		}
	}
	return diags
}

// Units renders every container block. h is read to choose between
// quadlet and a plain service, and to hold the block to what the host
// makes of it (a volume path that is a system directory behind a symlink,
// a docker daemon that labels nothing); a nil h is a host with nothing
// installed.
func (Source) Units(_ context.Context, cfg *config.Config, h *host.Host) ([]*units.Unit, hcl.Diagnostics) {
	var out []*units.Unit
	var diags hcl.Diagnostics
	for _, c := range cfg.Containers {
		u, err := containerUnit(cfg, h, c)
		if err != nil {
			diags = append(diags, diagFor(c, err))
			continue
		}
		if h != nil {
			diags = append(diags, onHost(h, c)...)
		}
		out = append(out, u)
	}
	return out, diags
}

// diagFor points a rendering error at the attribute it is about when the
// error says which, else at the block.
func diagFor(c *config.Container, err error) *hcl.Diagnostic {
	rng := c.DeclRange
	if ae, ok := err.(*attrError); ok {
		rng = c.AttrRange(ae.attr)
	}
	return engine.Errorf(&rng, "Invalid container", "container %q: %v", c.Name, err)
}

// attrError is a rendering error about one attribute.
type attrError struct {
	attr string
	err  error
}

func (e *attrError) Error() string { return e.err.Error() }

func attrErr(attr string, format string, args ...any) error {
	return &attrError{attr: attr, err: fmt.Errorf(format, args...)}
}

func containerUnit(cfg *config.Config, h *host.Host, c *config.Container) (*units.Unit, error) {
	links, needs := LinksFor(c, cfg)
	u := &units.Unit{
		ID:    c.ID(),
		Range: c.DeclRange,
		Name:  c.Name + ".service",
		// Enabled containers run at boot and are (re)started by apply; a
		// disabled one is written but left alone.
		Enable: c.Enabled,
		Start:  c.Enabled,
		Needs:  needs,
	}
	if c.Enabled {
		u.WantedBy = []string{"multi-user.target"}
	}
	var err error
	switch {
	case c.Engine == "docker":
		u.Files, err = RenderDockerService(c, links)
	case UseQuadlet(c, h):
		u.Generated = true
		u.Files, err = RenderQuadlet(c, links)
	default:
		u.Files, err = RenderPodmanService(c, links)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UseQuadlet decides how a podman container is rendered: the block's
// quadlet attribute when set, otherwise quadlet exactly when the root has
// podman's quadlet generator.
func UseQuadlet(c *config.Container, h *host.Host) bool {
	if c.Quadlet != nil {
		return *c.Quadlet
	}
	if h == nil {
		return false
	}
	for _, p := range host.QuadletGenerators {
		if h.FS.Exists(p) {
			return true
		}
	}
	return false
}

// LinksFor resolves a container's dependencies: containers become units to
// order after and require, mounts the paths that must be mounted. What the
// container needs to restart with (the modules it depends on, its SELinux
// type) is returned separately, for units.Unit.Needs.
func LinksFor(c *config.Container, cfg *config.Config) (Links, []string) {
	var l Links
	var needs []string
	for _, d := range c.Deps {
		switch d.Kind {
		case config.KindModule:
			needs = append(needs, d.ID())
		case config.KindContainer:
			l.Units = append(l.Units, d.Name+".service")
		case config.KindMount:
			if m := findMount(cfg, d.Name); m != nil {
				l.MountsFor = append(l.MountsFor, m.Where)
			}
		}
	}
	if c.SELinuxType != "" {
		needs = append(needs, config.TypeKey(c.SELinuxType))
	}
	return l, needs
}

func findMount(cfg *config.Config, name string) *config.Mount {
	if cfg == nil {
		return nil
	}
	for _, m := range cfg.Mounts {
		if m.Name == name {
			return m
		}
	}
	return nil
}
