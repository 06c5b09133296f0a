package config

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// sensitiveMark marks values that came from a sensitive variable.
const sensitiveMark = "sensitive"

// attrs decodes one block's attributes, recording ranges and references.
type attrs struct {
	l     *loader
	blk   *Block
	ctx   *hcl.EvalContext
	attrs hcl.Attributes
}

func (l *loader) content(b *hcl.Block, schema *hcl.BodySchema, ctx *hcl.EvalContext, kind string) (*Block, *attrs, *hcl.BodyContent) {
	content, d := b.Body.Content(schema)
	l.diags = append(l.diags, d...)
	if d.HasErrors() {
		return nil, nil, nil
	}
	blk := &Block{Kind: kind, Name: b.Labels[0], DeclRange: b.DefRange, Ranges: map[string]hcl.Range{}}
	a := &attrs{l: l, blk: blk, ctx: ctx, attrs: content.Attributes}
	if dep, ok := content.Attributes["depends_on"]; ok {
		a.dependsOn(dep)
	}
	return blk, a, content
}

// value evaluates attribute name; ok is false when it is absent or broken.
func (a *attrs) value(name string, want cty.Type) (cty.Value, bool) {
	attr, ok := a.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	a.blk.Ranges[name] = attr.Expr.Range()
	return a.eval(attr.Expr, want)
}

func (a *attrs) eval(expr hcl.Expression, want cty.Type) (cty.Value, bool) {
	if !a.refs(expr) {
		return cty.NilVal, false
	}
	v, d := expr.Value(a.ctx)
	a.l.diags = append(a.l.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, want)
	if err != nil {
		rng := expr.Range()
		a.l.errorf(&rng, "Incorrect attribute value type", "Expected %s: %v.", want.FriendlyName(), err)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() || v.IsNull() {
		rng := expr.Range()
		a.l.errorf(&rng, "Missing value", "This value is null or unknown; give a %s.", want.FriendlyName())
		return cty.NilVal, false
	}
	return v, true
}

// refs checks every reference in expr and records it as a dependency.
func (a *attrs) refs(expr hcl.Expression) bool {
	ok := true
	for _, t := range expr.Variables() {
		root := t.RootName()
		rng := t.SourceRange()
		switch root {
		case "var":
			if len(t) < 2 {
				a.l.errorf(&rng, "Invalid reference", "Write var.NAME to use a variable.")
				ok = false
				continue
			}
			name := stepName(t[1])
			if _, found := a.l.vars[name]; !found {
				a.l.errorf(&rng, "Reference to undeclared variable",
					"There is no variable %q. Declare it with a variable %q {} block.", name, name)
				ok = false
			}
		case KindModule, KindMount, KindContainer:
			if len(t) < 2 {
				a.l.errorf(&rng, "Invalid reference", "Write %s.NAME to refer to a %s block.", root, root)
				ok = false
				continue
			}
			name := stepName(t[1])
			if _, found := a.l.seen[root+"."+name]; !found {
				a.l.errorf(&rng, "Reference to undeclared resource",
					"There is no %s %q in this configuration. Declare it, or correct the name.", root, name)
				ok = false
				continue
			}
			a.blk.addDep(Ref{Kind: root, Name: name, Range: rng})
		default:
			a.l.errorf(&rng, "Unknown reference",
				"%q is not something a value can refer to. Use var.NAME, selinux_module.NAME, mount.NAME or container.NAME.", root)
			ok = false
		}
	}
	return ok
}

func stepName(s hcl.Traverser) string {
	switch t := s.(type) {
	case hcl.TraverseAttr:
		return t.Name
	case hcl.TraverseIndex:
		if t.Key.Type() == cty.String {
			return t.Key.AsString()
		}
	}
	return ""
}

func (b *Block) addDep(r Ref) {
	for _, d := range b.Deps {
		if d.Kind == r.Kind && d.Name == r.Name {
			return
		}
	}
	b.Deps = append(b.Deps, r)
}

func (a *attrs) dependsOn(attr *hcl.Attribute) {
	a.blk.Ranges["depends_on"] = attr.Expr.Range()
	exprs, d := hcl.ExprList(attr.Expr)
	a.l.diags = append(a.l.diags, d...)
	for _, e := range exprs {
		t, d := hcl.AbsTraversalForExpr(e)
		rng := e.Range()
		if d.HasErrors() || len(t) < 2 {
			a.l.errorf(&rng, "Invalid depends_on entry", "Each entry must be a reference such as selinux_module.NAME or mount.NAME.")
			continue
		}
		root := t.RootName()
		if root != KindModule && root != KindMount && root != KindContainer {
			a.l.errorf(&rng, "Invalid depends_on entry", "%q is not a resource kind; use selinux_module, mount or container.", root)
			continue
		}
		name := stepName(t[1])
		if _, ok := a.l.seen[root+"."+name]; !ok {
			a.l.errorf(&rng, "Reference to undeclared resource",
				"There is no %s %q in this configuration. Declare it, or correct the name.", root, name)
			continue
		}
		a.blk.addDep(Ref{Kind: root, Name: name, Range: rng})
	}
}

func (a *attrs) str(name, def string) string {
	v, ok := a.value(name, cty.String)
	if !ok {
		return def
	}
	v, _ = v.Unmark()
	s := v.AsString()
	a.noControl(name, s)
	return s
}

// noControl refuses control characters: a newline in a value would start a
// new line, hence a new directive, in a unit file.
func (a *attrs) noControl(name, s string) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			rng := a.blk.AttrRange(name)
			a.l.errorf(&rng, "Control character in value",
				"The value of %s holds the control character %q; remove it (newlines and control characters cannot reach a unit file or a command line).", name, r)
			return
		}
	}
}

func (a *attrs) boolean(name string, def bool) bool {
	v, ok := a.value(name, cty.Bool)
	if !ok {
		return def
	}
	v, _ = v.Unmark()
	return v.True()
}

func (a *attrs) optBool(name string) *bool {
	if _, ok := a.attrs[name]; !ok {
		return nil
	}
	b := a.boolean(name, false)
	return &b
}

func (a *attrs) integer(name string, def int) int {
	v, ok := a.value(name, cty.Number)
	if !ok {
		return def
	}
	v, _ = v.Unmark()
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		rng := a.blk.AttrRange(name)
		a.l.errorf(&rng, "Invalid number", "%s must be a whole number.", name)
		return def
	}
	i, _ := bf.Int64()
	return int(i)
}

func (a *attrs) strList(name string) []string {
	v, ok := a.value(name, cty.List(cty.String))
	if !ok {
		return nil
	}
	v, _ = v.UnmarkDeep()
	var out []string
	for _, e := range v.AsValueSlice() {
		a.noControl(name, e.AsString())
		out = append(out, e.AsString())
	}
	return out
}

// strMap returns the map and the keys whose values are sensitive.
func (a *attrs) strMap(name string) (map[string]string, map[string]bool) {
	v, ok := a.value(name, cty.Map(cty.String))
	if !ok {
		return nil, nil
	}
	out := map[string]string{}
	sens := map[string]bool{}
	v, _ = v.Unmark()
	for k, e := range v.AsValueMap() {
		e, marks := e.Unmark()
		if _, s := marks[sensitiveMark]; s {
			sens[k] = true
		}
		a.noControl(name, k)
		a.noControl(name, e.AsString())
		out[k] = e.AsString()
	}
	return out, sens
}

func (a *attrs) oneOf(name, val string, allowed ...string) {
	for _, s := range allowed {
		if val == s {
			return
		}
	}
	rng := a.blk.AttrRange(name)
	a.l.errorf(&rng, "Invalid value for "+name, "%q is not allowed here; use one of: %s.", val, strings.Join(allowed, ", "))
}

// hostPath checks that p is absolute and normalised, so that what seconf
// writes or mounts is exactly the path a person reads.
func (a *attrs) hostPath(name, p string, rng hcl.Range) {
	if p == "" {
		return
	}
	if !path.IsAbs(p) || path.Clean(p) != p {
		a.l.errorf(&rng, "Invalid path", "%s must be an absolute, normalised path (no '..', '//' or trailing '/'); %q is not. Write %q.", name, p, suggestPath(p))
	}
}

func suggestPath(p string) string {
	if !path.IsAbs(p) {
		p = "/" + p
	}
	return path.Clean(p)
}

func (a *attrs) require(name string) {
	if _, ok := a.attrs[name]; !ok {
		rng := a.blk.DeclRange
		a.l.errorf(&rng, "Missing required argument", "The %s block needs the argument %q.", a.blk.Kind, name)
	}
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

func (l *loader) decodeVariables(blocks []*hcl.Block) {
	l.vars = map[string]cty.Value{}
	env := map[string]string{}
	for _, kv := range l.opts.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SECONF_VAR_") {
			env[strings.TrimPrefix(k, "SECONF_VAR_")] = v
		}
	}
	for _, b := range blocks {
		content, d := b.Body.Content(variableSchema)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		v := &Variable{Name: b.Labels[0], DeclRange: b.DefRange}
		val := cty.NilVal
		if attr, ok := content.Attributes["default"]; ok {
			// A default may not refer to anything: it is a literal.
			dv, d := attr.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			val = dv
		}
		if attr, ok := content.Attributes["description"]; ok {
			dv, d := attr.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() && dv.Type() == cty.String {
				v.Description = dv.AsString()
			}
		}
		if attr, ok := content.Attributes["sensitive"]; ok {
			dv, d := attr.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() && dv.Type() == cty.Bool {
				v.Sensitive = dv.True()
			}
		}
		given, fromFlag := l.opts.Vars[v.Name]
		if !fromFlag {
			given, fromFlag = env[v.Name]
		}
		if fromFlag {
			val = fromString(given, val)
		}
		if val == cty.NilVal {
			l.errorf(&b.DefRange, "No value for required variable",
				"Variable %q has no default. Give it with -var %s=VALUE or the environment variable SECONF_VAR_%s.", v.Name, v.Name, v.Name)
			continue
		}
		if v.Sensitive {
			val = val.Mark(sensitiveMark)
		}
		l.vars[v.Name] = val
		l.cfg.Variables[v.Name] = v
	}
	var unknown []string
	for k := range l.opts.Vars {
		if _, ok := l.cfg.Variables[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value for undeclared variable",
			Detail:   fmt.Sprintf("-var %s was given, but the configuration declares no variable %q. Declare it, or drop the flag.", k, k),
		})
	}
}

// fromString converts a -var or environment string to the type of the
// default, as Terraform does for primitive types.
func fromString(s string, def cty.Value) cty.Value {
	v := cty.StringVal(s)
	if def == cty.NilVal || def.IsNull() || def.Type() == cty.String {
		return v
	}
	if c, err := convert.Convert(v, def.Type()); err == nil {
		return c
	}
	return v
}

var moduleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source"}, {Name: "content"}, {Name: "format"}, {Name: "priority"}, {Name: "enabled"}, {Name: "depends_on"},
}}

func (l *loader) decodeModule(b *hcl.Block, ctx *hcl.EvalContext) *Module {
	blk, a, _ := l.content(b, moduleSchema, ctx, KindModule)
	if blk == nil {
		return nil
	}
	before := len(l.diags)
	m := &Module{Block: *blk}
	src := a.str("source", "")
	m.Content = a.str("content", "")
	m.Format = a.str("format", "")
	m.Priority = a.integer("priority", 400)
	m.Enabled = a.boolean("enabled", true)
	m.Block = *a.blk
	_, hasSrc := a.attrs["source"]
	_, hasContent := a.attrs["content"]
	switch {
	case hasSrc && hasContent:
		rng := m.AttrRange("content")
		l.errorf(&rng, "Conflicting arguments", "Give either source or content, not both.")
	case !hasSrc && !hasContent:
		l.errorf(&m.DeclRange, "Missing policy source", "A selinux_module needs source = \"FILE.te|.cil|.pp\" or content = <<-EOT ... EOT with format = \"te\" or \"cil\".")
	case hasSrc:
		l.moduleSource(m, src)
	default:
		if m.Format != FormatTE && m.Format != FormatCIL {
			rng := m.AttrRange("format")
			l.errorf(&rng, "Missing or invalid format", "Inline content needs format = \"te\" or format = \"cil\".")
		}
	}
	if m.Priority < 1 || m.Priority > 999 {
		rng := m.AttrRange("priority")
		l.errorf(&rng, "Invalid priority", "semodule priorities run from 1 to 999; %d is outside.", m.Priority)
	}
	if len(l.diags) == before && m.Format == FormatTE {
		text := m.Content
		if m.Source != "" {
			data, _ := os.ReadFile(m.Source)
			text = string(data)
		}
		rng := m.AttrRange("source")
		if m.Source == "" {
			rng = m.AttrRange("content")
		}
		l.checkTEName(m.Name, text, rng)
	}
	if len(l.diags) == before && m.Format == FormatPP {
		l.checkPPName(m)
	}
	return m
}

func (l *loader) moduleSource(m *Module, src string) {
	rng := m.AttrRange("source")
	if src == "" {
		l.errorf(&rng, "Empty source", "source must name a .te, .cil or .pp file.")
		return
	}
	ext := strings.TrimPrefix(path.Ext(src), ".")
	if ext != FormatTE && ext != FormatCIL && ext != FormatPP {
		l.errorf(&rng, "Unknown policy format", "%q does not end in .te, .cil or .pp; seconf reads the format from the file name.", src)
		return
	}
	if m.Format != "" && m.Format != ext {
		frng := m.AttrRange("format")
		l.errorf(&frng, "Conflicting format", "format = %q, but the source file is a .%s file. Drop format, or correct it.", m.Format, ext)
		return
	}
	m.Format = ext
	p := src
	if !path.IsAbs(p) {
		// Relative sources stay inside the configuration's directory, so that
		// a configuration cannot reach for files it does not ship.
		// Paths are relative to the file that names them.
		p = path.Join(path.Dir(rng.Filename), src)
		if rel := path.Clean(src); rel == ".." || strings.HasPrefix(rel, "../") {
			l.errorf(&rng, "Source outside the configuration", "%q leaves the configuration's directory; keep policy sources beside the .hcl files, or give an absolute path.", src)
			return
		}
	}
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		l.errorf(&rng, "Missing source file", "%s does not exist or is not a file (paths are relative to the .hcl file that names them).", p)
		return
	}
	m.Source = p
}

var mountSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "what"}, {Name: "where"}, {Name: "type"}, {Name: "options"}, {Name: "selinux_context"},
	{Name: "enabled"}, {Name: "depends_on"},
}}

func (l *loader) decodeMount(b *hcl.Block, ctx *hcl.EvalContext) *Mount {
	blk, a, _ := l.content(b, mountSchema, ctx, KindMount)
	if blk == nil {
		return nil
	}
	a.require("what")
	a.require("where")
	m := &Mount{
		What:           a.str("what", ""),
		Where:          a.str("where", ""),
		Type:           a.str("type", ""),
		Options:        a.strList("options"),
		SELinuxContext: a.str("selinux_context", ""),
		Enabled:        a.boolean("enabled", true),
	}
	m.Block = *a.blk
	a.hostPath("where", m.Where, m.AttrRange("where"))
	if m.Where == "/" {
		rng := m.AttrRange("where")
		l.errorf(&rng, "Invalid mount point", "seconf does not mount over /; choose a directory.")
	}
	for _, o := range m.Options {
		if strings.HasPrefix(o, "context=") || strings.HasPrefix(o, "fscontext=") || strings.HasPrefix(o, "defcontext=") || strings.HasPrefix(o, "rootcontext=") {
			if m.SELinuxContext != "" {
				rng := m.AttrRange("options")
				l.errorf(&rng, "Conflicting SELinux context", "Set the context once, with selinux_context; drop %q from options.", o)
			}
		}
	}
	return m
}

// MountUnitName is the systemd unit name of a mount point: /srv/data → srv-data.mount.
func MountUnitName(where string) string {
	return unit.UnitNamePathEscape(where) + ".mount"
}

var containerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image"}, {Name: "engine"}, {Name: "command"}, {Name: "environment"},
		{Name: "selinux_type"}, {Name: "selinux_level"}, {Name: "publish"}, {Name: "network"},
		{Name: "user"}, {Name: "restart"}, {Name: "enabled"}, {Name: "depends_on"},
		{Name: "privileged"}, {Name: "allow_unconfined"}, {Name: "quadlet"},
	},
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
	}
	c.Environment, c.Sensitive = a.strMap("environment")
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
	for k := range c.Environment {
		if k == "" || strings.ContainsAny(k, "= \t") {
			rng := a.blk.AttrRange("environment")
			l.errorf(&rng, "Invalid environment name", "%q is not a valid environment variable name.", k)
		}
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
		va.hostPath("source", v.Source, va.blk.AttrRange("source"))
		va.hostPath("target", v.Target, va.blk.AttrRange("target"))
		for _, d := range va.blk.Deps {
			a.blk.addDep(d)
			if d.Kind == KindMount {
				v.Mount = d.Name
			}
		}
		for k, r := range va.blk.Ranges {
			a.blk.Ranges["volume."+k+fmt.Sprint(len(c.Volumes))] = r
		}
		c.Volumes = append(c.Volumes, v)
	}
	c.Block = *a.blk
	l.checkConfinement(c)
	return c
}
