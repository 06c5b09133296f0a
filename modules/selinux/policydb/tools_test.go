package policydb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// This file holds what the tests need to ask setools about a policy file
// and to turn its answers into the shape of Policy's.

func tool(t testing.TB, name, pkg string) string {
	t.Helper()
	return testenv.Tool(t, "", name, "install the Debian package "+pkg)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: name, Args: args})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(res.Stdout)
}

// readFile reads a policy file, skipping the test where the machine has none.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) && os.Getenv("CI") == "" {
		t.Skipf("%v: install selinux-policy-default", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// secilc compiles CIL files into a kernel policy of the given version.
func secilc(t testing.TB, version int, mls bool, cil ...string) []byte {
	t.Helper()
	bin := tool(t, "secilc", "secilc")
	out := filepath.Join(t.TempDir(), fmt.Sprintf("policy.%d", version))
	run(t, bin, append([]string{"-M", strconv.FormatBool(mls), "-c", strconv.Itoa(version), "-o", out, "-f", os.DevNull}, cil...)...)
	return readFile(t, out)
}

// dump is what the tests compare between seinfo and Policy.
type dump struct {
	Types      map[string]typeEntry
	Attributes map[string][]string // attribute -> types
	Booleans   map[string]bool
	Classes    map[string][]string // class -> permissions, commons' included
	Permissive []string
	Polcaps    []string
	Portcons   []string // "tcp 80 user:role:type:range", sorted
	Roles      map[string][]string
}

type typeEntry struct {
	Aliases    []string
	Attributes []string
}

func portconString(proto string, low, high int, ctx string) string {
	ports := strconv.Itoa(low)
	if high != low {
		ports += "-" + strconv.Itoa(high)
	}
	return proto + " " + ports + " " + ctx
}

// policyDump is Policy's answer to every question dump asks.
func policyDump(p *Policy) dump {
	d := symbolsDump(&p.Symbols)
	for name, e := range d.Types {
		e.Attributes = p.TypeAttributes(name)
		d.Types[name] = e
	}
	for name := range d.Attributes {
		d.Attributes[name] = p.AttributeTypes(name)
	}
	for _, pc := range p.PortCons() {
		d.Portcons = append(d.Portcons, portconString(pc.Protocol, pc.Low, pc.High, pc.Context.String()))
	}
	sort.Strings(d.Portcons)
	return d
}

// symbolsDump is what Symbols knows of a dump: no type-attribute
// membership, no portcons.
func symbolsDump(p *Symbols) dump {
	d := dump{Types: map[string]typeEntry{}, Attributes: map[string][]string{}, Booleans: p.Booleans(),
		Classes: map[string][]string{}, Permissive: p.PermissiveTypes(), Polcaps: p.Capabilities(), Roles: map[string][]string{}}
	for _, name := range p.Types() {
		d.Types[name] = typeEntry{Aliases: p.Aliases(name)}
	}
	for _, name := range p.Attributes() {
		d.Attributes[name] = nil
	}
	for _, c := range p.Classes() {
		d.Classes[c] = p.Permissions(c)
	}
	for _, r := range p.Roles() {
		d.Roles[r] = p.RoleTypes(r)
	}
	return d
}

// symbolsOnly clears what Symbols does not know.
func (d dump) symbolsOnly() dump {
	types := map[string]typeEntry{}
	for k, e := range d.Types {
		types[k] = typeEntry{Aliases: e.Aliases}
	}
	attrs := map[string][]string{}
	for k := range d.Attributes {
		attrs[k] = nil
	}
	d.Types, d.Attributes, d.Portcons = types, attrs, nil
	return d
}

var (
	sectionRe = regexp.MustCompile(`^([A-Z][A-Za-z. ]*): (\d+)$`)
	typeRe    = regexp.MustCompile(`^type (\S+?)(?: alias (?:\{ ([^}]*) \}|(\S+?)))?(?:, (.*))?;$`)
)

// seinfoDump asks seinfo everything dump holds, in one run (a run costs
// more than half a second on a full policy).
func seinfoDump(t testing.TB, policy string) dump {
	t.Helper()
	out := run(t, tool(t, "seinfo", "setools"), policy, "-x", "-t", "-a", "-b", "-r", "-c", "--common",
		"--portcon", "--permissive", "--polcap")
	d := dump{Types: map[string]typeEntry{}, Attributes: map[string][]string{}, Booleans: map[string]bool{},
		Classes: map[string][]string{}, Roles: map[string][]string{}}
	commons := map[string][]string{}
	inherits := map[string]string{}
	var section, name string
	counts := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			section = m[1]
			counts[section], _ = strconv.Atoi(m[2])
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		f := strings.Fields(trimmed)
		switch section {
		case "Booleans":
			d.Booleans[f[1]] = f[2] == "true;"
		case "Classes", "Commons":
			switch {
			case f[0] == "class":
				name = f[1]
				d.Classes[name] = []string{}
			case f[0] == "common":
				name = f[1]
				commons[name] = []string{}
			case f[0] == "inherits":
				inherits[name] = f[1]
			case trimmed == "{" || trimmed == "}":
			case section == "Classes":
				d.Classes[name] = append(d.Classes[name], trimmed)
			default:
				commons[name] = append(commons[name], trimmed)
			}
		case "Permissive Types":
			d.Permissive = append(d.Permissive, strings.TrimSuffix(strings.TrimSuffix(f[1], ";"), ","))
		case "Polcap":
			d.Polcaps = append(d.Polcaps, strings.TrimSuffix(f[1], ";"))
		case "Portcon":
			// setools writes a range as "low - high"; the kernel as low-high.
			ctx := strings.ReplaceAll(strings.Join(f[3:], " "), " - ", "-")
			lo, hi, _ := strings.Cut(f[2], "-")
			if hi == "" {
				hi = lo
			}
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			d.Portcons = append(d.Portcons, portconString(f[1], l, h, ctx))
		case "Roles":
			var types []string
			if rest := strings.TrimSuffix(strings.Join(f[3:], " "), ";"); strings.HasPrefix(rest, "{") {
				types = strings.Fields(strings.Trim(rest, "{}"))
			} else {
				types = []string{rest}
			}
			d.Roles[f[1]] = types
		case "Types":
			m := typeRe.FindStringSubmatch(trimmed)
			if m == nil {
				t.Fatalf("seinfo type line %q", trimmed)
			}
			var e typeEntry
			e.Aliases = strings.Fields(m[2] + " " + m[3])
			if m[4] != "" {
				e.Attributes = strings.Split(m[4], ", ")
			}
			d.Types[m[1]] = e
		case "Type Attributes":
			if f[0] == "attribute" && !strings.HasPrefix(line, "\t") {
				name = strings.TrimSuffix(f[1], ";")
				d.Attributes[name] = []string{}
			} else if trimmed != "<empty attribute>" {
				d.Attributes[name] = append(d.Attributes[name], trimmed)
			}
		}
	}
	for c, com := range inherits {
		d.Classes[c] = append(d.Classes[c], commons[com]...)
	}
	for _, m := range []map[string][]string{d.Classes, d.Attributes, d.Roles} {
		for k := range m {
			sort.Strings(m[k])
		}
	}
	for k, e := range d.Types {
		sort.Strings(e.Aliases)
		sort.Strings(e.Attributes)
		d.Types[k] = e
	}
	sort.Strings(d.Permissive)
	sort.Strings(d.Polcaps)
	sort.Strings(d.Portcons)
	// seinfo's counts guard the parsing of its own output.
	for section, n := range map[string]int{"Types": len(d.Types), "Type Attributes": len(d.Attributes),
		"Booleans": len(d.Booleans), "Classes": len(d.Classes), "Portcon": len(d.Portcons),
		"Roles": len(d.Roles), "Permissive Types": len(d.Permissive), "Polcap": len(d.Polcaps)} {
		if counts[section] != n {
			t.Fatalf("seinfo says %d %s, the test read %d", counts[section], section, n)
		}
	}
	return d
}

// rule is one allow rule as sesearch prints it.
type rule struct {
	src, tgt, cls string
	perms         []string
	cond          string // infix expression, "" for unconditional
	branch        bool   // the rule applies when cond is this
}

var ruleRe = regexp.MustCompile(`^allow (\S+) (\S+):(\S+) (\{ [^}]* \}|\S+);(?: \[ (.*) \]:(True|False))?$`)

// sesearch lists the allow rules sesearch finds for its arguments.
func sesearch(t testing.TB, policy string, args ...string) []rule {
	t.Helper()
	out := run(t, tool(t, "sesearch", "setools"), append([]string{policy, "--allow"}, args...)...)
	var rules []rule
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		m := ruleRe.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("sesearch line %q", line)
		}
		rules = append(rules, rule{src: m[1], tgt: m[2], cls: m[3],
			perms: strings.Fields(strings.Trim(m[4], "{}")), cond: m[5], branch: m[6] != "False"})
	}
	return rules
}

// parallel runs fns two at a time: the machine has two CPUs and setools
// spends a second or two loading a full policy.
func parallel(fns ...func()) {
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn()
		}()
	}
	wg.Wait()
}

// evalInfix evaluates a conditional expression as setools prints it
// ("a && ! b", "( a || b ) ^ c") with C's precedence: ! binds tightest,
// then == and !=, ^, &&, ||.
func evalInfix(t testing.TB, expr string, bools map[string]bool) bool {
	t.Helper()
	toks := strings.Fields(expr)
	pos := 0
	levels := [][]string{{"||"}, {"&&"}, {"^"}, {"==", "!="}}
	var parse func(level int) bool
	parse = func(level int) bool {
		if level == len(levels) {
			if pos >= len(toks) {
				t.Fatalf("expression %q ends early", expr)
			}
			tok := toks[pos]
			pos++
			switch tok {
			case "!":
				return !parse(level)
			case "(":
				v := parse(0)
				if pos >= len(toks) || toks[pos] != ")" {
					t.Fatalf("expression %q: unbalanced", expr)
				}
				pos++
				return v
			}
			v, ok := bools[tok]
			if !ok {
				t.Fatalf("expression %q: unknown boolean %q", expr, tok)
			}
			return v
		}
		v := parse(level + 1)
		for pos < len(toks) {
			op := toks[pos]
			found := false
			for _, o := range levels[level] {
				found = found || o == op
			}
			if !found {
				break
			}
			pos++
			w := parse(level + 1)
			switch op {
			case "||":
				v = v || w
			case "&&":
				v = v && w
			case "^", "!=":
				v = v != w
			case "==":
				v = v == w
			}
		}
		return v
	}
	v := parse(0)
	if pos != len(toks) {
		t.Fatalf("expression %q: trailing %q", expr, toks[pos:])
	}
	return v
}

// applies reports whether a rule is in force under the boolean values.
func (r rule) applies(t testing.TB, bools map[string]bool) bool {
	return r.cond == "" || evalInfix(t, r.cond, bools) == r.branch
}
