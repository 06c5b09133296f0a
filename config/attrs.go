package config

import (
	"path"
	"strings"

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
		case KindModule, KindMount, KindContainer, KindVolume, KindNetwork, KindFile, KindDirectory, KindSecret:
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
				"%q is not something a value can refer to. Use var.NAME, selinux_module.NAME, mount.NAME, container.NAME, volume.NAME, network.NAME, file.NAME, directory.NAME or secret.NAME.", root)
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
		switch root {
		case KindModule, KindMount, KindContainer, KindVolume, KindNetwork, KindFile, KindDirectory, KindSecret:
		default:
			a.l.errorf(&rng, "Invalid depends_on entry", "%q is not a resource kind; use selinux_module, mount, container, volume, network, file, directory or secret.", root)
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
