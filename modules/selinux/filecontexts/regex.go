package filecontexts

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// pattern is what is known of a spec's regular expression before it is
// compiled: compiling every regex of a policy costs tens of milliseconds,
// and a lookup needs only the few whose stem and prefix fit the path.
type pattern struct {
	expr    string // as written in the file
	meta    bool   // has a metacharacter, by libselinux's rule: sorts before exact specs
	stem    string // libselinux's stem ("/usr"), "" for none
	prefix  string // every matching path starts with this
	literal bool   // the expression matches exactly prefix (and nothing else)
	tr      string // the expression translated for RE2, if it differs
	endZ    bool   // has \z, which a path ending in a newline needs retried differently
	simple  bool   // in the subset scanSimple accepts
	topAlt  bool   // with a | outside every group
}

// analyze checks expr and works out its stem, prefix and Go translation.
// Expressions of the plain form real policies use are checked by a scan
// that is certain both PCRE2 and RE2 accept them alike; anything else is
// translated and parsed by regexp/syntax, so that an error is found at
// load time and not at the first lookup.
func analyze(expr string) (pattern, error) {
	p := pattern{expr: expr, meta: hasMeta(expr), stem: specStem(expr)}
	simple, topAlt := scanSimple(expr)
	p.simple, p.topAlt = simple, topAlt
	if simple {
		if !topAlt {
			p.prefix, p.literal = literalPrefix(expr)
		}
		return p, nil
	}
	tr, endZ, err := translate(expr, false)
	if err != nil {
		return p, err
	}
	if tr != expr {
		p.tr = tr
	}
	p.endZ = endZ
	re, err := syntax.Parse(p.goExpr(), syntax.Perl)
	if err != nil {
		return p, explain(err)
	}
	p.prefix, p.literal = treePrefix(re.Simplify())
	return p, nil
}

// goExpr is the expression as RE2 should compile it: libselinux's ^...$
// anchors, in DOTALL mode.
func (p *pattern) goExpr() string {
	tr := p.expr
	if p.tr != "" {
		tr = p.tr
	}
	return "(?s)^" + tr + "$"
}

// compile compiles the translated expression (at first use).
func (p *pattern) compile() (*regexp.Regexp, error) {
	re, err := regexp.Compile(p.goExpr())
	if err != nil {
		return nil, explain(err)
	}
	return re, nil
}

// compileRetry compiles the expression for a path with its final newline
// cut off (see Spec.matches), where PCRE2's \z must not match: there the
// newline is still there.
func (p *pattern) compileRetry() *regexp.Regexp {
	tr, _, err := translate(p.expr, true)
	if err != nil {
		return nil
	}
	re, _ := regexp.Compile("(?s)^" + tr + "$")
	return re
}

// explain turns a regexp/syntax error into one that says what to do.
func explain(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		switch se.Code {
		case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape, syntax.ErrInvalidNamedCapture:
			return fmt.Errorf("invalid regular expression: %s %q (or a PCRE feature Go's RE2 lacks: back-references, look-around, possessive or atomic groups)", se.Code, se.Expr)
		}
		return fmt.Errorf("invalid regular expression: %s %q", se.Code, se.Expr)
	}
	return fmt.Errorf("invalid regular expression: %v", err)
}

// hasMeta is libselinux's spec_hasMetaChars: a character among .^$?*+|[({
// not escaped by a backslash. Specs without one are "exact" and win over
// every spec with one.
func hasMeta(expr string) bool {
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '.', '^', '$', '?', '*', '+', '|', '[', '(', '{':
			return true
		case '\\':
			i++
		}
	}
	return false
}

// specStem is libselinux's get_stem_from_spec: the text before the second
// slash, if none of it is one of .^$?*+|[({ (backslashes included, so that
// "/a\.b/c" has the stem `/a\.b`, which no path has: libselinux then never
// tries the spec, and neither does this package).
func specStem(expr string) string {
	if len(expr) < 2 {
		return ""
	}
	i := strings.IndexByte(expr[1:], '/')
	if i < 0 {
		return ""
	}
	stem := expr[:i+1]
	if strings.ContainsAny(stem, ".^$?*+|[({") {
		return ""
	}
	return stem
}

// pathStem is libselinux's get_stem_from_file_name: the text before the
// second slash, "" if there is none.
func pathStem(p string) string {
	if len(p) < 2 {
		return ""
	}
	i := strings.IndexByte(p[1:], '/')
	if i < 0 {
		return ""
	}
	return p[:i+1]
}

// Character tables for the scans, which run on every line of a policy.
var (
	prefixStop [256]bool // ends a literal prefix: \^$.|?*+()[{
	optional   [256]bool // makes the character before it optional: ?*{
)

func init() {
	for _, c := range []byte(`\^$.|?*+()[{`) {
		prefixStop[c] = true
	}
	for _, c := range []byte("?*{") {
		optional[c] = true
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// escapedLiteral reports whether \c is the character c itself, in PCRE2
// and in RE2 alike: every ASCII character but letters and digits.
func escapedLiteral(c byte) bool {
	return c < 0x80 && !isAlnum(c)
}

// scanSimple reports whether expr uses only literals, escaped punctuation,
// \d \D \w \W, ., ^, $, bracket classes of literals and ranges, groups,
// (?:...), |, and ?, * and + after an atom, all well formed: the
// constructs that mean the same in PCRE2 and RE2. topAlt reports a | outside
// every group, which makes libselinux's ^...$ anchor only the first and the
// last alternative.
func scanSimple(expr string) (simple, topAlt bool) {
	if len(expr) > 1000 {
		return false, false // RE2's size and nesting limits: left to the parser
	}
	depth := 0
	atom := false // the last thing read can take a quantifier
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch c {
		case '\\':
			if i+1 >= len(expr) {
				return false, false
			}
			i++
			if d := expr[i]; !escapedLiteral(d) && d != 'd' && d != 'D' && d != 'w' && d != 'W' {
				return false, false
			}
			atom = true
		case '.':
			atom = true
		case '^', '$':
			atom = false
		case '?', '*', '+':
			if !atom {
				return false, false
			}
			atom = false
			// ?? *? +? and friends: lazy or possessive, left to the parser.
			if i+1 < len(expr) && (optional[expr[i+1]] || expr[i+1] == '+') {
				return false, false
			}
		case '{':
			return false, false
		case '(':
			if strings.HasPrefix(expr[i:], "(?") {
				if !strings.HasPrefix(expr[i:], "(?:") {
					return false, false
				}
				i += 2
			}
			depth++
			atom = false
		case ')':
			if depth == 0 {
				return false, false
			}
			depth--
			atom = true
		case '|':
			if depth == 0 {
				topAlt = true
			}
			atom = false
		case '[':
			end, ok := scanClass(expr, i)
			if !ok {
				return false, false
			}
			i = end
			atom = true
		default:
			if c >= 0x80 {
				return false, false
			}
			atom = true
		}
	}
	return depth == 0, topAlt
}

// scanClass scans a bracket class of literal characters, escaped
// punctuation and ascending ranges starting at expr[start] == '['; it
// returns the index of the closing ']'.
func scanClass(expr string, start int) (int, bool) {
	i := start + 1
	if i < len(expr) && expr[i] == '^' {
		i++
	}
	first := true
	prev := -1 // the previous single character, for a range
	for ; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == ']' && !first:
			return i, true
		case c == '[' || c >= 0x80:
			return 0, false // POSIX classes and the like: left to the parser
		case c == '\\':
			if i+1 >= len(expr) || !escapedLiteral(expr[i+1]) {
				return 0, false
			}
			i++
			prev = int(expr[i])
		case c == '-' && prev >= 0 && i+1 < len(expr) && expr[i+1] != ']':
			hi := expr[i+1]
			if hi == '\\' || hi == '[' || int(hi) < prev || hi >= 0x80 {
				return 0, false
			}
			i++
			prev = -1
		default:
			prev = int(c)
		}
		first = false
	}
	return 0, false
}

// literalPrefix is the literal text a match of a simple expression without
// a top-level | starts with, and whether that text is the whole expression.
func literalPrefix(expr string) (string, bool) {
	var b []byte // nil while the prefix is expr[:i] as written
	for i := 0; i < len(expr); {
		c, n := expr[i], 1
		switch {
		case c == '\\' && i+1 < len(expr) && escapedLiteral(expr[i+1]):
			c, n = expr[i+1], 2
			if b == nil {
				b = append([]byte{}, expr[:i]...)
			}
		case prefixStop[c]:
			return prefixString(expr, i, b), false
		}
		if j := i + n; j < len(expr) && optional[expr[j]] {
			return prefixString(expr, i, b), false // the character may be absent
		}
		i += n
		if b != nil {
			b = append(b, c)
		}
	}
	return prefixString(expr, len(expr), b), true
}

func prefixString(expr string, i int, b []byte) string {
	if b == nil {
		return expr[:i]
	}
	return string(b)
}

// treePrefix is literalPrefix for a parsed "(?s)^...$" expression.
func treePrefix(re *syntax.Regexp) (string, bool) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return "", false
	}
	var b strings.Builder
	subs := re.Sub[1:]
	for i, s := range subs {
		switch {
		case s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0:
			for _, r := range s.Rune {
				if r >= 0x80 {
					return b.String(), false
				}
				b.WriteRune(r)
			}
		case s.Op == syntax.OpEndText && i == len(subs)-1:
			return b.String(), true
		default:
			return b.String(), false
		}
	}
	return b.String(), false
}

// PCRE2's classes where RE2's differ or are missing, without UTF mode (as
// libselinux compiles), where every byte is a character: paths are matched
// as Latin-1 text so that RE2 sees one character per byte too.
const (
	spaceSet  = `\t\n\x0B\f\r `  // \s: PCRE2 counts the vertical tab, RE2 does not
	vspaceSet = `\n\x0B\f\r\x85` // \v: RE2 reads it as the vertical tab alone
	hspaceSet = `\t \xA0`        // \h: RE2 has none
)

// translate rewrites a PCRE2 expression into RE2 syntax with the same
// meaning, or says why it cannot; endZ reports a \z. retry makes \z
// never match, for a path whose final newline was cut off.
func translate(expr string, retry bool) (tr string, endZ bool, err error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c >= 0x80 {
			return "", false, fmt.Errorf("invalid regular expression: non-ASCII character")
		}
		if c == '[' && !inClass {
			inClass = true
			b.WriteByte(c)
			if i+1 < len(expr) && expr[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(expr) && expr[i+1] == ']' {
				i++
				b.WriteString(`\]`)
			}
			continue
		}
		if inClass && c == '[' && i+1 < len(expr) && expr[i+1] == ':' {
			if end := strings.Index(expr[i+2:], ":]"); end >= 0 {
				b.WriteString(expr[i : i+2+end+2])
				i += 2 + end + 1
				continue
			}
		}
		if inClass && c == ']' {
			inClass = false
			b.WriteByte(c)
			continue
		}
		if c != '\\' || i+1 >= len(expr) {
			b.WriteByte(c)
			continue
		}
		i++
		d := expr[i]
		switch {
		case d == 'Q' && !inClass:
			// \Q...\E quotes; RE2 reads it the same way.
			end := strings.Index(expr[i:], `\E`)
			if end < 0 {
				b.WriteString(`\` + expr[i:])
				return b.String(), endZ, nil
			}
			b.WriteString(`\` + expr[i:i+end+2])
			i += end + 1
		case d == 's' || d == 'v' || d == 'h':
			set := map[byte]string{'s': spaceSet, 'v': vspaceSet, 'h': hspaceSet}[d]
			if inClass {
				b.WriteString(set)
			} else {
				b.WriteString("[" + set + "]")
			}
		case d == 'S' || d == 'V' || d == 'H':
			if inClass {
				return "", false, fmt.Errorf(`invalid regular expression: \%c inside a bracket class is not supported`, d)
			}
			b.WriteString("[^" + map[byte]string{'S': spaceSet, 'V': vspaceSet, 'H': hspaceSet}[d] + "]")
		case d == 'Z' && !inClass:
			b.WriteString(`\z`) // with the final newline rule of Spec.matches, as PCRE2's \Z
		case d == 'z' && !inClass:
			endZ = true
			if retry {
				b.WriteString(`[^\x00-\x{10FFFF}]`)
			} else {
				b.WriteString(`\z`)
			}
		case d == 'e':
			b.WriteString(`\x1B`)
		case d == 'N' && !inClass:
			b.WriteString(`[^\n]`)
		case d >= '1' && d <= '9':
			return "", false, fmt.Errorf(`invalid regular expression: \%c is a back-reference, which Go's RE2 lacks`, d)
		default:
			b.WriteByte('\\')
			b.WriteByte(d)
		}
	}
	return b.String(), endZ, nil
}

// ValidRegex checks a path expression as semanage fcontext -a takes it
// (and as it ends up in file_contexts.local): absolute, one field of
// printable ASCII, and a regular expression that compiles. The expression
// is matched against whole paths; "/srv/www(/.*)?" is the usual form of "a
// directory and everything under it".
func ValidRegex(expr string) error {
	if expr == "" {
		return errors.New("empty path expression")
	}
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case isSpace(c):
			return fmt.Errorf("path expression %q contains white space, which would split the file_contexts line", expr)
		case c >= 0x80:
			return fmt.Errorf("path expression %q contains non-ASCII characters, which libselinux refuses", expr)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("path expression %q contains a control character", expr)
		}
	}
	if expr[0] != '/' {
		return fmt.Errorf("path expression %q is not absolute: it must start with /", expr)
	}
	p, err := analyze(expr)
	if err != nil {
		return fmt.Errorf("path expression %q: %v", expr, err)
	}
	if _, err := p.compile(); err != nil {
		return fmt.Errorf("path expression %q: %v", expr, err)
	}
	return nil
}

// needles are literal runs every match of a simple expression without a
// top-level | contains, in this order: text outside groups and classes,
// without characters a quantifier makes optional. A path lacking one
// cannot match, and the regex need not be compiled to know it.
func needles(expr string) []string {
	var runs []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			runs = append(runs, string(cur))
			cur = cur[:0]
		}
	}
	depth := 0
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr):
			if depth > 0 || !escapedLiteral(expr[i+1]) {
				flush()
				i += 2
				continue
			}
			c = expr[i+1]
			i += 2
		case c == '[':
			flush()
			if end, ok := scanClass(expr, i); ok {
				i = end + 1
			} else {
				return nil
			}
			continue
		case c == '(':
			flush()
			depth++
			i++
			continue
		case c == ')':
			depth--
			i++
			continue
		case depth > 0 || prefixStop[c]:
			flush()
			i++
			continue
		default:
			i++
		}
		// c is a literal character outside groups.
		if i < len(expr) && optional[expr[i]] {
			flush()
			continue
		}
		cur = append(cur, c)
		if i < len(expr) && expr[i] == '+' {
			flush()
		}
	}
	flush()
	return runs
}

// hasNeedles reports whether s holds every run, in order.
func hasNeedles(s string, runs []string) bool {
	for _, r := range runs {
		i := strings.Index(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(r):]
	}
	return true
}
