package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// checkCycles reports dependency cycles with the chain that forms them.
func (l *loader) checkCycles() {
	deps := map[string][]Ref{}
	decl := map[string]hcl.Range{}
	var order []string
	add := func(b *Block) {
		deps[b.ID()] = b.Deps
		decl[b.ID()] = b.DeclRange
		order = append(order, b.ID())
	}
	for _, m := range l.cfg.Modules {
		add(&m.Block)
	}
	for _, m := range l.cfg.Mounts {
		add(&m.Block)
	}
	for _, b := range l.cfg.Booleans {
		add(&b.Block)
	}
	for _, f := range l.cfg.FContexts {
		add(&f.Block)
	}
	for _, p := range l.cfg.Ports {
		add(&p.Block)
	}
	for _, c := range l.cfg.Containers {
		add(&c.Block)
	}
	for _, v := range l.cfg.Volumes {
		add(&v.Block)
	}
	for _, n := range l.cfg.Networks {
		add(&n.Block)
	}
	for _, f := range l.cfg.Files {
		add(&f.Block)
	}
	for _, d := range l.cfg.Directories {
		add(&d.Block)
	}
	for _, s := range l.cfg.Secrets {
		add(&s.Block)
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, d := range deps[id] {
			switch color[d.ID()] {
			case grey:
				i := 0
				for stack[i] != d.ID() {
					i++
				}
				chain := append(append([]string{}, stack[i:]...), d.ID())
				rng := d.Range
				l.errorf(&rng, "Dependency cycle", "%s. Remove one of these references or depends_on entries.", strings.Join(chain, " → "))
				return true
			case white:
				if visit(d.ID()) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, id := range order {
		if color[id] == white && visit(id) {
			return
		}
	}
}
