package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable is a `variable "NAME"` block with its resolved value.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
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
			src := "--var " + v.Name
			if _, ok := l.opts.Vars[v.Name]; !ok {
				src = "SECONF_VAR_" + v.Name
			}
			var err error
			if val, err = fromString(given, val); err != nil {
				detail := fmt.Sprintf("%s: %v. A variable whose default is a list or a map takes an HCL value, as in --var '%s=[\"a\", \"b\"]' or --var '%s={ KEY = \"value\" }'.", src, err, v.Name, v.Name)
				if v.Sensitive {
					detail = fmt.Sprintf("%s is not an HCL value of the default's kind (a list or a map).", src)
				}
				l.errorf(&b.DefRange, "Invalid value for variable", "%s", detail)
				continue
			}
		}
		if val == cty.NilVal {
			l.errorf(&b.DefRange, "No value for required variable",
				"Variable %q has no default. Give it with --var %s=VALUE or the environment variable SECONF_VAR_%s.", v.Name, v.Name, v.Name)
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
			Detail:   fmt.Sprintf("--var %s was given, but the configuration declares no variable %q. Declare it, or drop the flag.", k, k),
		})
	}
}

// fromString converts a -var or environment string to the kind of the
// default: a primitive type as Terraform converts it; for a list, set,
// map or object default, the string is an HCL literal of that kind
// (["a", "b"], { K = "v" }), as Terraform reads a -var of such a type.
// Taken as a plain string instead, it would fail later, at whatever
// attribute uses it, with an error that names neither the variable nor
// the flag.
func fromString(s string, def cty.Value) (cty.Value, error) {
	v := cty.StringVal(s)
	if def == cty.NilVal || def.IsNull() || def.Type() == cty.String {
		return v, nil
	}
	t := def.Type()
	if t.IsPrimitiveType() || t == cty.DynamicPseudoType {
		if c, err := convert.Convert(v, t); err == nil {
			return c, nil
		}
		return v, nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(s), "value", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("not an HCL value (%s)", diags[0].Summary)
	}
	// No context: a literal, no variables or functions, as a default is.
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("not an HCL literal (%s)", diags[0].Summary)
	}
	listy := func(t cty.Type) bool { return t.IsListType() || t.IsSetType() || t.IsTupleType() }
	mappy := func(t cty.Type) bool { return t.IsMapType() || t.IsObjectType() }
	if (listy(t) && !listy(val.Type())) || (mappy(t) && !mappy(val.Type())) {
		kind := "a list"
		if mappy(t) {
			kind = "a map"
		}
		return cty.NilVal, fmt.Errorf("the default is %s, and this value is not", kind)
	}
	return val, nil
}
