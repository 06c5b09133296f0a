package selinux

import (
	"fmt"
	"strings"
)

// node is a CIL S-expression: an atom, or a list.
type node struct {
	atom string
	list []*node
	line int
}

func (n *node) head() string {
	if len(n.list) == 0 {
		return ""
	}
	return n.list[0].atom
}

// arg is the i-th element's atom, "" when absent or a list.
func (n *node) arg(i int) string {
	if i >= len(n.list) {
		return ""
	}
	return n.list[i].atom
}

// parseCIL reads CIL's statements. It knows only the syntax (lists, atoms,
// quoted strings, ';' comments), which is all that finding declarations
// needs.
func parseCIL(data []byte) ([]*node, error) {
	top := &node{}
	stack := []*node{top}
	line := 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == ';':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case c == '(':
			n := &node{line: line}
			cur := stack[len(stack)-1]
			cur.list = append(cur.list, n)
			stack = append(stack, n)
		case c == ')':
			if len(stack) == 1 {
				return top.list, fmt.Errorf("line %d: ')' closes nothing", line)
			}
			stack = stack[:len(stack)-1]
		case c == '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				j++
			}
			if j == len(data) {
				return top.list, fmt.Errorf("line %d: unterminated string", line)
			}
			cur := stack[len(stack)-1]
			cur.list = append(cur.list, &node{atom: string(data[i : j+1]), line: line})
			line += strings.Count(string(data[i:j]), "\n")
			i = j
		default:
			j := i
			for j < len(data) && !strings.ContainsRune(" \t\r\n();\"", rune(data[j])) {
				j++
			}
			cur := stack[len(stack)-1]
			cur.list = append(cur.list, &node{atom: string(data[i:j]), line: line})
			i = j - 1
		}
	}
	if len(stack) > 1 {
		return top.list, fmt.Errorf("line %d: '(' opened here is never closed", stack[len(stack)-1].line)
	}
	return top.list, nil
}

// block is a CIL block (a namespace), by its full dotted name.
type block struct {
	name     string // full name
	body     []*node
	abstract bool // blockabstract: a template, whose own types are not real
}

// blockIndex holds the blocks of a set of modules, by full name.
type blockIndex map[string]*block

// add records the blocks of a module's statements.
func (ix blockIndex) add(stmts []*node) {
	ix.walk("", stmts)
}

func (ix blockIndex) walk(ns string, stmts []*node) {
	for _, s := range stmts {
		switch s.head() {
		case "block":
			full := join(ns, s.arg(1))
			b := &block{name: full, body: s.list[min(2, len(s.list)):]}
			for _, c := range b.body {
				if c.head() == "blockabstract" {
					b.abstract = true
				}
			}
			ix[full] = b
			ix.walk(full, b.body)
		case "optional":
			ix.walk(ns, s.list[min(2, len(s.list)):])
		}
	}
}

func join(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "." + name
}

// resolver finds a template block by full name: in the configuration's
// modules first, then (when given) in the store's.
type resolver func(full string) *block

// typeFinder lists what a module declares, following blockinherit.
type typeFinder struct {
	find       resolver
	out        []string
	seen       map[string]bool
	unresolved []string // templates found nowhere
}

// declaredTypes lists the types (and aliases) a module's CIL declares,
// with their full names: a type in a block is BLOCK.NAME, and a block that
// inherits a template gets the template's types under its own name (udica's
// output: (block my_container (blockinherit container) ...) declares
// my_container.process). Templates come from find; nil finds only the
// module's own blocks.
func declaredTypes(cil []byte) []string {
	stmts, _ := parseCIL(cil)
	return typesOf(stmts, nil).out
}

func typesOf(stmts []*node, find resolver) *typeFinder {
	own := blockIndex{}
	own.add(stmts)
	tf := &typeFinder{seen: map[string]bool{}, find: func(full string) *block {
		if b := own[full]; b != nil {
			return b
		}
		if find != nil {
			return find(full)
		}
		return nil
	}}
	tf.emit("", stmts, false, map[string]bool{})
	return tf
}

func (tf *typeFinder) emit(ns string, stmts []*node, abstract bool, expanding map[string]bool) {
	for _, s := range stmts {
		switch s.head() {
		case "type", "typealias":
			if name := s.arg(1); name != "" && !abstract {
				tf.add(join(ns, name))
			}
		case "block":
			full := join(ns, s.arg(1))
			body := s.list[min(2, len(s.list)):]
			isAbstract := abstract
			for _, c := range body {
				isAbstract = isAbstract || c.head() == "blockabstract"
			}
			tf.emit(full, body, isAbstract, expanding)
		case "optional":
			tf.emit(ns, s.list[min(2, len(s.list)):], abstract, expanding)
		case "in":
			// (in [before|after] BLOCK statements...) adds to a block.
			i := 1
			if a := s.arg(1); a == "before" || a == "after" {
				i = 2
			}
			if target := s.arg(i); target != "" {
				tf.emit(target, s.list[min(i+1, len(s.list)):], abstract, expanding)
			}
		case "blockinherit":
			name := s.arg(1)
			b := tf.resolve(ns, name)
			if b == nil {
				tf.unresolved = append(tf.unresolved, name)
				continue
			}
			if expanding[b.name] {
				continue // a cycle: CIL refuses it; semodule will say so
			}
			expanding[b.name] = true
			// The inherited copy is concrete unless the inheritor is not.
			tf.emit(ns, b.body, abstract, expanding)
			delete(expanding, b.name)
		}
	}
}

// resolve looks a blockinherit name up as CIL does: in the enclosing
// namespaces, innermost first, then globally.
func (tf *typeFinder) resolve(ns, name string) *block {
	for p := ns; ; {
		if b := tf.find(join(p, name)); b != nil {
			return b
		}
		if p == "" {
			return nil
		}
		if i := strings.LastIndexByte(p, '.'); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
}

func (tf *typeFinder) add(t string) {
	if !tf.seen[t] {
		tf.seen[t] = true
		tf.out = append(tf.out, t)
	}
}
