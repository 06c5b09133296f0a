package policydb

import (
	"fmt"
	"sort"
)

// avRule is an allow entry of the access vector table: its key names a
// type or an attribute on each side.
type avRule struct {
	src, tgt, cls uint16
	perms         uint32
	cond          int32 // -1: unconditional; else conditional node<<1 | branch (0 true list, 1 false list)
}

type condTok struct {
	op uint8
	b  uint32 // boolean value, for condBool
}

type condNode struct {
	expr []condTok // postfix
}

// eval evaluates a conditional expression (checked well formed at parse
// time) under the given boolean values (by value-1).
func (n *condNode) eval(bools []bool) bool {
	var st [condMaxDepth + 1]bool
	sp := 0
	for _, t := range n.expr {
		switch t.op {
		case condBool:
			st[sp] = bools[t.b-1]
			sp++
		case condNot:
			st[sp-1] = !st[sp-1]
		default:
			a, b := st[sp-2], st[sp-1]
			sp--
			switch t.op {
			case condOr:
				st[sp-1] = a || b
			case condAnd:
				st[sp-1] = a && b
			case condXor:
				st[sp-1] = a != b
			case condEq:
				st[sp-1] = a == b
			case condNeq:
				st[sp-1] = a != b
			}
		}
	}
	return st[0]
}

// buildIndex groups the allow entries by source value (a counting sort),
// on the first query only: parsing for types or booleans need not pay
// for it.
func (p *Policy) buildIndex() {
	p.ruleOnce.Do(func() {
		n := len(p.types)
		// Entries of source value v are sorted[bySource[v-1]:bySource[v]].
		by := make([]int32, n+1)
		all := append([][]avRule{p.rules}, p.condRules...)
		for _, rules := range all {
			for _, r := range rules {
				by[r.src]++
			}
		}
		for v := 1; v <= n; v++ {
			by[v] += by[v-1]
		}
		pos := append([]int32(nil), by[:n]...)
		sorted := make([]avRule, by[n])
		for _, rules := range all {
			for _, r := range rules {
				sorted[pos[r.src-1]] = r
				pos[r.src-1]++
			}
		}
		p.bySource, p.sorted = by, sorted
	})
}

// Allowed lists the permissions the policy allows source (a type or alias)
// on target for class: the union of the allow rules whose source is the
// type or one of its attributes and whose target is the target type or one
// of its attributes. Conditional rules count when their boolean expression
// is true under the booleans' default values (see Booleans); use
// AllowedWith for other values. Permission names are sorted; commons'
// permissions are included. Access vector bits the class does not define
// (a rule granting "*" sets all 32) are left out. An unknown type or class,
// or an attribute in place of a type, is an error.
func (p *Policy) Allowed(source, target, className string) ([]string, error) {
	return p.AllowedWith(source, target, className, nil)
}

// AllowedWith is Allowed with some booleans set to other values than their
// defaults; booleans not in the map keep their default value. A name that
// is not a boolean of the policy is an error.
func (p *Policy) AllowedWith(source, target, className string, bools map[string]bool) ([]string, error) {
	av, cls, err := p.allowedAV(source, target, className, bools)
	if err != nil {
		return nil, err
	}
	var out []string
	for bit := 0; bit < 32; bit++ {
		if av&(1<<bit) != 0 {
			if name := p.permName(cls, bit); name != "" {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (p *Symbols) typeArg(role, name string) (uint32, error) {
	v, t := p.lookupType(name)
	switch {
	case t == nil:
		return 0, fmt.Errorf("%s %q is not a type of the policy", role, name)
	case t.attr:
		return 0, fmt.Errorf("%s %q is an attribute; Allowed takes a type", role, name)
	}
	return v, nil
}

func (p *Policy) allowedAV(source, target, className string, over map[string]bool) (uint32, uint32, error) {
	sv, err := p.typeArg("source", source)
	if err != nil {
		return 0, 0, err
	}
	tv, err := p.typeArg("target", target)
	if err != nil {
		return 0, 0, err
	}
	cls, ok := p.classIndex[className]
	if !ok {
		return 0, 0, fmt.Errorf("class %q is not a class of the policy", className)
	}
	bools := make([]bool, len(p.bools))
	for i, b := range p.bools {
		bools[i] = b.state
	}
	for name, val := range over {
		v, ok := p.boolIndex[name]
		if !ok {
			return 0, 0, fmt.Errorf("%q is not a boolean of the policy", name)
		}
		bools[v-1] = val
	}
	p.buildIndex()

	srcs := append([]uint32{sv}, p.typeAttrs.at(int(sv)-1)...)
	tgts := append([]uint32{tv}, p.typeAttrs.at(int(tv)-1)...)
	// state[node]: 0 not evaluated yet, 1 true, 2 false.
	state := make([]uint8, len(p.conds))
	var av uint32
	for _, s := range srcs {
		for _, r := range p.sorted[p.bySource[s-1]:p.bySource[s]] {
			if uint32(r.cls) != cls || !has(tgts, uint32(r.tgt)) {
				continue
			}
			if r.cond >= 0 {
				node := r.cond >> 1
				if state[node] == 0 {
					state[node] = 2
					if p.conds[node].eval(bools) {
						state[node] = 1
					}
				}
				// The true list (branch 0) applies when the expression is
				// true, the false list when it is false.
				if (state[node] == 1) != (r.cond&1 == 0) {
					continue
				}
			}
			av |= r.perms
		}
	}
	return av, cls, nil
}

func has(vals []uint32, v uint32) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}
