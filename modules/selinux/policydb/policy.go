package policydb

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Symbols is what the symbol tables at the head of a policy image say:
// types, aliases and attributes (but not which types have which
// attribute), booleans, permissive types, classes, roles, capabilities.
// ParseSymbols stops there, for the callers that need nothing else. It is
// read-only and safe for concurrent use.
type Symbols struct {
	hdr            Header
	caps           bitmap // policy capability numbers
	permissiveBits bitmap // type values (not value-1) of the permissive types
	neverAudit     bitmap // type values of the neveraudit types (version 35)
	permitted      []bool // by type value-1

	commons     []common // by value-1
	commonIndex map[string]uint32
	classes     []class
	classIndex  map[string]uint32
	roles       []role
	roleIndex   map[string]uint32
	types       []typeDatum
	typeIndex   map[string]uint32 // types, aliases and attributes
	users       []string
	bools       []boolean
	boolIndex   map[string]uint32
	sens        []string
	cats        []string
	pending     []level // levels read before the categories, checked after them
	valid       []bool  // by type value: named (see validTypes)
}

// Policy is a parsed kernel policy: its Symbols, which types have which
// attributes, the portcons and the allow rules. It is read-only and safe
// for concurrent use.
type Policy struct {
	Symbols

	rules     []avRule   // allow entries of the unconditional table
	condRules [][]avRule // allow entries of each conditional list
	conds     []condNode
	ports     []portcon

	typeAttrs lists // by type value-1: attribute values, not the type itself
	attrTypes lists // by attribute value-1: type values

	ruleOnce sync.Once
	bySource []int32 // see buildIndex
	sorted   []avRule
}

// lists holds a list of values per index in one array (list i is
// vals[off[i]:off[i+1]]): a policy has thousands of short lists.
type lists struct {
	off  []int32
	vals []uint32
}

func (l lists) at(i int) []uint32 { return l.vals[l.off[i]:l.off[i+1]] }

// invert returns, for n indexes, the list of i+1 for every list i that
// holds index+1.
func (l lists) invert(n int) lists {
	off := make([]int32, n+1)
	for _, v := range l.vals {
		off[v]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	pos := append([]int32(nil), off[:n]...)
	vals := make([]uint32, len(l.vals))
	for i := 0; i+1 < len(l.off); i++ {
		for _, v := range l.at(i) {
			vals[pos[v-1]] = uint32(i + 1)
			pos[v-1]++
		}
	}
	return lists{off: off, vals: vals}
}

type common struct {
	name  string
	perms []string // by value-1
}

type class struct {
	name   string
	common uint32   // common value, 0 for none
	perms  []string // by value-1; values below the common's count are the common's
}

type role struct {
	name  string
	types bitmap // type value-1
}

type typeDatum struct {
	name    string
	attr    bool
	bounds  uint32
	aliases []string
}

type boolean struct {
	name  string
	state bool
}

type portcon struct {
	proto     uint32
	low, high uint32
	ctx       secContext
}

// index builds the reverse map once the whole image is read.
func (p *Policy) index() { p.attrTypes = p.typeAttrs.invert(len(p.types)) }

// Header returns the policy's version and configuration.
func (p *Symbols) Header() Header { return p.hdr }

// lookupType resolves a type, alias or attribute name to its value.
func (p *Symbols) lookupType(name string) (uint32, *typeDatum) {
	v, ok := p.typeIndex[name]
	if !ok {
		return 0, nil
	}
	return v, &p.types[v-1]
}

// HasType reports whether name is a type or an alias of one (not an
// attribute).
func (p *Symbols) HasType(name string) bool {
	_, t := p.lookupType(name)
	return t != nil && !t.attr
}

// IsAttribute reports whether name is a type attribute.
func (p *Symbols) IsAttribute(name string) bool {
	_, t := p.lookupType(name)
	return t != nil && t.attr
}

// PrimaryType resolves an alias to its type; a type resolves to itself.
func (p *Symbols) PrimaryType(name string) (string, bool) {
	_, t := p.lookupType(name)
	if t == nil || t.attr {
		return "", false
	}
	return t.name, true
}

func (p *Symbols) typeNames(attr bool) []string {
	var out []string
	for _, t := range p.types {
		if t.name != "" && t.attr == attr {
			out = append(out, t.name)
		}
	}
	sort.Strings(out)
	return out
}

// Types lists the types, sorted, without aliases or attributes.
func (p *Symbols) Types() []string { return p.typeNames(false) }

// Attributes lists the type attributes, sorted.
func (p *Symbols) Attributes() []string { return p.typeNames(true) }

// Aliases lists the aliases of a type (or of the type an alias names).
func (p *Symbols) Aliases(name string) []string {
	_, t := p.lookupType(name)
	if t == nil {
		return nil
	}
	out := append([]string(nil), t.aliases...)
	sort.Strings(out)
	return out
}

func (p *Symbols) names(vals []uint32) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		out = append(out, p.types[v-1].name)
	}
	sort.Strings(out)
	return out
}

// TypeAttributes lists the attributes of a type or alias, sorted: the
// kernel policy's type-attribute map, so attributes of attributes are
// already flattened in. Nil for an attribute or an unknown name.
func (p *Policy) TypeAttributes(name string) []string {
	v, t := p.lookupType(name)
	if t == nil || t.attr {
		return nil
	}
	return p.names(p.typeAttrs.at(int(v) - 1))
}

// AttributeTypes lists the types of an attribute, sorted. Nil for a type
// or an unknown name.
func (p *Policy) AttributeTypes(attr string) []string {
	v, t := p.lookupType(attr)
	if t == nil || !t.attr {
		return nil
	}
	return p.names(p.attrTypes.at(int(v) - 1))
}

// IsPermissive reports whether a type (or alias) is permissive: the
// kernel logs its denials without enforcing them.
func (p *Symbols) IsPermissive(name string) bool {
	v, t := p.lookupType(name)
	return t != nil && p.permitted[v-1]
}

// PermissiveTypes lists the permissive types, sorted.
func (p *Symbols) PermissiveTypes() []string {
	var out []string
	p.permissiveBits.each(func(v uint32) { out = append(out, p.types[v-1].name) })
	sort.Strings(out)
	return out
}

// Booleans maps every boolean to its default value: the value the policy
// was built with, which semanage's persistent settings (semanage boolean
// -m, setsebool -P) write into the image. Runtime changes (setsebool
// without -P) live only in the kernel and are not in the file.
func (p *Symbols) Booleans() map[string]bool {
	out := make(map[string]bool, len(p.bools))
	for _, b := range p.bools {
		if b.name != "" {
			out[b.name] = b.state
		}
	}
	return out
}

// Boolean returns a boolean's default value and whether it exists.
func (p *Symbols) Boolean(name string) (value, ok bool) {
	v, ok := p.boolIndex[name]
	if !ok {
		return false, false
	}
	return p.bools[v-1].state, true
}

// Classes lists the object classes, sorted.
func (p *Symbols) Classes() []string {
	out := make([]string, 0, len(p.classIndex))
	for name := range p.classIndex {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Permissions lists a class's permissions, its common's included, sorted.
func (p *Symbols) Permissions(className string) []string {
	v, ok := p.classIndex[className]
	if !ok {
		return nil
	}
	var out []string
	for bit := 0; bit < 32; bit++ {
		if name := p.permName(v, bit); name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// permName names bit (value-1) of class value c: the class's own
// permission of that value, else its common's.
func (p *Symbols) permName(c uint32, bit int) string {
	cl := &p.classes[c-1]
	if bit < len(cl.perms) && cl.perms[bit] != "" {
		return cl.perms[bit]
	}
	if cl.common != 0 {
		if cp := p.commons[cl.common-1].perms; bit < len(cp) {
			return cp[bit]
		}
	}
	return ""
}

// Roles lists the roles, sorted (object_r included).
func (p *Symbols) Roles() []string {
	out := make([]string, 0, len(p.roleIndex))
	for name := range p.roleIndex {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// RoleTypes lists the types a role may hold, sorted.
func (p *Symbols) RoleTypes(roleName string) []string {
	v, ok := p.roleIndex[roleName]
	if !ok {
		return nil
	}
	out := []string{}
	p.roles[v-1].types.each(func(b uint32) { out = append(out, p.types[b].name) })
	sort.Strings(out)
	return out
}

// TypeRoles lists the roles that may hold a type (or alias), sorted.
func (p *Symbols) TypeRoles(name string) []string {
	v, t := p.lookupType(name)
	if t == nil || t.attr {
		return nil
	}
	var out []string
	for _, r := range p.roles {
		if r.types.has(v - 1) {
			out = append(out, r.name)
		}
	}
	sort.Strings(out)
	return out
}

// capNames are the policy capabilities by number (libsepol's polcaps.c).
var capNames = []string{
	"network_peer_controls", "open_perms", "extended_socket_class", "always_check_network",
	"cgroup_seclabel", "nnp_nosuid_transition", "genfs_seclabel_symlinks", "ioctl_skip_cloexec",
	"userspace_initial_context", "netlink_xperm", "netif_wildcard", "genfs_seclabel_wildcard",
	"functionfs_seclabel", "memfd_class", "bpf_token_perms",
}

// Capabilities lists the policy capabilities the policy enables, sorted;
// one this package does not know is named by its number.
func (p *Symbols) Capabilities() []string {
	var out []string
	p.caps.each(func(c uint32) {
		if int(c) < len(capNames) {
			out = append(out, capNames[c])
		} else {
			out = append(out, fmt.Sprintf("capability%d", c))
		}
	})
	sort.Strings(out)
	return out
}

// Context is a security context with its names resolved.
type Context struct {
	User, Role, Type string
	Range            string // MLS range ("s0", "s0-s0:c0.c1023"); empty in a non-MLS policy
}

// String formats the context as the kernel does: user:role:type[:range].
func (c Context) String() string {
	s := c.User + ":" + c.Role + ":" + c.Type
	if c.Range != "" {
		s += ":" + c.Range
	}
	return s
}

func (p *Symbols) context(c secContext) Context {
	out := Context{User: p.users[c.user-1], Role: p.roles[c.role-1].name, Type: p.types[c.typ-1].name}
	if p.hdr.MLS {
		out.Range = p.level(c.rng.low)
		if !levelEq(c.rng.low, c.rng.high) {
			out.Range += "-" + p.level(c.rng.high)
		}
	}
	return out
}

func levelEq(a, b level) bool {
	return a.sens == b.sens && a.cats.equal(b.cats)
}

// level formats an MLS level as the kernel does: a run of two or more
// consecutive categories as first.last.
func (p *Symbols) level(l level) string {
	var b strings.Builder
	b.WriteString(p.sens[l.sens-1])
	cats := l.cats.bits()
	for i := 0; i < len(cats); {
		j := i
		for j+1 < len(cats) && cats[j+1] == cats[j]+1 {
			j++
		}
		if i == 0 {
			b.WriteByte(':')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.cats[cats[i]])
		if j > i {
			b.WriteByte('.')
			b.WriteString(p.cats[cats[j]])
		}
		i = j + 1
	}
	return b.String()
}

// PortCon is a portcon statement: the context of a protocol's port range.
type PortCon struct {
	Protocol  string // "tcp", "udp", "dccp", "sctp", or "proto N" for another number
	Low, High int
	Context   Context
}

var protocols = map[uint32]string{6: "tcp", 17: "udp", 33: "dccp", 132: "sctp"}

func protoName(n uint32) string {
	if s, ok := protocols[n]; ok {
		return s
	}
	return fmt.Sprintf("proto %d", n)
}

// PortCons lists the portcon statements in the image's order, which is the
// order the kernel tries them in (the policy writer puts narrower ranges
// first).
func (p *Policy) PortCons() []PortCon {
	out := make([]PortCon, 0, len(p.ports))
	for _, pc := range p.ports {
		out = append(out, PortCon{Protocol: protoName(pc.proto), Low: int(pc.low), High: int(pc.high), Context: p.context(pc.ctx)})
	}
	return out
}

// PortType returns the type of the first portcon, in the kernel's order,
// whose range holds port for protocol ("tcp", "udp", "dccp", "sctp"). A
// port no portcon covers has the initial SID "port"'s context in the
// kernel; PortType then reports false.
func (p *Policy) PortType(proto string, port int) (string, bool) {
	for _, pc := range p.ports {
		if protoName(pc.proto) == proto && port >= int(pc.low) && port <= int(pc.high) {
			return p.types[pc.ctx.typ-1].name, true
		}
	}
	return "", false
}
