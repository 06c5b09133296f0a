package container

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
	"seconf/internal/unitfile"
	"seconf/modules/units"
)

// engineName is what podman and docker accept as a volume or network name.
var engineName = lazyre.New(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// named is what the renderings of a volume or a network share: the block,
// the engine's command that creates the thing, and how quadlet names it.
type named struct {
	blk     *config.Block
	kind    string // volume or network
	engine  string
	name    string // the engine's name
	quadlet *bool
	// section and lines: the quadlet file's [Volume] or [Network] section.
	section string
	lines   [][2]string
	// podman and docker are the create commands' arguments between
	// "create" and the name.
	podman, docker []string
	// dockerErr: what docker cannot do with this block, if anything.
	dockerErr error
}

// unit is the service that creates it: NAME-volume.service, the name
// quadlet gives the service it generates from NAME.volume.
func (n *named) unit() string { return n.blk.Name + "-" + n.kind + ".service" }

func (n *named) description() string {
	return unitfile.Specifiers(n.kind + " " + n.blk.Name + " (seconf)")
}

// renderQuadlet is the NAME.volume or NAME.network file.
func (n *named) renderQuadlet() []units.File {
	u := unitfile.New(units.HeaderFor(n.blk.ID()))
	u.Add("Unit", "Description", n.description())
	for _, l := range n.lines {
		u.Add(n.section, l[0], l[1])
	}
	return []units.File{{Path: path.Join(host.QuadletDir, n.blk.Name+"."+n.kind), Data: u.Bytes(), Mode: 0o644}}
}

// renderPodman is the service quadlet generates from the quadlet file, a
// oneshot podman volume (network) create, but for one thing: quadlet's
// --ignore (leave an existing one as it is) came with podman 4.4, and the
// hosts without quadlet run 4.3 (Debian 12), which refuses the flag. An
// ExecCondition skips the create when the volume (network) exists, as
// for docker: a skipped unit does not fail the containers that require it.
func (n *named) renderPodman() []units.File {
	u := unitfile.New(units.HeaderFor(n.blk.ID()))
	u.Add("Unit", "Description", n.description())
	u.Add("Unit", "Wants", "network-online.target")
	u.Add("Unit", "After", "network-online.target")
	u.Add("Unit", "RequiresMountsFor", "%t/containers")
	// The name is checked (engineName): nothing in it is special to sh.
	script := fmt.Sprintf("! %s %s exists %s", Podman, n.kind, n.name)
	u.Add("Service", "ExecCondition", unitfile.NewCmdline(Sh, "-c").Add(script).String())
	cmd := unitfile.NewCmdline(Podman, n.kind, "create").Add(n.podman...).Add(n.name)
	u.Add("Service", "ExecStart", cmd.String())
	u.Add("Service", "SyslogIdentifier", "%N")
	u.Add("Service", "Type", "oneshot")
	u.Add("Service", "RemainAfterExit", "yes")
	return []units.File{{Path: path.Join(host.UnitDir, n.unit()), Data: u.Bytes(), Mode: 0o644}}
}

// renderDocker is a oneshot docker volume (network) create. docker volume
// create returns an existing volume of the same name; docker network
// create fails on one, so the unit's ExecCondition skips it when the
// network exists (a skipped unit does not fail the containers that
// require it).
func (n *named) renderDocker() ([]units.File, error) {
	if n.dockerErr != nil {
		return nil, n.dockerErr
	}
	u := unitfile.New(units.HeaderFor(n.blk.ID()))
	u.Add("Unit", "Description", n.description())
	u.Add("Unit", "After", "docker.service")
	u.Add("Unit", "Requires", "docker.service")
	if n.kind == config.KindNetwork {
		// The name is checked (engineName): nothing in it is special to sh.
		script := fmt.Sprintf("! %s network inspect %s >/dev/null 2>&1", Docker, n.name)
		u.Add("Service", "ExecCondition", unitfile.NewCmdline(Sh, "-c").Add(script).String())
	}
	cmd := unitfile.NewCmdline(Docker, n.kind, "create").Add(n.docker...).Add(n.name)
	u.Add("Service", "ExecStart", cmd.String())
	u.Add("Service", "Type", "oneshot")
	u.Add("Service", "RemainAfterExit", "yes")
	return []units.File{{Path: path.Join(host.UnitDir, n.unit()), Data: u.Bytes(), Mode: 0o644}}, nil
}

// render renders the block for host h (nil: no host), as quadlet, plain
// podman or docker decide.
func (n *named) render(h *host.Host) (*units.Unit, error) {
	u := &units.Unit{ID: n.blk.ID(), Range: n.blk.DeclRange, Name: n.unit()}
	var err error
	switch {
	case n.engine == "docker":
		u.Files, err = n.renderDocker()
	case useQuadlet(n.quadlet, quadletOn(h)):
		u.Generated = true
		u.Files = n.renderQuadlet()
	default:
		u.Files = n.renderPodman()
	}
	return u, err
}

// check holds the common rules: a usable engine name, and every value
// free of what the create command line or the quadlet file cannot carry.
func (n *named) check(values [][2]string) error {
	attr := n.kind + "_name"
	if !engineName.MatchString(n.name) {
		return attrErr(attr, "%s name %q is not a name podman and docker accept: letters, digits, '_', '.' and '-', starting with a letter or digit", n.kind, n.name)
	}
	for _, v := range values {
		if err := checkToken(v[0], v[1]); err != nil {
			return &attrError{attr: v[0], err: err}
		}
	}
	return nil
}

// keyVals are a map's KEY=VALUE words, sorted by key, as quadlet passes
// Label= and Options= (and docker its --label, --opt).
func keyVals(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}

// checkKeyVals: labels and options may hold spaces (they are quoted) but
// their keys are plain, and nothing starts with '-'.
func checkKeyVals(attr string, m map[string]string) error {
	for k, v := range m {
		if k == "" || strings.ContainsAny(k, "= \t\"'\\") || strings.HasPrefix(k, "-") {
			return attrErr(attr+"."+k, "%s key %q cannot be written as KEY=VALUE", attr, k)
		}
		if err := checkText(attr, v); err != nil {
			return &attrError{attr: attr + "." + k, err: err}
		}
	}
	return nil
}

func flagPairs(flag string, values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, flag, v)
	}
	return out
}

// volumeNamed checks a volume block and lays out its renderings, in the
// order quadlet's ConvertVolume builds podman volume create.
func volumeNamed(v *config.NamedVolume) (*named, error) {
	n := &named{blk: &v.Block, kind: config.KindVolume, engine: v.Engine, name: v.VolumeName, quadlet: v.Quadlet, section: "Volume"}
	var vals [][2]string
	for _, kv := range [][2]string{{"driver", v.Driver}, {"device", v.Device}, {"type", v.Type}, {"options", v.Options}, {"image", v.Image}} {
		if kv[1] != "" {
			vals = append(vals, kv)
		}
	}
	if err := n.check(vals); err != nil {
		return nil, err
	}
	if err := checkKeyVals("label", v.Label); err != nil {
		return nil, err
	}
	switch {
	case v.Driver == "image" && v.Image == "":
		return nil, attrErr("driver", "driver = \"image\" needs image, the image the volume is made from")
	case v.Driver != "image" && v.Image != "":
		return nil, attrErr("image", "image is used by driver = \"image\" only")
	case v.Type != "" && v.Device == "":
		return nil, attrErr("type", "type is the file system type of device; set device too")
	case v.Options != "" && v.Device == "":
		return nil, attrErr("options", "options are mount options for device; set device too")
	case v.Driver == "image" && (v.Device != "" || v.User != nil || v.Group != nil || v.Copy != nil || v.Options != ""):
		return nil, attrErr("driver", "an image volume takes no device, type, options, user, group or copy")
	}
	add := func(key, val string) { n.lines = append(n.lines, [2]string{key, val}) }
	add("VolumeName", v.VolumeName)
	if v.Driver != "" {
		add("Driver", unitfile.Value(v.Driver))
		n.podman = append(n.podman, "--driver", v.Driver)
		n.docker = append(n.docker, "--driver", v.Driver)
	}
	if v.Driver == "image" {
		add("Image", unitfile.Value(v.Image))
		n.podman = append(n.podman, "--opt", "image="+v.Image)
		n.dockerErr = attrErr("driver", "docker has no image volume driver; use engine = \"podman\"")
	}
	if v.Copy != nil {
		add("Copy", fmt.Sprint(*v.Copy))
		n.podman = append(n.podman, "--opt", map[bool]string{true: "copy", false: "nocopy"}[*v.Copy])
		n.dockerErr = attrErr("copy", "docker's volume create has no copy option (docker copies an image's content into a new volume on first use, and nocopy is a per-container mount option)")
	}
	if v.Device != "" {
		add("Device", unitfile.Value(v.Device))
		n.podman = append(n.podman, "--opt", "device="+v.Device)
		n.docker = append(n.docker, "--opt", "device="+v.Device)
	}
	if v.Type != "" {
		add("Type", unitfile.Value(v.Type))
		n.podman = append(n.podman, "--opt", "type="+v.Type)
		n.docker = append(n.docker, "--opt", "type="+v.Type)
	}
	var o []string
	if v.User != nil {
		add("User", fmt.Sprint(*v.User))
		o = append(o, fmt.Sprintf("uid=%d", *v.User))
		n.dockerErr = attrErr("user", "docker's local volume driver cannot set a volume's owner; use engine = \"podman\"")
	}
	if v.Group != nil {
		add("Group", fmt.Sprint(*v.Group))
		o = append(o, fmt.Sprintf("gid=%d", *v.Group))
		n.dockerErr = attrErr("group", "docker's local volume driver cannot set a volume's group; use engine = \"podman\"")
	}
	if v.Options != "" {
		add("Options", unitfile.Value(v.Options))
		o = append(o, v.Options)
		n.docker = append(n.docker, "--opt", "o="+v.Options)
	}
	if len(o) > 0 {
		n.podman = append(n.podman, "--opt", "o="+strings.Join(o, ","))
	}
	for _, kv := range keyVals(v.Label) {
		add("Label", unitfile.Word(kv))
	}
	n.podman = append(n.podman, flagPairs("--label", keyVals(v.Label))...)
	n.docker = append(n.docker, flagPairs("--label", keyVals(v.Label))...)
	return n, nil
}

// networkNamed checks a network block and lays out its renderings, in the
// order quadlet's ConvertNetwork builds podman network create (its
// --disable-dns, --internal and --ipv6 come from a Go map, in random order).
func networkNamed(nw *config.Network) (*named, error) {
	n := &named{blk: &nw.Block, kind: config.KindNetwork, engine: nw.Engine, name: nw.NetworkName, quadlet: nw.Quadlet, section: "Network"}
	var vals [][2]string
	for _, kv := range [][2]string{{"driver", nw.Driver}, {"ipam_driver", nw.IPAMDriver}} {
		if kv[1] != "" {
			vals = append(vals, kv)
		}
	}
	for _, l := range []struct {
		attr string
		vs   []string
	}{{"subnet", nw.Subnet}, {"gateway", nw.Gateway}, {"ip_range", nw.IPRange}, {"dns", nw.DNS}} {
		for i, v := range l.vs {
			vals = append(vals, [2]string{fmt.Sprintf("%s[%d]", l.attr, i), v})
		}
	}
	if err := n.check(vals); err != nil {
		return nil, err
	}
	for _, m := range []struct {
		attr string
		m    map[string]string
	}{{"label", nw.Label}, {"options", nw.Options}} {
		if err := checkKeyVals(m.attr, m.m); err != nil {
			return nil, err
		}
	}
	switch {
	case len(nw.Gateway) > len(nw.Subnet):
		return nil, attrErr("gateway", "each gateway belongs to the subnet at the same place; give as many subnets")
	case len(nw.IPRange) > len(nw.Subnet):
		return nil, attrErr("ip_range", "each ip_range belongs to the subnet at the same place; give as many subnets")
	}
	add := func(key, val string) { n.lines = append(n.lines, [2]string{key, val}) }
	add("NetworkName", nw.NetworkName)
	for _, b := range []struct {
		key, flag string
		v         *bool
	}{{"DisableDNS", "--disable-dns", nw.DisableDNS}, {"Internal", "--internal", nw.Internal}, {"IPv6", "--ipv6", nw.IPv6}} {
		if b.v == nil {
			continue
		}
		add(b.key, fmt.Sprint(*b.v))
		f := b.flag
		if !*b.v {
			f += "=false"
		}
		n.podman = append(n.podman, f)
		if b.key == "DisableDNS" {
			n.dockerErr = attrErr("disable_dns", "docker's network create has no disable_dns")
		} else {
			n.docker = append(n.docker, f)
		}
	}
	for _, s := range []struct{ key, flag, v string }{{"Driver", "--driver", nw.Driver}, {"IPAMDriver", "--ipam-driver", nw.IPAMDriver}} {
		if s.v != "" {
			add(s.key, unitfile.Value(s.v))
			n.podman = append(n.podman, s.flag, s.v)
			n.docker = append(n.docker, s.flag, s.v)
		}
	}
	for _, d := range nw.DNS {
		add("DNS", unitfile.Value(d))
		n.podman = append(n.podman, "--dns", d)
		n.dockerErr = attrErr("dns", "docker's network create has no dns; set dns on each container")
	}
	for i, s := range nw.Subnet {
		add("Subnet", unitfile.Value(s))
		sub := []string{"--subnet", s}
		if i < len(nw.Gateway) {
			add("Gateway", unitfile.Value(nw.Gateway[i]))
			sub = append(sub, "--gateway", nw.Gateway[i])
		}
		if i < len(nw.IPRange) {
			add("IPRange", unitfile.Value(nw.IPRange[i]))
			sub = append(sub, "--ip-range", nw.IPRange[i])
		}
		n.podman = append(n.podman, sub...)
		n.docker = append(n.docker, sub...)
	}
	for _, kv := range keyVals(nw.Options) {
		add("Options", unitfile.Word(kv))
	}
	n.podman = append(n.podman, flagPairs("--opt", keyVals(nw.Options))...)
	n.docker = append(n.docker, flagPairs("--opt", keyVals(nw.Options))...)
	for _, kv := range keyVals(nw.Label) {
		add("Label", unitfile.Word(kv))
	}
	n.podman = append(n.podman, flagPairs("--label", keyVals(nw.Label))...)
	n.docker = append(n.docker, flagPairs("--label", keyVals(nw.Label))...)
	return n, nil
}

// RenderVolume renders a volume block for host h: a quadlet .volume file,
// a oneshot podman service, or a oneshot docker service.
func RenderVolume(v *config.NamedVolume, h *host.Host) (*units.Unit, error) {
	n, err := volumeNamed(v)
	if err != nil {
		return nil, err
	}
	return n.render(h)
}

// RenderNetwork renders a network block for host h.
func RenderNetwork(nw *config.Network, h *host.Host) (*units.Unit, error) {
	n, err := networkNamed(nw)
	if err != nil {
		return nil, err
	}
	return n.render(h)
}

// NamedSource turns volume and network blocks into units. A block's unit
// is not enabled or started by apply: the containers that use it require
// it, and systemd starts it before them.
type NamedSource struct {
	kind string // config.KindVolume or config.KindNetwork
}

// VolumeSource and NetworkSource are the two named sources.
var (
	VolumeSource  = NamedSource{kind: config.KindVolume}
	NetworkSource = NamedSource{kind: config.KindNetwork}
)

// Kind is the block kind this source renders.
func (s NamedSource) Kind() string { return s.kind }

// Validate renders every block as each rendering would, without a host.
func (s NamedSource) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range s.all(cfg) {
		ns, err := n()
		if err == nil {
			ns.renderQuadlet()
			ns.renderPodman()
			if ns.engine == "docker" {
				_, err = ns.renderDocker()
			}
		}
		if err != nil {
			diags = append(diags, namedDiag(ns, s.kind, err))
		}
	}
	return diags
}

// Units renders every block; h is read only to choose quadlet or a service.
func (s NamedSource) Units(_ context.Context, cfg *config.Config, h *host.Host) ([]*units.Unit, hcl.Diagnostics) {
	var out []*units.Unit
	var diags hcl.Diagnostics
	for _, n := range s.all(cfg) {
		ns, err := n()
		var u *units.Unit
		if err == nil {
			u, err = ns.render(h)
		}
		if err != nil {
			diags = append(diags, namedDiag(ns, s.kind, err))
			continue
		}
		out = append(out, u)
	}
	return out, diags
}

// all returns a constructor per block of the source's kind; on error the
// named it returns still carries the block, for the diagnostic.
func (s NamedSource) all(cfg *config.Config) []func() (*named, error) {
	var out []func() (*named, error)
	if s.kind == config.KindVolume {
		for _, v := range cfg.Volumes {
			out = append(out, func() (*named, error) {
				n, err := volumeNamed(v)
				if err != nil {
					return &named{blk: &v.Block}, err
				}
				return n, nil
			})
		}
		return out
	}
	for _, nw := range cfg.Networks {
		out = append(out, func() (*named, error) {
			n, err := networkNamed(nw)
			if err != nil {
				return &named{blk: &nw.Block}, err
			}
			return n, nil
		})
	}
	return out
}

func namedDiag(n *named, kind string, err error) *hcl.Diagnostic {
	rng := n.blk.DeclRange
	if ae, ok := err.(*attrError); ok {
		rng = n.blk.AttrRange(ae.attr)
	}
	return engine.Errorf(&rng, "Invalid "+kind, "%s %q: %v", kind, n.blk.Name, err)
}
