package container

import (
	"fmt"
	"path/filepath"
	"strings"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// vendorUnitDirs hold the units the distribution ships. A container named
// like one of them (ssh, docker, ...) would shadow it from /etc or from the
// generator directory, so that name is refused.
var vendorUnitDirs = []string{"/usr/lib/systemd/system", "/lib/systemd/system"}

// Source turns container blocks into units.
type Source struct {
	// BaseDir is the configuration's directory; headers name the .hcl file
	// relative to it, so that a file's bytes do not depend on where the
	// configuration was checked out. Empty means the file's base name.
	BaseDir string
}

// Kind is the block kind this source renders.
func (Source) Kind() string { return config.KindContainer }

// Units renders every container block. h is read only to choose between
// quadlet and a plain service and to refuse shadowing vendor units; a nil h
// is a host with nothing installed.
func (s Source) Units(cfg *config.Config, h *host.Host) ([]*engine.Unit, error) {
	var units []*engine.Unit
	for _, c := range cfg.Containers {
		u, err := s.unit(cfg, h, c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.ID(), err)
		}
		units = append(units, u)
	}
	return units, nil
}

func (s Source) unit(cfg *config.Config, h *host.Host, c *config.Container) (*engine.Unit, error) {
	name := c.Name + ".service"
	if h != nil {
		for _, d := range vendorUnitDirs {
			if p := filepath.Join(d, name); h.FS.Exists(p) {
				return nil, fmt.Errorf("the host already has %s (%s); a container of that name would replace it, so rename the container", name, p)
			}
		}
	}
	links, mods, err := LinksFor(c, cfg)
	if err != nil {
		return nil, err
	}
	origin := Origin(s.BaseDir, c.DeclRange.Filename)
	u := &engine.Unit{
		ID:    c.ID(),
		Range: c.DeclRange,
		Name:  name,
		// Enabled containers run at boot and are (re)started by apply; a
		// disabled one is written but left alone.
		Enable: c.Enabled,
		Start:  c.Enabled,
		Deps:   mods,
		// The module that declares this type restarts the unit when it changes.
		SELinuxType: c.SELinuxType,
	}
	if c.Enabled {
		u.WantedBy = []string{"multi-user.target"}
	}
	switch {
	case c.Engine == "docker":
		u.Files, err = RenderDockerService(c, links, origin)
	case UseQuadlet(c, h):
		u.Generated = true
		u.Files, err = RenderQuadlet(c, links, origin)
	default:
		u.Files, err = RenderPodmanService(c, links, origin)
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
// order after and require, mounts the paths that must be mounted, and
// selinux_module blocks the IDs whose change restarts the container
// (returned separately, for engine.Unit.Deps).
func LinksFor(c *config.Container, cfg *config.Config) (Links, []string, error) {
	var l Links
	var mods []string
	for _, d := range c.Deps {
		switch d.Kind {
		case config.KindModule:
			mods = append(mods, d.ID())
		case config.KindContainer:
			l.Units = append(l.Units, d.Name+".service")
		case config.KindMount:
			m := findMount(cfg, d.Name)
			if m == nil {
				return Links{}, nil, fmt.Errorf("depends on %s, which is not in the configuration", d.ID())
			}
			l.MountsFor = append(l.MountsFor, m.Where)
		}
	}
	return l, mods, nil
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

// Origin is how a header names the .hcl file: relative to base when the file
// lies below it, else its base name. Either way it does not change with the
// directory the configuration sits in.
func Origin(base, file string) string {
	if base != "" {
		if rel, err := filepath.Rel(base, file); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(file)
}
