package selinux

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
	"seconf/modules/selinux/confine"
	"seconf/modules/selinux/filecontexts"
	"seconf/modules/selinux/policydb"
)

// Generated is the module seconf writes for a container with confine = true.
type Generated struct {
	Container *config.Container
	// Module is installed, owned and pruned like the configuration's own
	// modules; its Content is the .te.
	Module *config.Module
}

// Confined generates the modules of the configuration's confined
// containers from the root's policy (the store's policy.kern) and file
// contexts, and the build machine's devel headers, which compile them.
// Errors keep the modules from being installed; warnings name the volumes
// a module does not grant, and why.
func Confined(h *host.Host, cfg *config.Config) ([]Generated, hcl.Diagnostics) {
	var cs []*config.Container
	for _, c := range cfg.Containers {
		if c.Confine {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, nil
	}
	first := cs[0].AttrRange("confine")
	r, err := readRoot(h, cfg)
	if err != nil {
		return nil, engine.FromError(&first, "Cannot confine containers", err)
	}
	return generate(h, cfg, cs, r)
}

// root is what a generated module is written from besides the declaration:
// the root's policy and file contexts as the apply leaves them, that is
// with the configuration's selinux_port and selinux_fcontext blocks,
// committed in the same apply as the module.
type root struct {
	flavor confine.Flavor
	pol    confine.Policy
	fc     *filecontexts.Set
}

func readRoot(h *host.Host, cfg *config.Config) (*root, error) {
	st := openStore(h.FS)
	// The root's files are data, perhaps hostile: read with bounds, and
	// parsed by readers written for untrusted input.
	read := func(name string) ([]byte, error) {
		real, err := h.FS.Path(name)
		if err != nil {
			return nil, err
		}
		return host.ReadUntrusted(real, maxPolicy)
	}
	data, err := read(policyPath(st))
	if err != nil {
		return nil, fmt.Errorf("read the store's policy: %w; confine = true needs the root's policy store", err)
	}
	r := &root{}
	pol, err := policydb.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("read the root's policy: %w", err)
	}
	r.pol = withPorts(pol, cfg.Ports)
	fcPath := filecontexts.PolicyFile(st.name)
	if r.fc, err = filecontexts.Open(filecontexts.WithLocal(read, fcPath, filecontexts.Rules(cfg.FContexts), mlsPolicy(pol)), fcPath); err != nil {
		return nil, fmt.Errorf("read the root's file contexts: %w", err)
	}
	headers, err := confine.ReadHeaders(host.DevelInclude)
	if err != nil {
		return nil, err
	}
	if r.flavor, err = confine.DetectFlavor(headers); err != nil {
		return nil, err
	}
	return r, nil
}

// plannedPorts is the root's policy with the configuration's selinux_port
// blocks: committed with the generated module, they decide the type of
// their ports by the time the container binds them (a port of the policy
// narrower than the block's range still wins, as in the kernel's order).
type plannedPorts struct {
	*policydb.Policy
	ports []*config.Port
}

func withPorts(pol *policydb.Policy, ports []*config.Port) confine.Policy {
	if len(ports) == 0 {
		return pol
	}
	return plannedPorts{Policy: pol, ports: ports}
}

func (p plannedPorts) PortType(proto string, port int) (string, bool) {
	var best *config.Port
	for _, b := range p.ports {
		if b.Protocol == proto && port >= b.Low && port <= b.High && (best == nil || b.High-b.Low < best.High-best.Low) {
			best = b
		}
	}
	if best == nil {
		return p.Policy.PortType(proto, port)
	}
	for _, pc := range p.Policy.PortCons() {
		if pc.Protocol == proto && port >= pc.Low && port <= pc.High {
			if pc.High-pc.Low < best.High-best.Low {
				return pc.Context.Type, true
			}
			break
		}
	}
	return best.Type, true
}

func (p plannedPorts) PortCons() []policydb.PortCon {
	out := make([]policydb.PortCon, 0, len(p.ports))
	for _, b := range p.ports {
		out = append(out, policydb.PortCon{Protocol: b.Protocol, Low: b.Low, High: b.High, Context: policydb.Context{User: "system_u", Role: "object_r", Type: b.Type}})
	}
	return append(out, p.Policy.PortCons()...)
}

// mlsPolicy says whether the policy's contexts carry a range, as the
// contexts semanage writes then do.
func mlsPolicy(pol *policydb.Policy) bool {
	pcs := pol.PortCons()
	return len(pcs) == 0 || pcs[0].Context.Range != ""
}

// ContainerInput is what the module of container c is (or would be)
// written from: for seconf policy avc, which reads denials against the
// container's volumes and their labels.
func ContainerInput(h *host.Host, cfg *config.Config, c *config.Container) (confine.Input, error) {
	r, err := readRoot(h, cfg)
	if err != nil {
		return confine.Input{}, err
	}
	return r.input(h, cfg, c, declaredNames(cfg.Modules)), nil
}

// maxLocateDirs bounds the directories LocateDenials reads under one
// volume: a log tree has hundreds, not tens of thousands.
const maxLocateDirs = 20000

// LocateDenials gives the denials of c's type that name their object by
// its last component and inode only (name= and ino=: all the kernel writes
// for an inode when auditd has no rules, hence no PATH records, as on a
// stock Debian) the object's path inside the container, when the object
// lies in a directory the container binds from the host: found there by
// name and inode, then seen through the deepest such volume. Without the
// path, seconf policy avc can only propose an allow rule where a volume of
// its own is the answer.
func LocateDenials(h *host.Host, c *config.Container, ds []confine.Denial) {
	binds := confine.Binds(c)
	sort.SliceStable(binds, func(i, j int) bool { return len(binds[i].Source) > len(binds[j].Source) })
	for i := range ds {
		d := &ds[i]
		if d.Source != c.SELinuxType || d.Path != "" || d.Name == "" || d.Ino == 0 {
			continue
		}
		for _, b := range binds {
			if b.Named || b.Target == "" || !path.IsAbs(b.Source) {
				continue
			}
			found, err := h.FS.FindInode(b.Source, d.Name, d.Ino, maxLocateDirs)
			if err != nil || found == "" {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(found, path.Clean(b.Source)), "/")
			d.Path = path.Join(b.Target, rel)
			break
		}
	}
}

func (r *root) input(h *host.Host, cfg *config.Config, c *config.Container, declared map[string]bool) confine.Input {
	in := confine.Input{Container: c, Flavor: r.flavor, Policy: r.pol, Declared: declared, Labels: map[string]confine.Label{}, Booleans: map[string]bool{}}
	for _, b := range cfg.Booleans {
		in.Booleans[b.Name] = b.Value
	}
	mounts := map[string]*config.Mount{}
	for _, v := range c.Volumes {
		for _, m := range cfg.Mounts {
			if m.Name == v.Mount {
				mounts[v.Source] = m
			}
		}
	}
	for _, b := range confine.Binds(c) {
		if !b.Named {
			in.Labels[b.Source] = volumeLabel(h.FS, r.fc, mounts[b.Source], b.Source)
		}
	}
	return in
}

func generate(h *host.Host, cfg *config.Config, cs []*config.Container, r *root) ([]Generated, hcl.Diagnostics) {
	declared := declaredNames(cfg.Modules)
	var out []Generated
	var diags hcl.Diagnostics
	for _, c := range cs {
		m := confine.Generate(r.input(h, cfg, c, declared))
		for _, fd := range m.Findings {
			rng := c.AttrRange("confine")
			if fd.Volume >= 0 {
				rng = c.Volumes[fd.Volume].Range
			} else if fd.Attr != "" {
				rng = c.AttrRange(fd.Attr)
			}
			if fd.Error {
				diags = append(diags, engine.Errorf(&rng, fd.Summary, "%s", fd.Detail))
			} else {
				diags = append(diags, engine.Warnf(&rng, fd.Summary, "%s", fd.Detail))
			}
		}
		out = append(out, Generated{Container: c, Module: &config.Module{
			Block:    config.Block{Kind: config.KindModule, Name: m.Name, DeclRange: c.AttrRange("confine"), Ranges: map[string]hcl.Range{}},
			Content:  string(m.Text),
			Format:   config.FormatTE,
			Priority: 400,
			Enabled:  true,
		}})
	}
	return out, diags
}

// volumeLabel is the label a volume's host path has on the root: the
// context= of the mount it is on, else what the root's file contexts give
// it (not what it happens to carry now: an image may not be labelled yet,
// and a relabel restores the file contexts' answer).
func volumeLabel(fs host.FS, fc *filecontexts.Set, mnt *config.Mount, src string) confine.Label {
	if mnt != nil && mnt.SELinuxContext != "" && mnt.Where == src {
		return confine.Label{Context: mnt.SELinuxContext, From: "mount." + mnt.Name + "'s selinux_context"}
	}
	ft := filecontexts.Any
	if fs.Exists(src) {
		ft = filecontexts.Regular
		if _, err := fs.ReadDir(src); err == nil {
			ft = filecontexts.Directory
		}
	}
	m := fc.Match(src, ft)
	if m.Spec == nil || m.Spec.None {
		return confine.Label{From: "the root's file contexts"}
	}
	// A path missing from the root is taken for what the deciding spec
	// says it is: a file if the spec is for files only.
	file := ft == filecontexts.Regular || ft == filecontexts.Any && m.Spec.Type == filecontexts.Regular
	return confine.Label{Context: m.Spec.Context.String(), File: file, From: "the root's file contexts"}
}

var (
	teDeclRe  = lazyre.New(`(?m)^\s*(?:type|attribute)\s+([A-Za-z0-9_]+)`)
	teAliasRe = lazyre.New(`(?m)\balias\s+(?:\{([^}]*)\}|([A-Za-z0-9_]+))`)
	cilDeclRe = lazyre.New(`\((?:type|typeattribute|typealias)\s+([^\s()]+)\s*\)`)
	nameRe    = lazyre.New(`[A-Za-z0-9_]+`)
)

// declaredNames lists the types and attributes the configuration's own
// modules declare, read from their sources: installed in the same
// transaction, they are there when a generated module needs them (Debian
// 12's container module is the case in point). A .pp is not read.
func declaredNames(mods []*config.Module) map[string]bool {
	out := map[string]bool{}
	for _, m := range mods {
		text := m.Content
		if m.Source != "" {
			data, err := os.ReadFile(m.Source)
			if err != nil {
				continue
			}
			text = string(data)
		}
		switch m.Format {
		case config.FormatTE:
			for _, s := range teDeclRe.FindAllStringSubmatch(text, -1) {
				out[s[1]] = true
			}
			for _, s := range teAliasRe.FindAllStringSubmatch(text, -1) {
				for _, n := range nameRe.Compiled().FindAllString(s[1]+" "+s[2], -1) {
					out[n] = true
				}
			}
		case config.FormatCIL:
			for _, s := range cilDeclRe.FindAllStringSubmatch(text, -1) {
				out[s[1]] = true
			}
		}
	}
	return out
}
