package config

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Block kinds of the SELinux settings beside the modules.
const (
	KindBoolean  = "selinux_boolean"
	KindFContext = "selinux_fcontext"
	KindPort     = "selinux_port"
)

// Boolean is a `selinux_boolean "NAME"` block: the label is the boolean.
type Boolean struct {
	Block
	Value bool
}

// File types of a selinux_fcontext, as written in HCL, in the order
// semanage fcontext -f lists them.
var FileTypes = []string{"all", "file", "directory", "symlink", "socket", "pipe", "block", "char"}

// FContext is a `selinux_fcontext "ID"` block: a file-context rule (Type
// set) or an equivalence (Equal set).
type FContext struct {
	Block
	Path     string // a file-context regular expression; for an equivalence, a plain path
	Type     string
	FileType string // one of FileTypes; "all" for an equivalence
	Equal    string // label Path as Equal is labelled (semanage fcontext -e)
}

// Protocols a selinux_port takes.
var Protocols = []string{"tcp", "udp", "sctp", "dccp"}

// Port is a `selinux_port "ID"` block: a port or range and its type.
type Port struct {
	Block
	Protocol  string
	Low, High int
	Type      string
}

// Range is the port or range as semanage writes it: "5000" or "5000-5010".
func (p *Port) Range() string { return PortRange(p.Low, p.High) }

// PortRange writes a port range as semanage takes it.
func PortRange(low, high int) string {
	if low == high {
		return strconv.Itoa(low)
	}
	return fmt.Sprintf("%d-%d", low, high)
}

var (
	booleanSchema  = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "value"}, {Name: "depends_on"}}}
	fcontextSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "type"}, {Name: "file_type"}, {Name: "equal"}, {Name: "depends_on"},
	}}
	portSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "protocol"}, {Name: "port"}, {Name: "type"}, {Name: "depends_on"},
	}}
)

func (l *loader) decodeBoolean(b *hcl.Block, ctx *hcl.EvalContext) *Boolean {
	blk, a, _ := l.content(b, booleanSchema, ctx, KindBoolean)
	if blk == nil {
		return nil
	}
	a.require("value")
	v := &Boolean{Value: a.boolean("value", false)}
	v.Block = *a.blk
	if !selinuxName(v.Name) {
		l.errorf(&b.LabelRanges[0], "Invalid boolean name",
			"%q cannot be an SELinux boolean: boolean names hold letters, digits and '_' only.", v.Name)
	}
	return v
}

func (l *loader) decodeFContext(b *hcl.Block, ctx *hcl.EvalContext) *FContext {
	blk, a, _ := l.content(b, fcontextSchema, ctx, KindFContext)
	if blk == nil {
		return nil
	}
	a.require("path")
	f := &FContext{
		Path:     a.str("path", ""),
		Type:     a.str("type", ""),
		FileType: a.str("file_type", "all"),
		Equal:    a.str("equal", ""),
	}
	f.Block = *a.blk
	a.oneOf("file_type", f.FileType, FileTypes...)
	_, hasType := a.attrs["type"]
	_, hasEqual := a.attrs["equal"]
	_, hasFileType := a.attrs["file_type"]
	switch {
	case hasType && hasEqual:
		rng := f.AttrRange("equal")
		l.errorf(&rng, "Conflicting arguments", "An equivalence (equal) labels path as equal is labelled and takes no type; give either type or equal.")
	case !hasType && !hasEqual:
		l.errorf(&f.DeclRange, "Missing type", "A selinux_fcontext needs type = \"TYPE_t\" (the label for paths matching path), or equal = \"/PATH\" for an equivalence.")
	case hasEqual && hasFileType:
		rng := f.AttrRange("file_type")
		l.errorf(&rng, "Conflicting arguments", "An equivalence applies to every kind of file; drop file_type.")
	}
	if hasType && !selinuxName(f.Type) {
		rng := f.AttrRange("type")
		l.errorf(&rng, "Invalid SELinux type", "%q is not an SELinux type name (letters, digits and '_').", f.Type)
	}
	// semanage import splits its lines at white space and strips quotes,
	// so a path holding either could not reach libsemanage intact.
	for _, attr := range []string{"path", "equal"} {
		v := f.Path
		if attr == "equal" {
			v = f.Equal
		}
		if strings.ContainsAny(v, "\"'") {
			rng := f.AttrRange(attr)
			l.errorf(&rng, "Quote in path", "%s holds a quote character, which semanage cannot take; match it with '.' instead.", attr)
		}
	}
	if hasEqual {
		for _, attr := range []string{"path", "equal"} {
			v := f.Path
			if attr == "equal" {
				v = f.Equal
			}
			if v == "" {
				continue
			}
			if !path.IsAbs(v) || path.Clean(v) != v || strings.ContainsAny(v, " \t^$?*+|[](){}\\") {
				rng := f.AttrRange(attr)
				l.errorf(&rng, "Invalid path", "An equivalence joins two plain absolute paths (no regular expression, no trailing '/'); %q is not one.", v)
			}
		}
		if f.Path == f.Equal && f.Path != "" {
			rng := f.AttrRange("equal")
			l.errorf(&rng, "Equivalence to itself", "path and equal are both %q; an equivalence joins two different paths.", f.Path)
		}
	}
	return f
}

func (l *loader) decodePort(b *hcl.Block, ctx *hcl.EvalContext) *Port {
	blk, a, _ := l.content(b, portSchema, ctx, KindPort)
	if blk == nil {
		return nil
	}
	a.require("protocol")
	a.require("port")
	a.require("type")
	p := &Port{Protocol: a.str("protocol", ""), Type: a.str("type", "")}
	p.Block = *a.blk
	if _, ok := a.attrs["protocol"]; ok {
		a.oneOf("protocol", p.Protocol, Protocols...)
	}
	if _, ok := a.attrs["type"]; ok && !selinuxName(p.Type) {
		rng := p.AttrRange("type")
		l.errorf(&rng, "Invalid SELinux type", "%q is not an SELinux type name (letters, digits and '_').", p.Type)
	}
	if v, ok := a.value("port", cty.String); ok {
		v, _ = v.Unmark()
		rng := p.AttrRange("port")
		low, high, err := ParsePortRange(v.AsString())
		if err != nil {
			l.errorf(&rng, "Invalid port", "%v.", err)
		}
		p.Low, p.High = low, high
	}
	return p
}

// ParsePortRange reads "5000" or "5000-5010": ports 1 to 65535, the low
// end first.
func ParsePortRange(s string) (low, high int, err error) {
	lo, hi, isRange := strings.Cut(s, "-")
	parse := func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || strings.TrimSpace(v) != v || v == "" || v[0] == '+' {
			return 0, fmt.Errorf("%q is not a port or a range such as \"5000-5010\"", s)
		}
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("port %d is out of range: ports run from 1 to 65535", n)
		}
		return n, nil
	}
	if low, err = parse(lo); err != nil {
		return 0, 0, err
	}
	high = low
	if isRange {
		if high, err = parse(hi); err != nil {
			return 0, 0, err
		}
		if high < low {
			return 0, 0, fmt.Errorf("the range %q runs backwards: write the low port first", s)
		}
	}
	return low, high, nil
}

// selinuxName is an identifier as a policy names booleans and types.
func selinuxName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// settingObjects are what other blocks may refer to: selinux_fcontext.X.path
// and the like.
func settingObjects(cfg *Config) map[string]cty.Value {
	out := map[string]cty.Value{}
	booleans := map[string]cty.Value{}
	for _, b := range cfg.Booleans {
		booleans[b.Name] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.Name), "value": cty.BoolVal(b.Value)})
	}
	fcs := map[string]cty.Value{}
	for _, f := range cfg.FContexts {
		fcs[f.Name] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(f.Name), "path": cty.StringVal(f.Path),
			"type": cty.StringVal(f.Type), "equal": cty.StringVal(f.Equal)})
	}
	ports := map[string]cty.Value{}
	for _, p := range cfg.Ports {
		ports[p.Name] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(p.Name), "protocol": cty.StringVal(p.Protocol),
			"port": cty.StringVal(p.Range()), "type": cty.StringVal(p.Type)})
	}
	out[KindBoolean] = objectOrEmpty(booleans)
	out[KindFContext] = objectOrEmpty(fcs)
	out[KindPort] = objectOrEmpty(ports)
	return out
}

// decodeSettings decodes the settings blocks (after the modules, whose
// names they may use, and before mounts and containers, which may refer to
// them) and adds them to ctx.
func (l *loader) decodeSettings(byType map[string][]*hcl.Block, ctx *hcl.EvalContext) {
	// Settings may name each other (depends_on, selinux_port.x.name)
	// while they are decoded: their names are known first.
	for _, kind := range []string{KindBoolean, KindFContext, KindPort} {
		names := map[string]cty.Value{}
		for _, b := range byType[kind] {
			names[b.Labels[0]] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.Labels[0])})
		}
		ctx.Variables[kind] = objectOrEmpty(names)
	}
	for _, b := range byType[KindBoolean] {
		if v := l.decodeBoolean(b, ctx); v != nil {
			l.cfg.Booleans = append(l.cfg.Booleans, v)
		}
	}
	for _, b := range byType[KindFContext] {
		if v := l.decodeFContext(b, ctx); v != nil {
			l.cfg.FContexts = append(l.cfg.FContexts, v)
		}
	}
	for _, b := range byType[KindPort] {
		if v := l.decodePort(b, ctx); v != nil {
			l.cfg.Ports = append(l.cfg.Ports, v)
		}
	}
	l.checkSettingConflicts()
	for k, v := range settingObjects(l.cfg) {
		ctx.Variables[k] = v
	}
}

// checkSettingConflicts refuses two blocks that set the same thing: two
// values for one port range, two contexts for one path and file type (which
// libselinux refuses as "Multiple different specifications"), a context
// and an equivalence for one path.
func (l *loader) checkSettingConflicts() {
	type seen struct {
		id  string
		rng hcl.Range
	}
	fcs := map[string][]*FContext{}
	for _, f := range l.cfg.FContexts {
		for _, g := range fcs[f.Path] {
			if g.Equal != "" || f.Equal != "" || g.FileType == f.FileType || g.FileType == "all" || f.FileType == "all" {
				rng := f.AttrRange("path")
				what := fmt.Sprintf("file type %s", f.FileType)
				if g.FileType != f.FileType {
					what = fmt.Sprintf("file types %s and %s, which overlap", g.FileType, f.FileType)
				}
				if g.Equal != "" || f.Equal != "" {
					what = "an equivalence and another rule"
				}
				l.errorf(&rng, "Conflicting file contexts",
					"%s and %s (%s) both set the label of %q (%s). Keep one, or give them file types that do not overlap.",
					g.ID(), f.ID(), g.DeclRange, f.Path, what)
				break
			}
		}
		fcs[f.Path] = append(fcs[f.Path], f)
	}
	// libselinux rewrites a path under an equivalence's path before it
	// looks up a rule, so a rule there is never used; semanage refuses it.
	for _, e := range l.cfg.FContexts {
		if e.Equal == "" || e.Path == "" {
			continue
		}
		for _, f := range l.cfg.FContexts {
			if f.Equal == "" && strings.HasPrefix(f.Path, e.Path+"/") {
				rng := f.AttrRange("path")
				l.errorf(&rng, "File context under an equivalence",
					"%s makes paths under %s labelled as under %s, so the rule for %q would never apply. Write it for %q instead.",
					e.ID(), e.Path, e.Equal, f.Path, e.Equal+strings.TrimPrefix(f.Path, e.Path))
			}
		}
	}
	ports := map[string]seen{}
	for _, p := range l.cfg.Ports {
		if p.Protocol == "" || p.Low == 0 {
			continue
		}
		key := p.Protocol + "/" + p.Range()
		if s, dup := ports[key]; dup {
			rng := p.AttrRange("port")
			l.errorf(&rng, "Conflicting ports", "%s and %s (%s) both set the type of %s. Keep one.", s.id, p.ID(), s.rng, key)
			continue
		}
		ports[key] = seen{p.ID(), p.DeclRange}
	}
}
