package selinux

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
	"seconf/modules/selinux/policydb"
)

// semodule (libsepol's CIL) reports a link error at the line of a scratch
// copy of the module in the store: ROOT/var/lib/selinux/STORE/tmp/modules/
// PRIORITY/NAME/cil:LINE. That file is gone when semodule exits, and
// names neither the selinux_module nor what is missing.
var (
	scratchRe  = lazyre.New(`(\S*)/(?:tmp|active)/modules/(\d+)/([^/\s]+)/cil:(\d+)`)
	resolveRe  = lazyre.New(`^Failed to resolve (\S+) statement at (\S+)`)
	redeclRe   = lazyre.New(`^Re-declaration of (\S+) (\S+)`)
	badDeclRe  = lazyre.New(`^Bad (\S+) declaration at (\S+)`)
	neverRe    = lazyre.New(`^neverallow check failed at (\S+)`)
	noiseLines = []string{"Failed to resolve AST", "Failed to build AST", "semodule:  Failed!", "Failed to verify", "user sddm not in password file"}
)

// declKeywords are the CIL statements that declare a name in arg 1.
var declKeywords = map[string]bool{
	"type": true, "typeattribute": true, "typealias": true, "role": true, "roleattribute": true,
	"user": true, "boolean": true, "tunable": true, "class": true, "classpermission": true,
	"classmap": true, "block": true, "macro": true, "sensitivity": true, "category": true,
	"sensitivityalias": true, "categoryalias": true, "userattribute": true, "context": true,
}

// builtin are names CIL and the reference policy always have.
var builtin = map[string]bool{"self": true, "cil_gen_require": true, "object_r": true, "system_r": true, "all": true, "and": true, "or": true, "not": true}

// transactionError turns a failed semodule transaction into an error that
// names the selinux_module, its source, what is missing and what to do.
func transactionError(env *engine.Env, changes []*engine.Change, err error) error {
	const head = "semodule refused the policy transaction; nothing was committed"
	var ce *host.CmdError
	if !errors.As(err, &ce) {
		return fmt.Errorf("%s: %s: %w", config.KindModule, head, err)
	}
	mods := map[string]*planned{}
	for _, c := range changes {
		if pl, _ := c.Data.(*planned); pl != nil && pl.comp != nil {
			mods[nameOf(c.ID)] = pl
		}
	}
	var pol *policydb.Symbols
	polRead := false
	known := func(name string) bool {
		if builtin[name] {
			return true
		}
		for _, pl := range mods {
			if declares(pl.comp.cil, name) {
				return true
			}
		}
		if !polRead {
			polRead = true
			if data, err := env.Host.FS.ReadFile(policyPath(openStore(env.Host.FS))); err == nil {
				pol, _ = policydb.ParseSymbols(data)
			}
		}
		return pol != nil && (pol.HasType(name) || pol.IsAttribute(name))
	}
	out := string(ce.Result.Stderr) + "\n" + string(ce.Result.Stdout)
	var msgs, rest []string
	explained := false
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || noise(l) {
			continue
		}
		if m := resolveRe.FindStringSubmatch(l); m != nil {
			if msg := explainResolve(m[1], m[2], mods, known); msg != "" {
				msgs = append(msgs, msg)
				explained = true
				continue
			}
		}
		if m := redeclRe.FindStringSubmatch(l); m != nil {
			who := "a module"
			for j := i + 1; j < len(lines) && j <= i+2; j++ {
				if b := badDeclRe.FindStringSubmatch(strings.TrimSpace(lines[j])); b != nil {
					if pl, _, _ := scratchModule(b[2], mods); pl != nil {
						who = pl.module.ID() + " (" + source(pl.module) + ")"
					}
				}
			}
			msgs = append(msgs, fmt.Sprintf("%s declares %s %s, which the policy already has (declared by another module of the store or of this configuration). Rename it in the module, or leave the declaration to the module that has it.", who, m[1], m[2]))
			explained = true
			i += 2 // its Previous/Bad declaration lines
			continue
		}
		if m := neverRe.FindStringSubmatch(l); m != nil {
			msgs = append(msgs, "a rule breaks a neverallow of the policy (at "+scratchName(m[1], mods)+"); semodule's report follows. Drop the rule, or confine the type more narrowly.")
			explained = true
			continue
		}
		rest = append(rest, scratchRe.ReplaceAllStringFunc(l, func(s string) string { return scratchName(s, mods) }))
	}
	if !explained {
		return fmt.Errorf("%s: %s:\n%s", config.KindModule, head, strings.Join(rest, "\n"))
	}
	msg := strings.Join(msgs, "\n")
	if len(rest) > 0 {
		msg += "\nsemodule said:\n  " + strings.Join(rest, "\n  ")
	}
	return fmt.Errorf("%s: %s:\n%s", config.KindModule, head, msg)
}

func noise(l string) bool {
	for _, n := range noiseLines {
		if strings.Contains(l, n) {
			return true
		}
	}
	return false
}

// scratchModule maps a scratch file reference (PATH/modules/PRIO/NAME/cil:
// LINE) to the module of this apply, and the line.
func scratchModule(ref string, mods map[string]*planned) (*planned, string, int) {
	m := scratchRe.FindStringSubmatch(ref)
	if m == nil {
		return nil, "", 0
	}
	line, _ := strconv.Atoi(m[4])
	return mods[m[3]], m[3], line
}

// scratchName says which module a scratch reference is in, without the
// scratch path.
func scratchName(ref string, mods map[string]*planned) string {
	m := scratchRe.FindStringSubmatch(ref)
	if m == nil {
		return ref
	}
	if pl := mods[m[3]]; pl != nil {
		return fmt.Sprintf("line %s of %s's CIL (%s)", m[4], pl.module.ID(), source(pl.module))
	}
	return fmt.Sprintf("line %s of the installed module %s (priority %s)", m[4], m[3], strings.TrimLeft(m[2], "0"))
}

// explainResolve explains "Failed to resolve KIND statement at REF": the
// statement, and which of its names nothing declares.
func explainResolve(kind, ref string, mods map[string]*planned, known func(string) bool) string {
	pl, name, line := scratchModule(ref, mods)
	if pl == nil {
		if name == "" {
			return ""
		}
		return fmt.Sprintf("the installed module %s no longer links (its %s statement at line %d): a module it needs is removed or changed by this apply.", name, kind, line)
	}
	stmts, _ := parseCIL(pl.comp.cil)
	s := statementAt(stmts, kind, line)
	who := fmt.Sprintf("%s (%s)", pl.module.ID(), source(pl.module))
	if s == nil {
		return fmt.Sprintf("%s does not link: its %s statement at line %d of its CIL refers to something no module declares.", who, kind, line)
	}
	var missing []string
	seen := map[string]bool{}
	for _, n := range names(s, kind) {
		if !seen[n] && !known(n) {
			seen[n] = true
			missing = append(missing, n)
		}
	}
	text := render(s)
	what := "something no module declares"
	if len(missing) > 0 {
		what = strings.Join(missing, ", ")
		if len(missing) == 1 {
			what += " is declared by no module"
		} else {
			what += " are declared by no module"
		}
		what += ", in this configuration or in the store"
	}
	hint := "Declare it in a module of this configuration, install the module that declares it with this one, or correct the name."
	switch {
	case kind == "blockinherit":
		hint = "The template block comes from another module (udica's templates, container-selinux): install that module with this one, or correct the name."
	case pl.module.Format != config.FormatCIL && strings.Contains(text, "cil_gen_require"):
		hint = "A require { ... } block or an interface call of the .te names it: install the module that declares it, or correct the name."
	}
	return fmt.Sprintf("%s does not link: %s.\n    %s   (line %d of its CIL)\n  %s", who, what, text, line, hint)
}

// statementAt finds the statement of the given kind that starts at line.
func statementAt(stmts []*node, kind string, line int) *node {
	for _, s := range stmts {
		if s.line == line && s.head() == kind {
			return s
		}
		if len(s.list) > 0 {
			if f := statementAt(s.list, kind, line); f != nil {
				return f
			}
		}
	}
	return nil
}

// names are the identifiers a statement refers to that a missing
// declaration could explain: a rule's source and target, an attribute and
// its members, a template. Classes and permissions are left out.
func names(s *node, kind string) []string {
	var out []string
	add := func(n *node) {
		if n == nil {
			return
		}
		if n.atom != "" {
			out = append(out, n.atom)
			return
		}
		for _, c := range n.list {
			if c.atom != "" {
				out = append(out, c.atom)
			}
		}
	}
	at := func(i int) *node {
		if i < len(s.list) {
			return s.list[i]
		}
		return nil
	}
	switch kind {
	case "allow", "auditallow", "dontaudit", "neverallow", "allowx", "typetransition", "typechange", "typemember":
		add(at(1))
		add(at(2))
		if kind == "typetransition" || kind == "typechange" || kind == "typemember" {
			add(at(len(s.list) - 1))
		}
	default:
		for _, c := range s.list[1:] {
			add(c)
		}
	}
	var ids []string
	for _, n := range out {
		if n != "" && n[0] != '"' && (n[0] < '0' || n[0] > '9') {
			ids = append(ids, n)
		}
	}
	return ids
}

// declares reports whether a module's CIL declares name (anywhere, in any
// block, by its last component).
func declares(cil []byte, name string) bool {
	stmts, _ := parseCIL(cil)
	var walk func([]*node) bool
	walk = func(ns []*node) bool {
		for _, s := range ns {
			if declKeywords[s.head()] && s.arg(1) == name {
				return true
			}
			if len(s.list) > 0 && walk(s.list) {
				return true
			}
		}
		return false
	}
	return walk(stmts)
}

// render prints a statement on one line, as CIL.
func render(n *node) string {
	if n.atom != "" {
		return n.atom
	}
	parts := make([]string, len(n.list))
	for i, c := range n.list {
		parts[i] = render(c)
	}
	return "(" + strings.Join(parts, " ") + ")"
}
