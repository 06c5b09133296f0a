package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
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
			val = fromString(given, val)
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
