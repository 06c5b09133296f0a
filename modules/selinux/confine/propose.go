package confine

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"seconf/config"
)

// Proposal is one change that would answer denials: preferably to the
// container's declaration (a volume made writable, a new volume, a
// published port, a network), else a rule for a module of one's own.
type Proposal struct {
	Kind string // "read_only", "volume", "publish", "network", "granted", "rule"
	// Volume is the declared volume concerned (read_only, granted), or -1.
	Volume int
	// Source, Target and ReadOnly describe a new volume.
	Source, Target string
	ReadOnly       bool
	Publish        string // a publish entry
	// Rule is an allow rule for a module: target and class, and the
	// permissions.
	RuleTarget, RuleClass string
	Perms                 []string
	// Danger says why granting this is dangerous, or "".
	Danger string
	// Note says what else may answer a rule (a relabel).
	Note string
	// Why lists the denials it answers, as a person reads them.
	Why []string
}

// writePerms are the file permissions that change something.
var writePerms = map[string]bool{"write": true, "append": true, "create": true, "unlink": true, "rename": true, "link": true,
	"setattr": true, "add_name": true, "remove_name": true, "rmdir": true, "reparent": true, "lock": false}

var fileClasses = map[string]bool{"file": true, "dir": true, "lnk_file": true, "chr_file": true, "blk_file": true, "sock_file": true, "fifo_file": true}

// dangerousPerms flag permissions that give a container power over the
// host, by class ("" for any class).
var dangerousPerms = map[string]map[string]string{
	"capability": {
		"sys_admin": "sys_admin is nearly root: mounts, namespaces, devices", "sys_module": "sys_module loads kernel modules",
		"sys_rawio": "sys_rawio reaches devices and memory directly", "sys_ptrace": "sys_ptrace reads and changes other processes",
		"dac_read_search": "dac_read_search reads any file whatever its mode", "net_admin": "net_admin reconfigures the network",
		"mac_admin": "mac_admin changes SELinux labels beyond the policy", "mac_override": "mac_override overrides SELinux",
		"sys_boot": "sys_boot reboots the host", "sys_time": "sys_time sets the host's clock", "linux_immutable": "linux_immutable clears immutable flags",
		"audit_control": "audit_control changes the audit rules", "setfcap": "setfcap gives programs file capabilities",
	},
	"capability2": {"mac_admin": "mac_admin changes SELinux labels beyond the policy", "mac_override": "mac_override overrides SELinux",
		"syslog": "syslog reads and clears the kernel log", "bpf": "bpf loads programs into the kernel", "perfmon": "perfmon observes every process"},
	"process": {"ptrace": "ptrace reads and changes other processes", "setcurrent": "setcurrent changes the process's own label",
		"dyntransition": "dyntransition changes the process's own label", "transition": "transition runs programs under another type"},
	"": {"relabelfrom": "relabelling takes files out of reach of their owners' policy", "relabelto": "relabelling makes files look like others",
		"mounton": "mounting over host files hides or replaces them", "entrypoint": "entrypoint lets this type be entered from those files",
		"execmod": "execmod runs modified code", "load_policy": "load_policy replaces the SELinux policy", "setenforce": "setenforce switches SELinux off",
		"setbool": "setbool changes policy booleans", "module_load": "module_load loads kernel modules", "module_request": "module_request asks for kernel modules"},
}

// Propose turns a container's denials into proposals: what to add to its
// declaration, and what only a module can grant. in is what the module
// was generated from (the container, its volumes' labels, the policy), so
// that a denial on a volume's own label is told apart from one on a path
// under it labelled otherwise. Only denials of typ are read; the result is
// sorted, so the same denials give the same proposals whatever their order.
func Propose(in Input, typ string, denials []Denial) []Proposal {
	c := in.Container
	byKey := map[string]*Proposal{}
	var keys []string
	add := func(key string, p Proposal, why string) {
		q := byKey[key]
		if q == nil {
			q = &p
			byKey[key] = q
			keys = append(keys, key)
		} else {
			q.Perms = union(q.Perms, p.Perms)
			q.ReadOnly = q.ReadOnly && p.ReadOnly
			if q.Danger == "" {
				q.Danger = p.Danger
			}
			if q.Note == "" {
				q.Note = p.Note
			}
		}
		if !contains(q.Why, why) {
			q.Why = append(q.Why, why)
		}
	}
	rule := func(d Denial, why, note string) {
		target := d.Target
		if d.TContext == d.SContext {
			target = "self"
		}
		add("rule "+target+" "+d.Class, Proposal{Kind: "rule", Volume: -1, RuleTarget: target, RuleClass: d.Class, Perms: d.Perms, Danger: danger(in.Policy, d), Note: note}, why)
	}
	for _, d := range denials {
		if d.Source != typ {
			continue
		}
		why := describe(d)
		switch {
		case fileClasses[d.Class]:
			writes := false
			for _, p := range d.Perms {
				writes = writes || writePerms[p]
			}
			if danger(in.Policy, d) != "" {
				rule(d, why, "")
				continue
			}
			if i := volumeWithLabel(in, d.Target); i >= 0 {
				if writes && c.Volumes[i].ReadOnly {
					add(fmt.Sprintf("read_only %d", i), Proposal{Kind: "read_only", Volume: i}, why)
				} else {
					add(fmt.Sprintf("granted %d", i), Proposal{Kind: "granted", Volume: i}, why)
				}
				continue
			}
			if d.Path == "" {
				rule(d, why, "")
				continue
			}
			dir := d.Path
			if d.Class != "dir" {
				dir = path.Dir(d.Path)
			}
			v := volumeUnder(c, dir)
			if v < 0 {
				rule(d, why, "") // the container's own tree: /proc, /sys, /dev
				continue
			}
			if dir == c.Volumes[v].Target {
				// Files at the top of a volume carry another label than
				// the volume's path: most likely they were never
				// relabelled.
				rule(d, why, fmt.Sprintf("files in the volume %s carry %s, not its own label: if they should not, restorecon -Rv %s answers this instead", c.Volumes[v].Source, d.Target, c.Volumes[v].Source))
				continue
			}
			src := path.Join(c.Volumes[v].Source, strings.TrimPrefix(dir, c.Volumes[v].Target))
			add("volume "+dir, Proposal{Kind: "volume", Volume: -1, Source: src, Target: dir, ReadOnly: !writes}, why)
		case (d.Class == "tcp_socket" || d.Class == "udp_socket" || d.Class == "sctp_socket") && d.Port > 0 && (contains(d.Perms, "name_bind") || contains(d.Perms, "name_connect")):
			if c.Network == "none" {
				add("network", Proposal{Kind: "network", Volume: -1}, why)
				continue
			}
			if contains(d.Perms, "name_bind") {
				proto := strings.TrimSuffix(d.Class, "_socket")
				spec := fmt.Sprintf("%d:%d", d.Port, d.Port)
				if proto != "tcp" {
					spec += "/" + proto
				}
				add("publish "+spec, Proposal{Kind: "publish", Volume: -1, Publish: spec}, why)
				continue
			}
			rule(d, why, "")
		default:
			rule(d, why, "")
		}
	}
	out := make([]Proposal, 0, len(keys))
	sort.Strings(keys)
	for _, k := range keys {
		p := byKey[k]
		sort.Strings(p.Why)
		out = append(out, *p)
	}
	return out
}

// describe is a denial as a person reads it.
func describe(d Denial) string {
	obj := d.Path
	if obj == "" && d.Name != "" {
		obj = d.Name
	}
	if obj == "" && d.Port > 0 {
		obj = fmt.Sprintf("port %d", d.Port)
	}
	s := fmt.Sprintf("{ %s } on %s:%s", strings.Join(d.Perms, " "), d.Target, d.Class)
	if obj != "" {
		s += " " + quote(obj)
	}
	if d.Comm != "" {
		s += " by " + quote(d.Comm)
	}
	return s
}

// danger says why a denied access is dangerous to grant, or "".
func danger(p Policy, d Denial) string {
	var reasons []string
	for _, perm := range d.Perms {
		if why, ok := dangerousPerms[d.Class][perm]; ok {
			reasons = append(reasons, why)
		} else if why, ok := dangerousPerms[""][perm]; ok {
			reasons = append(reasons, why)
		}
	}
	switch d.Class {
	case "security", "kernel_service":
		reasons = append(reasons, "the "+d.Class+" class controls the kernel's security state")
	}
	if fileClasses[d.Class] && p != nil {
		if why := Sensitive(p, d.Target); why != "" {
			reasons = append(reasons, d.Target+" is "+why)
		}
		writes := false
		for _, perm := range d.Perms {
			writes = writes || writePerms[perm]
		}
		if why := SystemWrite(p, d.Target); writes && why != "" {
			reasons = append(reasons, d.Target+" labels "+why)
		}
	}
	if d.Class == "process" && d.SContext != d.TContext {
		reasons = append(reasons, "it acts on another process ("+d.Target+")")
	}
	sort.Strings(reasons)
	return strings.Join(reasons, "; ")
}

// volumeWithLabel is the declared, not relabelled volume whose host path
// has label t, or -1.
func volumeWithLabel(in Input, t string) int {
	for i, v := range in.Container.Volumes {
		if v.Relabel != config.RelabelNone || v.Named != "" {
			continue
		}
		lt, _, ok := splitContext(in.Labels[v.Source].Context)
		if pt, found := in.Policy.PrimaryType(lt); found {
			lt = pt
		}
		if ok && lt == t {
			return i
		}
	}
	return -1
}

// volumeUnder is the volume whose target holds p (the deepest), or -1.
func volumeUnder(c *config.Container, p string) int {
	best := -1
	for i, v := range c.Volumes {
		if p == v.Target || strings.HasPrefix(p, strings.TrimSuffix(v.Target, "/")+"/") {
			if best < 0 || len(v.Target) > len(c.Volumes[best].Target) {
				best = i
			}
		}
	}
	return best
}

// heredoc keeps text literal inside an HCL heredoc, where ${ and %{ would
// start a template.
func heredoc(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(append([]string(nil), a...), b...) {
		set[s] = true
	}
	return sortedKeys(set)
}

// Report writes the proposals as a person acts on them: HCL to add to the
// container block, and a module of one's own for what the declaration
// cannot ask. rangeOf names a volume's place ("host.hcl:14") for messages.
func Report(c *config.Container, typ string, source string, denials []Denial, props []Proposal, where func(i int) string) string {
	var b strings.Builder
	n := 0
	for _, d := range denials {
		if d.Source == typ {
			n++
		}
	}
	fmt.Fprintf(&b, "container.%s runs as %s: %d denial(s) in %s.\n", c.Name, typ, n, source)
	if len(props) == 0 {
		b.WriteString("Nothing to propose.\n")
		return b.String()
	}
	var decl, rules, notes []Proposal
	for _, p := range props {
		switch p.Kind {
		case "rule":
			rules = append(rules, p)
		case "granted":
			notes = append(notes, p)
		default:
			decl = append(decl, p)
		}
	}
	if len(decl) > 0 {
		fmt.Fprintf(&b, "\nAdd to container %q:\n", c.Name)
		for _, p := range decl {
			b.WriteString("\n")
			for _, w := range p.Why {
				fmt.Fprintf(&b, "  # denied %s\n", w)
			}
			switch p.Kind {
			case "read_only":
				v := c.Volumes[p.Volume]
				fmt.Fprintf(&b, "  # the volume %s -> %s (%s) is read-only: make it writable\n", v.Source, v.Target, where(p.Volume))
				b.WriteString("  read_only = false\n")
			case "volume":
				fmt.Fprintf(&b, "  volume {\n    source    = %q\n    target    = %q\n    read_only = %t\n  }\n", p.Source, p.Target, p.ReadOnly)
			case "publish":
				fmt.Fprintf(&b, "  publish = [%q]   # with the entries it has\n", p.Publish)
			case "network":
				b.WriteString("  # network = \"none\" keeps it off the network: drop that line\n")
			}
		}
	}
	if len(rules) > 0 {
		fmt.Fprintf(&b, "\nOnly a module can allow these; seconf rewrites its generated module, so add a selinux_module of your own:\n\n")
		name := strings.TrimPrefix(strings.TrimSuffix(typ, "_t"), "seconf_") + "_extra"
		fmt.Fprintf(&b, "selinux_module %q {\n  format  = \"te\"\n  content = <<-EOT\n    policy_module(%s, 1.0)\n\n    gen_require(`\n", name, name)
		types := map[string]bool{typ: true}
		for _, r := range rules {
			if r.RuleTarget != "self" {
				types[r.RuleTarget] = true
			}
		}
		for _, t := range sortedKeys(types) {
			fmt.Fprintf(&b, "      type %s;\n", t)
		}
		b.WriteString("    ')\n")
		for _, r := range rules {
			b.WriteString("\n")
			for _, w := range r.Why {
				fmt.Fprintf(&b, "    # denied %s\n", heredoc(w))
			}
			if r.Note != "" {
				fmt.Fprintf(&b, "    # %s\n", heredoc(r.Note))
			}
			if r.Danger != "" {
				fmt.Fprintf(&b, "    # DANGEROUS: %s. Grant it only if the container cannot work otherwise.\n", r.Danger)
			}
			perms := strings.Join(r.Perms, " ")
			if len(r.Perms) > 1 {
				perms = "{ " + perms + " }"
			}
			fmt.Fprintf(&b, "    allow %s %s:%s %s;\n", typ, r.RuleTarget, r.RuleClass, perms)
		}
		b.WriteString("  EOT\n}\n")
	}
	if len(notes) > 0 {
		b.WriteString("\nAlready granted by the declaration (the module was not installed yet, or MCS denied it):\n")
		for _, p := range notes {
			v := c.Volumes[p.Volume]
			fmt.Fprintf(&b, "  volume %s -> %s (%s):\n", v.Source, v.Target, where(p.Volume))
			for _, w := range p.Why {
				fmt.Fprintf(&b, "    denied %s\n", w)
			}
		}
	}
	return b.String()
}
