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

// Source turns container blocks into units. The zero Source renders on
// every call; NewSource's remembers its renders of one configuration, so
// that plan's are the ones validate made (engine.Plan validates first).
type Source struct{ memo *renderMemo }

// NewSource returns a Source that renders each container once a run.
func NewSource() Source { return Source{memo: &renderMemo{}} }

// renderMemo holds the renders of one configuration. It holds cfg too, so
// that no other configuration's container can be at the same address.
type renderMemo struct {
	cfg *config.Config
	m   map[renderKey]rendered
}

// renderKey is what a render depends on: the container, the rendering, and
// how each named volume and network is written (LinksFor gives the rest).
type renderKey struct {
	c       *config.Container
	kind    string
	quadlet string
}

type rendered struct {
	files []units.File
	err   error
}

var renderers = map[string]func(*config.Container, Links) ([]units.File, error){
	"podman": RenderPodmanService, "quadlet": RenderQuadlet, "docker": RenderDockerService,
}

func (s Source) render(cfg *config.Config, kind string, c *config.Container, l Links) ([]units.File, error) {
	if s.memo == nil {
		return renderers[kind](c, l)
	}
	if s.memo.cfg != cfg {
		s.memo.cfg, s.memo.m = cfg, map[renderKey]rendered{}
	}
	var q []byte
	for _, ls := range [][]NamedLink{l.Volumes, l.Networks} {
		for _, n := range ls {
			q = append(q, map[bool]byte{false: '0', true: '1'}[n.Quadlet])
		}
		q = append(q, '|')
	}
	k := renderKey{c: c, kind: kind, quadlet: string(q)}
	if r, ok := s.memo.m[k]; ok {
		return r.files, r.err
	}
	files, err := renderers[kind](c, l)
	s.memo.m[k] = rendered{files, err}
	return files, err
}

// Kind is the block kind this source renders.
func (Source) Kind() string { return config.KindContainer }

// Validate renders every container as each rendering would, without a
// host, so that `seconf validate` refuses what plan would.
func (s Source) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, c := range cfg.Containers {
		renders := []string{"docker"}
		if c.Engine != "docker" {
			renders = []string{"podman"}
			if c.Quadlet == nil || *c.Quadlet {
				renders = append(renders, "quadlet")
			}
		}
		links, _ := LinksFor(c, cfg)
		// Named volumes and networks as quadlet files (NAME.volume) and as
		// services: a quadlet container names them either way.
		variants := []Links{links}
		if len(links.Volumes)+len(links.Networks) > 0 {
			quadletLinks := links
			quadletLinks.Volumes = quadletAll(links.Volumes)
			quadletLinks.Networks = quadletAll(links.Networks)
			variants = append(variants, quadletLinks)
		}
	render:
		for _, r := range renders {
			for _, l := range variants {
				if _, err := s.render(cfg, r, c, l); err != nil {
					diags = append(diags, diagFor(c, err))
					break render
				}
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
func (s Source) Units(_ context.Context, cfg *config.Config, h *host.Host) ([]*units.Unit, hcl.Diagnostics) {
	var out []*units.Unit
	var diags hcl.Diagnostics
	q := quadletOn(h) // once: a few probes of the root, not a few a container
	old := olderPodmanOn(h, q)
	for _, c := range cfg.Containers {
		u, err := s.containerUnit(cfg, q, c)
		if err != nil {
			diags = append(diags, diagFor(c, err))
			continue
		}
		if h != nil {
			diags = append(diags, onHost(h, c)...)
		}
		if d := olderPodman(old, q, c); d.HasErrors() {
			diags = append(diags, d...)
			continue
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

// containerUnit renders c for a root that has quadlet's generator (q) or not.
func (s Source) containerUnit(cfg *config.Config, q bool, c *config.Container) (*units.Unit, error) {
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
		u.WantedBy = wantedBy(c)
	}
	for i := range links.Volumes {
		links.Volumes[i].Quadlet = namedQuadlet(cfg, q, config.KindVolume, links.Volumes[i].Block)
	}
	for i := range links.Networks {
		links.Networks[i].Quadlet = namedQuadlet(cfg, q, config.KindNetwork, links.Networks[i].Block)
	}
	var err error
	switch {
	case c.Engine == "docker":
		u.Files, err = s.render(cfg, "docker", c, links)
	case useQuadlet(c.Quadlet, q):
		u.Generated = true
		u.Files, err = s.render(cfg, "quadlet", c, links)
	default:
		u.Files, err = s.render(cfg, "podman", c, links)
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
	return useQuadlet(c.Quadlet, quadletOn(h))
}

// useQuadlet is the block's choice (forced) when it makes one, else the
// root's (q: quadletOn).
func useQuadlet(forced *bool, q bool) bool {
	if forced != nil {
		return *forced
	}
	return q
}

// quadletOn reports whether root h has podman's quadlet generator; a nil h
// has nothing installed.
func quadletOn(h *host.Host) bool {
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
		case config.KindModule, config.KindFile, config.KindDirectory:
			needs = append(needs, d.ID())
		case config.KindContainer:
			l.Units = append(l.Units, d.Name+".service")
		case config.KindMount:
			if m := findMount(cfg, d.Name); m != nil {
				l.MountsFor = append(l.MountsFor, m.Where)
			}
		case config.KindVolume:
			if v := findVolume(cfg, d.Name); v != nil {
				l.Volumes = append(l.Volumes, NamedLink{Block: v.Name, Name: v.VolumeName, Unit: v.Name + "-volume.service", Engine: v.Engine})
			}
		case config.KindNetwork:
			if n := findNetwork(cfg, d.Name); n != nil {
				l.Networks = append(l.Networks, NamedLink{Block: n.Name, Name: n.NetworkName, Unit: n.Name + "-network.service", Engine: n.Engine})
			}
		}
	}
	if c.SELinuxType != "" {
		needs = append(needs, config.TypeKey(c.SELinuxType))
	}
	l.Secrets = secretLinks(c, cfg)
	for _, sl := range l.Secrets {
		needs = append(needs, config.KindSecret+"."+sl.Block)
	}
	// The image: a container restarts with an image seconf pulled anew.
	needs = append(needs, config.ImageKey(c.Engine, c.Image))
	// A file or directory block at a host path the container mounts: it
	// restarts when one changes (a bind-mounted file keeps its old inode
	// until then). By path, so that a literal path counts as a reference.
	for _, v := range c.Volumes {
		if v.Named == "" {
			needs = append(needs, config.PathKey(v.Source))
		}
	}
	if ef, ok := c.Options["environment_file"]; ok {
		for _, p := range ef.List {
			needs = append(needs, config.PathKey(p))
		}
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

func findVolume(cfg *config.Config, name string) *config.NamedVolume {
	if cfg == nil {
		return nil
	}
	for _, v := range cfg.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func findNetwork(cfg *config.Config, name string) *config.Network {
	if cfg == nil {
		return nil
	}
	for _, n := range cfg.Networks {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func quadletAll(ls []NamedLink) []NamedLink {
	out := append([]NamedLink{}, ls...)
	for i := range out {
		out[i].Quadlet = out[i].Engine == "podman"
	}
	return out
}

// namedQuadlet reports whether a volume or network block is written as a
// quadlet file on host h, by the rule containers follow.
func namedQuadlet(cfg *config.Config, q bool, kind, name string) bool {
	var engine string
	var quadlet *bool
	if v := findVolume(cfg, name); kind == config.KindVolume && v != nil {
		engine, quadlet = v.Engine, v.Quadlet
	}
	if n := findNetwork(cfg, name); kind == config.KindNetwork && n != nil {
		engine, quadlet = n.Engine, n.Quadlet
	}
	return engine == "podman" && useQuadlet(quadlet, q)
}
