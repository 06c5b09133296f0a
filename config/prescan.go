package config

import (
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Limits of the pre-scan, far beyond any configuration a person writes.
const (
	// MaxDepth bounds how deeply an expression nests: brackets, template
	// interpolations and directives, and operators and postfix brackets
	// chained in one expression (each is one more level of the syntax tree
	// that HCL's parser and evaluator recurse through). A few hundred
	// thousand levels overflow Go's 1 GB stack, a fatal error that cannot be
	// recovered and exits 2, which --detailed-exitcode reads as "changes
	// pending".
	MaxDepth = 100
	// MaxTokens bounds a file's tokens: HCL's lexer and parser cost about a
	// kilobyte and several microseconds a token, so 4 MB of "1," would take
	// minutes and gigabytes.
	MaxTokens = 200_000
)

// prescan checks a file before HCL parses it, with a scanner that does not
// recurse: nesting deeper than MaxDepth, more than MaxTokens tokens, a for
// expression inside another (the product of two lists of a million
// elements each would never finish), and bidirectional control characters
// anywhere, comments included: they reorder how a line is displayed, so
// that what a reviewer reads is not what seconf runs ("Trojan Source").
//
// It knows enough of HCL's native syntax (strings, heredocs, templates,
// comments) not to count what is quoted; on input that is not HCL it may
// miscount, which HCL then reports as a syntax error anyway.
func prescan(src []byte, filename string) hcl.Diagnostics {
	if d := bidiScan(src, filename); d != nil {
		return hcl.Diagnostics{d}
	}
	s := &scanner{src: src, file: filename, line: 1}
	s.stack = []frame{{kind: fBody}}
	for s.i < len(src) && s.diag == nil {
		switch s.top().kind {
		case fQuote:
			s.quote()
		case fHeredoc:
			s.heredoc()
		default:
			s.code()
		}
		if s.tokens > MaxTokens && s.diag == nil {
			s.fail("Configuration file too large",
				"The file has more than %d tokens; seconf refuses it before parsing, which would take minutes and gigabytes. Split the configuration into several files.", MaxTokens)
		}
	}
	if s.diag != nil {
		return hcl.Diagnostics{s.diag}
	}
	return nil
}

type frameKind uint8

const (
	fBody    frameKind = iota // the file or a { }: a newline ends an item
	fParen                    // ( ), [ ], ${ }, %{ }: newlines end nothing
	fQuote                    // a quoted template
	fHeredoc                  // a heredoc template
)

type frame struct {
	kind  frameKind
	close byte // the byte that ends a bracket frame
	// chain counts operators and postfix brackets in the current item of a
	// code frame, and open if/for directives in a template frame.
	chain int
	// isFor: a for expression (code) or the number of open %{for}s (template).
	isFor  int
	marker string // a heredoc's closing marker
	mid    bool   // a heredoc frame is inside a line
}

type scanner struct {
	src       []byte
	file      string
	i         int
	line      int
	lineStart int
	depth     int // the sum of every frame's 1 + chain, but the file's
	tokens    int
	stack     []frame
	diag      *hcl.Diagnostic
}

func (s *scanner) top() *frame { return &s.stack[len(s.stack)-1] }

func (s *scanner) pos() hcl.Pos {
	return hcl.Pos{Line: s.line, Column: utf8.RuneCount(s.src[s.lineStart:s.i]) + 1, Byte: s.i}
}

func (s *scanner) fail(summary, format string, args ...any) {
	p := s.pos()
	end := p
	end.Byte++
	end.Column++
	s.diag = &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &hcl.Range{Filename: s.file, Start: p, End: end},
	}
}

func (s *scanner) grow(n int) {
	s.depth += n
	if s.depth > MaxDepth && s.diag == nil {
		s.fail("Expression nested too deeply",
			"Here the configuration nests deeper than %d levels (brackets, templates, and operators or indexes chained in one expression). seconf refuses it before parsing, since such depth can crash HCL's parser. Simplify the expression, or split it.", MaxDepth)
	}
}

func (s *scanner) push(f frame) {
	s.stack = append(s.stack, f)
	s.tokens++
	s.grow(1)
}

func (s *scanner) pop() {
	f := s.top()
	s.depth -= 1 + f.chain
	s.stack = s.stack[:len(s.stack)-1]
}

// resetChain ends an item (a comma, or a newline in a body).
func (s *scanner) resetChain() {
	f := s.top()
	s.depth -= f.chain
	f.chain = 0
}

func (s *scanner) newline() {
	s.i++
	s.line++
	s.lineStart = s.i
	s.tokens++
}

// inFor reports whether a for expression or directive is open.
func (s *scanner) inFor() bool {
	for _, f := range s.stack {
		if f.isFor > 0 {
			return true
		}
	}
	return false
}

func (s *scanner) nestedFor() {
	s.fail("Nested for expression",
		"A for expression or %%{for} directive inside another is refused: it repeats the inner one for every element of the outer, which can take forever. Write the values out, or use one for expression.")
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }

func (s *scanner) at(off int) byte {
	if s.i+off < len(s.src) {
		return s.src[s.i+off]
	}
	return 0
}

// code scans one token of an expression or a body.
func (s *scanner) code() {
	c := s.src[s.i]
	switch {
	case c == '\n':
		if s.top().kind == fBody {
			s.resetChain()
		}
		s.newline()
	case c == ' ' || c == '\t' || c == '\r':
		s.i++
	case c == '#' || c == '/' && s.at(1) == '/':
		s.tokens++
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.i++
		}
	case c == '/' && s.at(1) == '*':
		s.tokens++
		s.i += 2
		for s.i < len(s.src) && !(s.src[s.i] == '*' && s.at(1) == '/') {
			if s.src[s.i] == '\n' {
				s.newline()
			} else {
				s.i++
			}
		}
		s.i += 2
	case c == '"':
		s.i++
		s.push(frame{kind: fQuote})
	case c == '<' && s.at(1) == '<' && s.heredocStart():
	case c == '{' || c == '[' || c == '(':
		// An opening bracket right after an operand is a postfix index,
		// one more level of the tree: it counts towards the chain.
		s.top().chain++
		s.grow(1)
		kind, closer := fParen, byte(')')
		switch c {
		case '{':
			kind, closer = fBody, '}'
		case '[':
			closer = ']'
		}
		s.i++
		f := frame{kind: kind, close: closer}
		if c != '(' && s.forFollows() {
			if s.inFor() {
				s.nestedFor()
				return
			}
			f.isFor = 1
		}
		s.push(f)
	case c == '}' || c == ']' || c == ')':
		s.tokens++
		s.i++
		// A closing bracket that does not match is a syntax error HCL
		// reports; skipping it keeps the count from going below the file.
		if len(s.stack) > 1 && s.top().close == c {
			s.pop()
		}
	case c == ',':
		s.tokens++
		s.i++
		s.resetChain()
	case c == '=':
		s.tokens++
		s.i++
		if s.at(0) == '=' || s.at(0) == '>' {
			s.i++
			s.top().chain++
			s.grow(1)
		}
	case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '!' || c == '?' ||
		c == ':' || c == '<' || c == '>' || c == '&' || c == '|':
		s.tokens++
		s.i++
		s.top().chain++
		s.grow(1)
	case c >= '0' && c <= '9':
		s.tokens++
		for s.i < len(s.src) {
			d := s.src[s.i]
			if d >= '0' && d <= '9' || d == '.' {
				s.i++
			} else if (d == 'e' || d == 'E') && s.i+1 < len(s.src) {
				s.i++
				if n := s.src[s.i]; n == '+' || n == '-' {
					s.i++
				}
			} else {
				break
			}
		}
	case isIdentStart(c):
		s.tokens++
		for s.i < len(s.src) && isIdentByte(s.src[s.i]) {
			s.i++
		}
	default:
		s.tokens++
		s.i++
	}
}

// forFollows reports whether the bracket just opened starts a for
// expression: the keyword for, then a space.
func (s *scanner) forFollows() bool {
	j := s.i
	for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t' || s.src[j] == '\r' || s.src[j] == '\n') {
		j++
	}
	return j+3 < len(s.src) && string(s.src[j:j+3]) == "for" &&
		(s.src[j+3] == ' ' || s.src[j+3] == '\t' || s.src[j+3] == '\r' || s.src[j+3] == '\n')
}

// heredocStart opens a heredoc at <<MARKER or <<-MARKER followed by a
// newline; anything else is two operators.
func (s *scanner) heredocStart() bool {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	k := j
	if k >= len(s.src) || !isIdentStart(s.src[k]) || s.src[k] >= 0x80 {
		return false
	}
	for k < len(s.src) && isIdentByte(s.src[k]) {
		k++
	}
	marker := string(s.src[j:k])
	if k < len(s.src) && s.src[k] == '\r' {
		k++
	}
	if k >= len(s.src) || s.src[k] != '\n' {
		return false
	}
	s.i = k
	s.newline()
	s.push(frame{kind: fHeredoc, marker: marker})
	return true
}

// template handles what quoted strings and heredocs share: ${ and %{
// (with $${ and %%{ their literal escapes). It reports whether it consumed
// anything.
func (s *scanner) template() bool {
	c := s.src[s.i]
	if c != '$' && c != '%' {
		return false
	}
	if s.at(1) == c && s.at(2) == '{' {
		s.i += 3
		return true
	}
	if s.at(1) != '{' {
		return false
	}
	s.i += 2
	if c == '%' {
		j := s.i
		for j < len(s.src) && (s.src[j] == '~' || s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		k := j
		for k < len(s.src) && s.src[k] >= 'a' && s.src[k] <= 'z' {
			k++
		}
		t := s.top()
		switch string(s.src[j:k]) {
		case "for":
			if s.inFor() {
				s.nestedFor()
				return true
			}
			t.isFor++
			t.chain++
			s.grow(1)
		case "if":
			t.chain++
			s.grow(1)
		case "endfor":
			if t.isFor > 0 {
				t.isFor--
			}
			fallthrough
		case "endif":
			if t.chain > 0 {
				t.chain--
				s.depth--
			}
		}
	}
	s.push(frame{kind: fParen, close: '}'})
	return true
}

// quote scans a quoted template up to its closing quote.
func (s *scanner) quote() {
	c := s.src[s.i]
	switch {
	case c == '"':
		s.i++
		s.pop()
	case c == '\\':
		s.i += 2
	case c == '\n':
		// An unterminated string, which HCL reports; end it here so that
		// the rest of the file is scanned as code.
		s.pop()
	case s.template():
	default:
		s.i++
	}
}

// heredoc scans a heredoc: at the start of a line, its marker ends it.
func (s *scanner) heredoc() {
	f := s.top()
	if !f.mid {
		j := s.i
		for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		k := j
		for k < len(s.src) && s.src[k] != '\n' {
			k++
		}
		line := string(s.src[j:k])
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if line == f.marker {
			s.i = k
			s.pop()
			return
		}
		f.mid = true
		s.tokens++
	}
	switch c := s.src[s.i]; {
	case c == '\n':
		s.newline()
		s.top().mid = false
	case s.template():
	default:
		s.i++
	}
}

// bidiScan finds the first bidirectional control character in src.
func bidiScan(src []byte, filename string) *hcl.Diagnostic {
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if c == '\n' {
				line++
				lineStart = i + 1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if isBidi(r) {
			p := hcl.Pos{Line: line, Column: utf8.RuneCount(src[lineStart:i]) + 1, Byte: i}
			end := hcl.Pos{Line: line, Column: p.Column + 1, Byte: i + n}
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Bidirectional control character",
				Detail: fmt.Sprintf("The file holds U+%04X, which changes the order in which a line is displayed, so that what a reader sees is not what seconf reads (even in a comment). Remove it.",
					r),
				Subject: &hcl.Range{Filename: filename, Start: p, End: end},
			}
		}
		i += n
	}
	return nil
}

// isBidi: the embedding, override and isolate controls, and the marks.
func isBidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}
