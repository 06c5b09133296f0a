package config

import (
	"fmt"
	"math"
	"math/big"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"

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
	// failed names the attributes already reported, which later checks of
	// their (default) value must not report again.
	failed map[string]bool
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

// value evaluates attribute name; ok is false when it is absent, broken or
// refused. A value that comes from a sensitive variable is refused: only
// environment values (envMap) may be secret.
func (a *attrs) value(name string, want cty.Type) (cty.Value, bool) {
	attr, ok := a.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	a.blk.Ranges[name] = attr.Expr.Range()
	v, ok := a.valueOf(name, attr, want)
	if !ok {
		a.fail(name)
	}
	return v, ok
}

func (a *attrs) fail(name string) {
	if a.failed == nil {
		a.failed = map[string]bool{}
	}
	a.failed[name] = true
}

func (a *attrs) valueOf(name string, attr *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	v, secrets, ok := a.eval(attr.Expr)
	if !ok {
		return cty.NilVal, false
	}
	if len(secrets) > 0 || v.ContainsMarked() {
		a.refuseSecret(name, attr.Expr.Range(), secrets)
		return cty.NilVal, false
	}
	v, err := convertTo(v, want)
	if err != nil {
		rng := attr.Expr.Range()
		a.l.errorf(&rng, "Incorrect attribute value type", "%s must be %s: %v.", name, friendly(want), err)
		return cty.NilVal, false
	}
	return v, true
}

// refuseSecret says why a sensitive value cannot be used here, naming the
// variable and never its value.
func (a *attrs) refuseSecret(name string, rng hcl.Range, secrets []string) {
	from, example := "a sensitive variable", "var.NAME"
	if len(secrets) > 0 {
		from = "the sensitive variable var." + strings.Join(secrets, ", var.")
		example = "var." + secrets[0]
	}
	a.l.errorf(&rng, "Sensitive value not allowed here",
		"The value of %s comes from %s. seconf would write it into unit files, plans, diffs and logs, which anyone on the host can read. A sensitive value may only be a container's environment value, environment = { NAME = %s }, which seconf writes to a file only root can read (mode 0600), a secret block's value or a file block's content.",
		name, from, example)
}

// eval evaluates expr after checking its references. secrets names the
// sensitive variables it uses: HCL's own messages about such an expression
// may quote values computed from them (a duplicate key of a for
// expression, an attribute missing from one side of a conditional), so
// their details are withheld.
func (a *attrs) eval(expr hcl.Expression) (v cty.Value, secrets []string, ok bool) {
	if !a.refs(expr) {
		return cty.NilVal, nil, false
	}
	secrets = a.secretRefs(expr)
	v, d := expr.Value(a.ctx)
	if len(secrets) > 0 {
		d = withhold(d, secrets)
	}
	a.l.diags = append(a.l.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, nil, false
	}
	if !v.IsWhollyKnown() || v.IsNull() {
		rng := expr.Range()
		a.l.errorf(&rng, "Missing value", "This value is null or unknown; give a value.")
		return cty.NilVal, nil, false
	}
	return v, secrets, true
}

// withhold replaces the details of diagnostics about an expression that
// uses sensitive variables; the summary stays (HCL's are fixed texts).
func withhold(diags hcl.Diagnostics, secrets []string) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Detail = fmt.Sprintf("The details are withheld: the expression uses the sensitive variable var.%s, whose value they could show.", strings.Join(secrets, ", var."))
		c.Expression, c.EvalContext, c.Extra = nil, nil, nil
		out[i] = &c
	}
	return out
}

// secretRefs names the sensitive variables expr refers to, sorted.
func (a *attrs) secretRefs(expr hcl.Expression) []string {
	var out []string
	for _, t := range expr.Variables() {
		if t.RootName() != "var" || len(t) < 2 {
			continue
		}
		name := stepName(t[1])
		if v := a.l.cfg.Variables[name]; v != nil && v.Sensitive && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// friendly names a type as an error should.
func friendly(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of strings"
	case t.IsMapType():
		return "a map of strings"
	}
	return t.FriendlyName()
}

func typeName(t cty.Type) string {
	switch {
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		return "a list"
	case t.IsObjectType() || t.IsMapType():
		return "an object"
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "a bool"
	}
	return t.FriendlyName()
}

// convertTo converts an unmarked value to a string, number, bool, list of
// strings or map of strings. Lists and maps are converted element by
// element: cty's own conversion of a tuple unifies the element types in
// quadratic time (a list of 100,000 strings took minutes). Errors name
// types and positions, never values or keys.
func convertTo(v cty.Value, want cty.Type) (cty.Value, error) {
	if v.IsNull() {
		return cty.NilVal, fmt.Errorf("got null")
	}
	t := v.Type()
	switch {
	case want == cty.DynamicPseudoType:
		return v, nil
	case want.IsMapType():
		if !t.IsObjectType() && !t.IsMapType() {
			return cty.NilVal, fmt.Errorf("got %s", typeName(t))
		}
		elems := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			c, err := convertTo(e, want.ElementType())
			if err != nil {
				return cty.NilVal, fmt.Errorf("a value: %v", err)
			}
			elems[k.AsString()] = c
		}
		if len(elems) == 0 {
			return cty.MapValEmpty(want.ElementType()), nil
		}
		return cty.MapVal(elems), nil
	case want.IsListType():
		if !t.IsTupleType() && !t.IsListType() && !t.IsSetType() {
			return cty.NilVal, fmt.Errorf("got %s", typeName(t))
		}
		var elems []cty.Value
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			s, err := convertTo(e, cty.String)
			if err != nil {
				return cty.NilVal, fmt.Errorf("element %d: %v", i, err)
			}
			elems = append(elems, s)
		}
		if len(elems) == 0 {
			return cty.ListValEmpty(cty.String), nil
		}
		return cty.ListVal(elems), nil
	case !t.IsPrimitiveType():
		return cty.NilVal, fmt.Errorf("got %s", typeName(t))
	}
	c, err := convert.Convert(v, want)
	if err != nil {
		// cty's message for a primitive names only types, but is not
		// relied on: the value may be a secret.
		return cty.NilVal, fmt.Errorf("got %s that cannot be read as %s", typeName(t), friendly(want))
	}
	return c, nil
}

// refs checks every reference in expr and records it as a dependency.
func (a *attrs) refs(expr hcl.Expression) bool {
	ok := true
	for _, t := range expr.Variables() {
		root := t.RootName()
		rng := t.SourceRange()
		switch {
		case root == "var":
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
		case referenceKind[root]:
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
				"%q is not something a value can refer to. Use var.NAME or KIND.NAME for a block kind: %s.", root, kindList())
			ok = false
		}
	}
	return ok
}

// referenceKind lists the block kinds a reference or depends_on may name.
var referenceKind = map[string]bool{
	KindModule: true, KindMount: true, KindContainer: true, KindVolume: true, KindNetwork: true,
	KindBoolean: true, KindFContext: true, KindPort: true,
	KindFile: true, KindDirectory: true, KindSecret: true,
}

// kindList names the kinds for a message, in a fixed order.
func kindList() string {
	var ks []string
	for k := range referenceKind {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
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
		if !referenceKind[root] {
			a.l.errorf(&rng, "Invalid depends_on entry", "%q is not a resource kind; use one of %s.", root, kindList())
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
	s := v.AsString()
	if !a.checkText(name, s, a.blk.AttrRange(name), multiline[a.blk.Kind+"."+name]) {
		a.fail(name)
		return def
	}
	return s
}

// multiline are the attributes that may hold several lines: policy text,
// which is compiled from a file and never reaches a unit.
var multiline = map[string]bool{KindModule + ".content": true}

func (a *attrs) boolean(name string, def bool) bool {
	v, ok := a.value(name, cty.Bool)
	if !ok {
		return def
	}
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
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i < math.MinInt32 || i > math.MaxInt32 {
		rng := a.blk.AttrRange(name)
		a.l.errorf(&rng, "Invalid number", "%s must be a whole number.", name)
		return def
	}
	return int(i)
}

func (a *attrs) strList(name string) []string {
	v, ok := a.value(name, cty.List(cty.String))
	if !ok {
		return nil
	}
	var out []string
	for i, e := range v.AsValueSlice() {
		if !a.checkText(fmt.Sprintf("%s[%d]", name, i), e.AsString(), a.blk.AttrRange(name), false) {
			a.fail(name)
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

// secretString evaluates attribute name, a string that may come from a
// sensitive variable (a file's content, a secret's value, which seconf
// keeps out of output and the state record): sensitive tells whether it
// did. HCL's messages about the expression are withheld as for any secret.
func (a *attrs) secretString(name string) (s string, sensitive, ok bool) {
	attr, ok := a.attrs[name]
	if !ok {
		return "", false, false
	}
	rng := attr.Expr.Range()
	a.blk.Ranges[name] = rng
	v, secrets, ok := a.eval(attr.Expr)
	if !ok {
		a.fail(name)
		return "", false, false
	}
	v, marks := v.UnmarkDeep()
	sensitive = len(secrets) > 0 || len(marks) > 0
	v, err := convertTo(v, cty.String)
	if err != nil {
		detail := fmt.Sprintf("%s must be a string: %v.", name, err)
		if sensitive {
			detail = name + " must be a string."
		}
		a.l.errorf(&rng, "Incorrect attribute value type", "%s", detail)
		a.fail(name)
		return "", sensitive, false
	}
	return v.AsString(), sensitive, true
}

// envMap decodes a map of environment variables, the one place a
// sensitive value may go. sens names the keys whose values are sensitive:
// every key when the map as a whole is (a sensitive variable holding a
// map, or a key computed from a secret), and then no error names a key
// either.
func (a *attrs) envMap(name string) (vals map[string]string, sens map[string]bool) {
	attr, ok := a.attrs[name]
	if !ok {
		return nil, nil
	}
	rng := attr.Expr.Range()
	a.blk.Ranges[name] = rng
	v, secrets, ok := a.eval(attr.Expr)
	if !ok {
		return nil, nil
	}
	v, whole := v.Unmark()
	allSecret := len(whole) > 0
	if len(secrets) > 0 && !v.ContainsMarked() {
		// The expression uses a secret but no mark says where it went:
		// treat every value as secret rather than guess.
		allSecret = true
	}
	t := v.Type()
	if !t.IsObjectType() && !t.IsMapType() {
		a.l.errorf(&rng, "Incorrect attribute value type", "%s must be a map of strings, such as { NAME = \"value\" }; got %s.", name, typeName(t))
		return nil, nil
	}
	elems := map[string]cty.Value{}
	var keys []string
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		keys = append(keys, k.AsString())
		elems[k.AsString()] = e
	}
	sort.Strings(keys)
	vals, sens = map[string]string{}, map[string]bool{}
	for _, k := range keys {
		e, marks := elems[k].UnmarkDeep()
		secret := allSecret || len(marks) > 0
		irng := a.itemRange(attr.Expr, k, rng)
		what := fmt.Sprintf("the environment variable %q", k)
		if allSecret {
			what = "an environment variable of this sensitive map"
		}
		if !a.checkEnvName(k, what, irng, allSecret) {
			return nil, nil
		}
		s, err := convertTo(e, cty.String)
		if err != nil {
			a.l.errorf(&irng, "Incorrect attribute value type", "The value of %s must be a string: %v.", what, err)
			return nil, nil
		}
		label := "the value of " + what
		if secret {
			label = "the sensitive value of " + what
		}
		if !a.checkTextAs(label, s.AsString(), irng, false, secret) {
			return nil, nil
		}
		vals[k] = s.AsString()
		if secret {
			sens[k] = true
		}
	}
	return vals, sens
}

// checkEnvName holds an environment variable's name to what every
// rendering passes on unchanged: an environment file reads a leading "#" as
// a comment and trims whitespace, and "=" ends the name.
func (a *attrs) checkEnvName(k, what string, rng hcl.Range, secret bool) bool {
	shown := fmt.Sprintf("%q", k)
	if secret {
		shown = "A name from a sensitive value"
	}
	if k == "" || strings.HasPrefix(k, "#") || strings.ContainsRune(k, '=') || strings.IndexFunc(k, unicode.IsSpace) >= 0 {
		a.l.errorf(&rng, "Invalid environment name",
			"%s is not a valid environment variable name: give a non-empty name without '=' or whitespace that does not start with '#'.", shown)
		return false
	}
	return a.checkTextAs("the name of "+what, k, rng, false, secret)
}

// itemRange is the range of key k's value in an object constructor, so
// that an error about one environment variable points at its line; else def.
func (a *attrs) itemRange(expr hcl.Expression, k string, def hcl.Range) hcl.Range {
	pairs, d := hcl.ExprMap(expr)
	if d.HasErrors() {
		return def
	}
	for _, p := range pairs {
		kv, d := p.Key.Value(a.ctx)
		if d.HasErrors() || !kv.IsWhollyKnown() || kv.IsNull() {
			continue
		}
		kv, _ = kv.UnmarkDeep()
		if kv.Type() == cty.String && kv.AsString() == k {
			return p.Value.Range()
		}
	}
	return def
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
		// Absent, or already reported: nothing more to say.
		if _, set := a.attrs[name]; set && !a.failed[name] {
			a.l.errorf(&rng, "Invalid path", "%s is empty; give an absolute path.", name)
		}
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
