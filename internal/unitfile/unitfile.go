package unitfile

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
)

// File is a unit (or quadlet) file being written: sections in the order
// they were first used, lines in the order they were added.
type File struct {
	header   []string
	sections []*section
}

type section struct {
	name  string
	lines []string
}

// New starts a file whose first lines are the given comment lines (without
// the leading "# ").
func New(header ...string) *File {
	f := &File{}
	for _, h := range header {
		f.header = append(f.header, "# "+OneLine(h))
	}
	return f
}

func (f *File) section(name string) *section {
	for _, s := range f.sections {
		if s.name == name {
			return s
		}
	}
	s := &section{name: name}
	f.sections = append(f.sections, s)
	return s
}

// Add appends KEY=VALUE to a section. value must already be escaped for
// where systemd reads it (Specifiers, Word, Value): this type lays lines out.
func (f *File) Add(sec, key, value string) {
	f.section(sec).lines = append(f.section(sec).lines, key+"="+value)
}

// AddOnce is Add, unless the section already has exactly that line: a
// dependency named twice (a volume on a referenced mount) is said once.
func (f *File) AddOnce(sec, key, value string) {
	if s := f.section(sec); !slices.Contains(s.lines, key+"="+value) {
		s.lines = append(s.lines, key+"="+value)
	}
}

// Comment adds a comment line to a section, for the person reading the unit.
func (f *File) Comment(sec, text string) {
	for _, l := range strings.Split(text, "\n") {
		f.section(sec).lines = append(f.section(sec).lines, "# "+OneLine(l))
	}
}

// Bytes is the file's text.
func (f *File) Bytes() []byte {
	// Sized first and written once: every plan renders every unit.
	n := 0
	for _, h := range f.header {
		n += len(h) + 1
	}
	for _, s := range f.sections {
		n += len(s.name) + 4
		for _, l := range s.lines {
			n += len(l) + 1
		}
	}
	b := make([]byte, 0, n)
	for _, h := range f.header {
		b = append(append(b, h...), '\n')
	}
	for _, s := range f.sections {
		b = append(append(append(b, "\n["...), s.name...), "]\n"...)
		for _, l := range s.lines {
			b = append(append(b, l...), '\n')
		}
	}
	return b
}

// OneLine keeps text from breaking the comment line it sits in.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// Specifiers escapes systemd specifiers: every setting seconf writes is
// expanded by systemd (or copied by quadlet into one that is), and a
// literal % must survive that.
func Specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// Value escapes a value that ends up inside an Exec line without being a
// word of its own there (quadlet copies Image=, Network=, ... into
// ExecStart=): specifiers and environment variables.
func Value(s string) string { return strings.ReplaceAll(Specifiers(s), "$", "$$") }

// Word makes s one argument of an Exec line as systemd reads it:
// specifiers and environment variables escaped, then quoted when it holds
// anything beyond a plain word. systemd splits Exec lines with
// extract_first_word(UNQUOTE|CUNESCAPE); within double quotes only \ and "
// need a backslash. An empty word and a lone ";" (the old command
// separator) are quoted too.
func Word(s string) string { return Quote(Value(s)) }

// Executable is the first word of an Exec line: systemd expands specifiers
// there but not environment variables (systemd-analyze verify looks for a
// literal "$$" in the path otherwise).
func Executable(s string) string { return Quote(Specifiers(s)) }

// Quote applies systemd's word quoting to an already escaped word.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plain(r) }) < 0 {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// plain runes need no quoting in a word. The set is deliberately small: any
// other character (including non-ASCII spaces, which Go's unit parsers trim
// and systemd's do not) makes the word quoted.
func plain(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-_./:=,+@%$", r)
}

// Cmdline is an Exec line: the executable, then each argument as one word.
// Words seconf itself writes with specifiers (%t, %N) are added with Raw;
// values from the configuration go through Add.
type Cmdline struct{ words []string }

// NewCmdline starts an Exec line with the executable and fixed words, as
// written (seconf's own, with specifiers meant).
func NewCmdline(raw ...string) *Cmdline { return &Cmdline{words: raw} }

// Add appends configuration values, each one word.
func (c *Cmdline) Add(values ...string) *Cmdline {
	for _, v := range values {
		c.words = append(c.words, Word(v))
	}
	return c
}

// Raw appends words written by seconf, as they are.
func (c *Cmdline) Raw(words ...string) *Cmdline {
	c.words = append(c.words, words...)
	return c
}

// String is the line.
func (c *Cmdline) String() string { return strings.Join(c.words, " ") }

// Control reports the first control character in s, for the error that
// refuses it: a unit file line cannot carry one.
func Control(s string) (rune, bool) {
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return []rune(s[i:])[0], true
	}
	return 0, false
}

// LongLineMax is systemd's LONG_LINE_MAX: a unit file line of this many
// bytes or more (the newline not counted) makes the whole unit fail to load
// ("No buffer space available", systemd-analyze verify on systemd 252).
const LongLineMax = 1 << 20

// LongLine finds the first line of data of max bytes or more: its number
// (from 1), its key (the text before "=") and its length. n is 0 when
// every line is shorter.
func LongLine(data []byte, max int) (n int, key string, length int) {
	// Line by line without splitting: every unit of every plan passes here.
	for i := 1; len(data) > 0; i++ {
		line := data
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			line, data = data[:j], data[j+1:]
		} else {
			data = nil
		}
		if len(line) >= max {
			k, _, _ := bytes.Cut(line, []byte("="))
			if len(k) > 64 {
				k = k[:64]
			}
			return i, string(k), len(line)
		}
	}
	return 0, "", 0
}
