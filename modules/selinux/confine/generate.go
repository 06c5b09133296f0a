package confine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"seconf/config"
	"seconf/modules/selinux/policydb"
)

// Input is one confined container and what its module is written from.
type Input struct {
	Container *config.Container
	Flavor    Flavor
	// Policy is the root's policy as it is now.
	Policy Policy
	// Declared names the types and attributes that modules of the same
	// configuration declare: they are in the policy by the time the
	// generated module is installed with them (one transaction).
	Declared map[string]bool
	// Labels holds the label of each host path the container binds (its
	// volumes' sources, its bind mounts' sources), by path.
	Labels map[string]Label
	// Booleans are the values the configuration's selinux_boolean blocks
	// set: committed with the module, they count as set.
	Booleans map[string]bool
}

// Label is the label of a volume's host path as the root would give it.
type Label struct {
	// Context is user:role:type[:range], or "" when nothing labels the path
	// (no file context, or <<none>>).
	Context string
	// File: the host path is a file, not a directory.
	File bool
	// From says where the label comes from, for messages ("the root's file
	// contexts", "mount.data's selinux_context").
	From string
}

// Module is a generated policy module.
type Module struct {
	Name, Type string
	Text       []byte
	// Findings are what a person must know: volumes the module does not
	// grant, and why; errors that keep it from being installed at all.
	Findings []Finding
}

// Finding is one problem with a confined container's declaration, placed
// on a volume (Volume >= 0) or an attribute of the container.
type Finding struct {
	Error           bool
	Volume          int    // index into the container's volumes, or -1
	Attr            string // the attribute, when Volume is -1
	Summary, Detail string
}

// Access levels a volume asks for.
const (
	none = iota
	read
	write
)

// grant is what the module allows on one label.
type grant struct {
	label     string
	dir, file int      // access to directories (and what is in them), to a file volume
	why       []string // the declarations that ask for it
}

// Generate writes the policy module that gives a confined container a type
// of its own, allowed what the container declares and nothing else: the
// container domain the engine starts (the flavor's template, a system
// container where the policy has the notion, its image as entry point), the
// network unless network = "none", binding the container ports it
// publishes, managing what is labelled as its read-write volumes' host
// paths are and reading what is labelled as its read-only ones are. The
// text depends only on the input, and not on the order of volumes and
// ports, so that the same declaration and policy give the same bytes.
func Generate(in Input) *Module {
	c := in.Container
	g := &gen{in: in, typ: config.ConfinedType(c.Name), name: config.ConfinedModule(c.Name), req: map[string]string{}}
	m := &Module{Name: g.name, Type: g.typ}
	network := c.Network != "none"

	for _, n := range in.Flavor.requires(network) {
		if !g.known(n) {
			g.finding(Finding{Error: true, Volume: -1, Attr: "confine", Summary: "No container policy",
				Detail: fmt.Sprintf("container %q: confine = true builds on the policy's container module (%s's %s), but the policy has no %s and no selinux_module of this configuration declares it. Install the container policy (Debian 12: refpolicy's container module, see examples/debian12-container-policy; Fedora: container-selinux) in the same configuration.",
					c.Name, in.Flavor.Name, in.Flavor.Template, n)})
			break
		}
	}
	g.domain()
	if network {
		g.network()
	}
	g.capabilities()
	g.ports(network)
	g.volumes()
	m.Findings = g.findings
	m.Text = g.text()
	return m
}

type gen struct {
	in        Input
	portcons  []policydb.PortCon // read once: building them costs
	portCache map[Port][]string  // by protocol and range
	typ, name string
	req       map[string]string // required name → "type" or "attribute"
	sections  []section
	findings  []Finding
}

// section is a group of rules and the comments that say which declaration
// asked for them.
type section struct {
	group string   // sections of one group are printed without blank lines between them
	why   []string // comment lines, each a declaration and what it asks
	rules []string
}

func (g *gen) finding(f Finding) { g.findings = append(g.findings, f) }

func (g *gen) known(n string) bool {
	p := g.in.Policy
	return g.in.Declared[n] || p.HasType(n) || p.IsAttribute(n)
}

func (g *gen) require(kind, name string) { g.req[name] = kind }

func (g *gen) add(group, why string, rules ...string) {
	g.sections = append(g.sections, section{group: group, why: []string{why}, rules: rules})
}

func (g *gen) domain() {
	f := g.in.Flavor
	prefix := strings.TrimSuffix(g.typ, "_t")
	call := fmt.Sprintf("%s(%s)", f.Template, prefix)
	if f.FileArg {
		call = fmt.Sprintf("%s(%s, %s)", f.Template, prefix, strings.TrimSuffix(f.FileType, "_file_t"))
	}
	// container-selinux's template names its file type without requiring
	// it: the caller must.
	g.require("type", f.FileType)
	g.add("domain", fmt.Sprintf("confine = true: %s is a container domain of its own (%s's %s): the container engines may start it, it manages its own %s content, and MCS keeps it apart from other containers.",
		g.typ, f.Name, f.Template, f.FileType), call)
	if f.SystemDomain != "" {
		g.require("attribute", f.SystemDomain)
		g.add("domain", fmt.Sprintf("confine = true: a system container, as %s is: the system engines start it and may watch it, and it may use their pipes.", f.Default),
			fmt.Sprintf("typeattribute %s %s;", g.typ, f.SystemDomain))
	}
	if !f.Entrypoint {
		g.require("type", f.FileType)
		g.add("domain", fmt.Sprintf("confine = true: the engine starts the image's entry point, labelled %s (this policy's template leaves that to %s).", f.FileType, f.Default),
			fmt.Sprintf("allow %s %s:file entrypoint;", g.typ, f.FileType))
	}
}

func (g *gen) network() {
	c := g.in.Container
	what := "the engine's default network"
	if c.Network != "" {
		what = fmt.Sprintf("network = %s", quote(c.Network))
	}
	f := g.in.Flavor
	g.require("attribute", f.NetDomain)
	g.add("network", fmt.Sprintf("%s: the network access %s has (%s).", what, f.Default, f.NetDomain),
		fmt.Sprintf("typeattribute %s %s;", g.typ, f.NetDomain))
}

func (g *gen) ports(network bool) {
	c := g.in.Container
	grants := map[[2]string]map[string]bool{} // {protocol, port type} → why
	for _, spec := range c.Publish {
		ports, err := ParsePublish(spec)
		if err != nil {
			g.finding(Finding{Error: true, Volume: -1, Attr: "publish", Summary: "Invalid publish entry", Detail: fmt.Sprintf("container %q: %v.", c.Name, err)})
			continue
		}
		if !network {
			g.finding(Finding{Error: true, Volume: -1, Attr: "publish", Summary: "Publish without a network",
				Detail: fmt.Sprintf("container %q publishes %s, but network = \"none\" gives it no network to listen on. Drop network = \"none\" or the publish entry.", c.Name, quote(spec))})
			continue
		}
		for _, p := range ports {
			for _, t := range g.portTypes(p) {
				k := [2]string{p.Proto, t}
				if grants[k] == nil {
					grants[k] = map[string]bool{}
				}
				grants[k][fmt.Sprintf("publish %s: the container listens on %s (%s).", quote(spec), p, t)] = true
			}
		}
	}
	// One section a protocol: the entries that ask, a name_bind a port
	// type, and binding on the node once.
	byProto := map[string][][2]string{}
	for k := range grants {
		byProto[k[0]] = append(byProto[k[0]], k)
	}
	for _, proto := range []string{"sctp", "tcp", "udp"} {
		keys := byProto[proto]
		if len(keys) == 0 {
			continue
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][1] < keys[j][1] })
		why := map[string]bool{}
		var rules []string
		for _, k := range keys {
			g.require("type", k[1])
			rules = append(rules, fmt.Sprintf("allow %s %s:%s_socket name_bind;", g.typ, k[1], proto))
			for w := range grants[k] {
				why[w] = true
			}
		}
		if g.known("node_t") {
			g.require("type", "node_t")
			rules = append(rules, fmt.Sprintf("allow %s node_t:%s_socket node_bind;", g.typ, proto))
		}
		g.sections = append(g.sections, section{group: "ports " + proto, why: sortedKeys(why), rules: rules})
	}
}

// engineCaps are the capabilities each engine gives a container unless told
// otherwise: podman's default_capabilities (containers.conf) and docker's
// defaults. SELinux checks them again against the container's type, so the
// type must allow what the engine grants, or the container would lose
// what its declaration keeps (a chown in its entry point).
var engineCaps = map[string][]string{
	"podman": {"chown", "dac_override", "fowner", "fsetid", "kill", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"},
	"docker": {"audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod", "net_bind_service", "net_raw", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"},
}

// Capabilities is the set a container runs with: its engine's defaults,
// less drop_capability (all drops every one), plus add_capability; lower
// case, as the policy names them.
func Capabilities(c *config.Container) (defaults, added []string) {
	set := map[string]bool{}
	for _, cp := range engineCaps[c.Engine] {
		set[cp] = true
	}
	for _, d := range c.Options["drop_capability"].List {
		n := strings.ToLower(config.NormalCap(d))
		if n == "all" {
			set = map[string]bool{}
		}
		delete(set, n)
	}
	defaults = sortedKeys(set)
	add := map[string]bool{}
	for _, a := range c.Options["add_capability"].List {
		if n := strings.ToLower(config.NormalCap(a)); !set[n] {
			add[n] = true
		}
	}
	return defaults, sortedKeys(add)
}

// capabilities lets the type use the capabilities the engine gives the
// container: the class that names each (capability, capability2).
func (g *gen) capabilities() {
	c := g.in.Container
	defaults, added := Capabilities(c)
	classes := []string{"capability", "capability2"}
	perms := map[string][]string{}
	why := map[string][]string{}
	place := func(caps []string, reason string) {
		for _, cp := range caps {
			found := false
			for _, cls := range classes {
				if contains(g.in.Policy.Permissions(cls), cp) {
					perms[cls] = append(perms[cls], cp)
					if !contains(why[cls], reason) {
						why[cls] = append(why[cls], reason)
					}
					found = true
					break
				}
			}
			if !found {
				g.finding(Finding{Volume: -1, Attr: "add_capability", Summary: "Capability not granted",
					Detail: fmt.Sprintf("container %q: %q is not a capability this policy knows (the capability classes have no such permission); the module does not grant it.", c.Name, cp)})
			}
		}
	}
	drop := ""
	if len(c.Options["drop_capability"].List) > 0 {
		drop = " less drop_capability"
	}
	place(defaults, fmt.Sprintf("the capabilities %s gives a container by default%s: SELinux checks them against the type too.", c.Engine, drop))
	place(added, "add_capability: capabilities the block adds.")
	for _, cls := range classes {
		if len(perms[cls]) == 0 {
			continue
		}
		sort.Strings(perms[cls])
		set := perms[cls][0]
		if len(perms[cls]) > 1 {
			set = "{ " + strings.Join(perms[cls], " ") + " }"
		}
		g.sections = append(g.sections, section{group: "capabilities", why: why[cls], rules: []string{fmt.Sprintf("allow %s self:%s %s;", g.typ, cls, set)}})
	}
}

// portTypes are the types of the ports in p's range, as the policy's
// portcons give them; a port no portcon names is port_t (the kernel's
// initial SID for ports). The first portcon that holds a port decides it,
// so the answer changes only where a portcon starts or ends: one lookup a
// stretch between such points, not one a port.
func (g *gen) portTypes(p Port) []string {
	key := Port{Proto: p.Proto, Low: p.Low, High: p.High}
	if out, ok := g.portCache[key]; ok {
		return out
	}
	if g.portCache == nil {
		g.portCache = map[Port][]string{}
		g.portcons = g.in.Policy.PortCons()
	}
	points := map[int]bool{p.Low: true}
	for _, pc := range g.portcons {
		if pc.Protocol != p.Proto || pc.High < p.Low || pc.Low > p.High {
			continue
		}
		if pc.Low >= p.Low {
			points[pc.Low] = true
		}
		if pc.High < p.High {
			points[pc.High+1] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for port := range points {
		t, ok := g.in.Policy.PortType(p.Proto, port)
		if !ok {
			t = "port_t"
		}
		if pt, ok := g.in.Policy.PrimaryType(t); ok {
			t = pt
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	g.portCache[key] = out
	return out
}

func (g *gen) volumes() {
	c := g.in.Container
	f := g.in.Flavor
	grants := map[string]*grant{}
	var relabelled []string
	for _, b := range Binds(c) {
		desc := b.Desc
		at := func(fd Finding) Finding { fd.Volume, fd.Attr = b.Volume, b.Attr; return fd }
		switch {
		case b.Named:
			relabelled = append(relabelled, fmt.Sprintf("%s: a named volume, which the engine labels %s and the container domain manages; no rule.", desc, f.FileType))
			continue
		case b.Relabel != config.RelabelNone:
			relabelled = append(relabelled, fmt.Sprintf("%s, relabel = %s: the engine labels it %s, which the container domain manages; no rule.", desc, quote(b.Relabel), f.FileType))
			continue
		}
		lb := g.in.Labels[b.Source]
		t, rng, ok := splitContext(lb.Context)
		if !ok {
			g.finding(at(Finding{Summary: "Volume not granted: no label",
				Detail: fmt.Sprintf("container %q: %s has no label in %s, so no rule can name what the container may do there; the container will be denied it. Give the path a label of its own (a selinux_fcontext or directory block with selinux_type, or semanage fcontext) and apply again.",
					c.Name, b.Source, orDefault(lb.From, "the root's file contexts"))}))
			continue
		}
		if pt, ok := g.in.Policy.PrimaryType(t); ok {
			t = pt
		} else if !g.in.Declared[t] {
			g.finding(at(Finding{Summary: "Volume not granted: unknown label",
				Detail: fmt.Sprintf("container %q: %s gives %s the type %s, which the policy does not have and no selinux_module of this configuration declares: no rule can name it. Install the module that declares %s, or label the path with a type the policy has.",
					c.Name, orDefault(lb.From, "the root's file contexts"), b.Source, t, t)}))
			continue
		}
		if t == f.FileType {
			relabelled = append(relabelled, fmt.Sprintf("%s: labelled %s, which the container domain manages; no rule.", desc, t))
			continue
		}
		if why := Sensitive(g.in.Policy, t); why != "" {
			g.finding(at(Finding{Summary: "Volume not granted: sensitive label",
				Detail: fmt.Sprintf("container %q: %s is labelled %s, %s; seconf grants no container access to it, and the container will be denied %s. Mount a subdirectory that has a label of its own instead (a directory block with selinux_type, or semanage fcontext), or, if you must, allow it in a selinux_module of your own.",
					c.Name, b.Source, t, why, b.Source)}))
			continue
		}
		if ok, why := reachable(c.SELinuxLevel, rng); !ok {
			g.finding(at(Finding{Summary: "Volume not granted: MCS level out of reach",
				Detail: fmt.Sprintf("container %q: %s is labelled %s and %s, so MCS denies the container %s whatever a rule allows. Give the container a selinux_level that dominates it, or mount a path labelled s0 without categories.",
					c.Name, b.Source, lb.Context, why, b.Source)}))
			continue
		}
		acc, what := write, "manage"
		if b.ReadOnly {
			acc, what = read, "read"
		} else if why := SystemWrite(g.in.Policy, t); why != "" {
			g.finding(at(Finding{Summary: "Volume granted read-only: system label",
				Detail: fmt.Sprintf("container %q: %s is labelled %s, which labels %s everywhere on the host, not only there; seconf grants the container reading it, and its writes there will be denied. Mount a directory that has a label of its own instead (a directory block with selinux_type, or semanage fcontext), or, if you must, allow it in a selinux_module of your own.",
					c.Name, b.Source, t, why)}))
			acc, what = read, "read"
		}
		gr := grants[t]
		if gr == nil {
			gr = &grant{label: t}
			grants[t] = gr
		}
		if lb.File {
			gr.file = max(gr.file, acc)
		} else {
			gr.dir = max(gr.dir, acc)
		}
		gr.why = append(gr.why, fmt.Sprintf("%s: %s what is labelled %s, the label %s give %s.", desc, what, t, orDefault(lb.From, "the root's file contexts"), quote(b.Source)))
		g.checkMount(b, t)
	}
	if len(relabelled) > 0 {
		sort.Strings(relabelled)
		g.sections = append(g.sections, section{group: "relabelled", why: relabelled})
	}
	labels := make([]string, 0, len(grants))
	for l := range grants {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	watch := contains(g.in.Policy.Permissions("file"), "watch")
	for _, l := range labels {
		gr := grants[l]
		sort.Strings(gr.why)
		g.require("type", l)
		g.sections = append(g.sections, section{group: "label " + l, why: gr.why, rules: g.fileRules(gr, watch)})
	}
}

// fileRules are the rules for one label: the refpolicy patterns (which
// Fedora has too) for a directory and what is in it, plain rules for a
// file mounted on its own; watch where the policy has it, because reading
// logs as they grow is done with inotify.
func (g *gen) fileRules(gr *grant, watch bool) []string {
	t, l := g.typ, gr.label
	var out []string
	switch gr.dir {
	case write:
		out = append(out,
			fmt.Sprintf("manage_dirs_pattern(%s, %s, %s)", t, l, l),
			fmt.Sprintf("manage_files_pattern(%s, %s, %s)", t, l, l),
			fmt.Sprintf("manage_lnk_files_pattern(%s, %s, %s)", t, l, l))
	case read:
		out = append(out,
			fmt.Sprintf("list_dirs_pattern(%s, %s, %s)", t, l, l),
			fmt.Sprintf("read_files_pattern(%s, %s, %s)", t, l, l),
			fmt.Sprintf("read_lnk_files_pattern(%s, %s, %s)", t, l, l))
	}
	if gr.file > gr.dir {
		perms := "read_file_perms"
		if gr.file == write {
			perms = "rw_file_perms"
		}
		out = append(out, fmt.Sprintf("allow %s %s:file %s;", t, l, perms))
	}
	if watch {
		classes := "file"
		if gr.dir != none {
			classes = "{ dir file }"
		}
		out = append(out, fmt.Sprintf("allow %s %s:%s watch;", t, l, classes))
	}
	return out
}

// checkMount warns when the engine's own type may not mount on the
// volume's label: the container would not start, whatever its module
// says. refpolicy leaves that to the boolean container_mounton_non_security,
// which the configuration may set (committed with the module).
func (g *gen) checkMount(b Bind, label string) {
	c := g.in.Container
	eng := engineType(g.in.Policy, c.Engine)
	if eng == "" {
		return
	}
	bools := map[string]bool{}
	for name, v := range g.in.Booleans {
		if _, ok := g.in.Policy.Boolean(name); ok {
			bools[name] = v
		}
	}
	perms, err := g.in.Policy.AllowedWith(eng, label, "dir", bools)
	if err != nil || contains(perms, "mounton") {
		return
	}
	hint := fmt.Sprintf("Allow %s mounton on %s:dir in a selinux_module of your own", eng, label)
	if on, ok := g.in.Policy.Boolean(mountonBoolean); ok && !on && !bools[mountonBoolean] {
		hint = fmt.Sprintf("Turn the boolean on: selinux_boolean %q { value = true }", mountonBoolean)
	}
	g.finding(Finding{Volume: b.Volume, Attr: b.Attr, Summary: "Engine may not mount the volume",
		Detail: fmt.Sprintf("container %q: %s, which runs as %s, may not mount on %s (labelled %s): the container will not start. %s.",
			c.Name, c.Engine, eng, b.Source, label, hint)})
}

// mountonBoolean lets container engines mount on any file that is not a
// security file (refpolicy and container-selinux).
const mountonBoolean = "container_mounton_non_security"

func (g *gen) text() []byte {
	c := g.in.Container
	var b strings.Builder
	comment(&b, "##", fmt.Sprintf("seconf: the SELinux type of container.%s, which sets confine = true. Generated from the container's declaration and the root's policy (%s); seconf rewrites it on every apply. To take it over, copy it into a selinux_module of your own and give the container selinux_type = %s instead of confine = true.",
		c.Name, g.in.Flavor.Name, quote(g.typ)))
	fmt.Fprintf(&b, "\npolicy_module(%s, 1.0)\n", g.name)
	if len(g.req) > 0 {
		names := make([]string, 0, len(g.req))
		for n := range g.req {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if g.req[names[i]] != g.req[names[j]] {
				return g.req[names[i]] < g.req[names[j]]
			}
			return names[i] < names[j]
		})
		b.WriteString("\ngen_require(`\n")
		for _, n := range names {
			fmt.Fprintf(&b, "\t%s %s;\n", g.req[n], n)
		}
		b.WriteString("')\n")
	}
	for i, s := range g.sections {
		if i == 0 || g.sections[i-1].group != s.group {
			b.WriteString("\n")
		}
		for _, w := range s.why {
			comment(&b, "#", w)
		}
		for _, r := range s.rules {
			b.WriteString(r + "\n")
		}
	}
	return []byte(b.String())
}

// comment writes text as comment lines of at most 80 columns.
func comment(b *strings.Builder, mark, text string) {
	line := mark
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 80 && line != mark {
			b.WriteString(line + "\n")
			line = mark
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// quote writes a value for a comment: Go's quoting, and no m4 quote
// characters, which the devel Makefile's m4 would act on.
func quote(s string) string {
	q := strconv.QuoteToASCII(s)
	return strings.NewReplacer("`", `\x60`, "'", `\x27`).Replace(q)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
