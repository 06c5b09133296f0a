package container

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"seconf/engine"
)

// unitFile is a unit (or quadlet) file being written: sections in the order
// they were first used, keys in the order they were added, so that the same
// container always renders to the same bytes.
type unitFile struct {
	header   string
	sections []*section
}

type section struct {
	name  string
	lines []string
}

func newUnitFile(header string) *unitFile { return &unitFile{header: header} }

// add appends KEY=VALUE to a section. value must already be escaped for
// systemd: this type only lays lines out.
func (u *unitFile) add(sec, key, value string) {
	for _, s := range u.sections {
		if s.name == sec {
			// A dependency named twice (a volume on a referenced mount) is
			// said once; list settings mean the same either way.
			if sec == "Unit" && slices.Contains(s.lines, key+"="+value) {
				return
			}
			s.lines = append(s.lines, key+"="+value)
			return
		}
	}
	u.sections = append(u.sections, &section{name: sec, lines: []string{key + "=" + value}})
}

func (u *unitFile) bytes() []byte {
	var b strings.Builder
	b.WriteString(u.header + "\n")
	for _, s := range u.sections {
		fmt.Fprintf(&b, "\n[%s]\n", s.name)
		for _, l := range s.lines {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// header is the first line of every file: engine.Header is how the engine
// recognises a file seconf owns, the rest tells a person where it came from.
func header(origin, id string) string {
	return fmt.Sprintf("%s from %s (%s). Edits are overwritten.", engine.Header, oneLine(origin), id)
}

// oneLine keeps a file name from breaking the comment line it sits in.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// specifiers escapes systemd specifiers: every setting we write is expanded by
// systemd (or copied by quadlet into one that is), and a literal % must
// survive that.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// arg makes a value one word of an Exec line as systemd reads it: specifiers
// (%) and environment variables ($) escaped, then quoted when it holds
// anything beyond a plain word. systemd splits Exec lines with
// extract_first_word(UNQUOTE|CUNESCAPE); within double quotes only \ and "
// need a backslash. An empty word and a lone ";" (the old command
// separator) are quoted too.
func arg(s string) string {
	return quote(strings.ReplaceAll(specifiers(s), "$", "$$"))
}

// quote applies systemd's word quoting to an already specifier-escaped word.
func quote(s string) string {
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

// cmdline is an Exec line: the executable, then each argument as one word.
// Arguments that seconf itself writes with specifiers (%t, %N) are added
// with raw; values from the configuration go through arg.
type cmdline struct{ words []string }

func (c *cmdline) add(values ...string) {
	for _, v := range values {
		c.words = append(c.words, arg(v))
	}
}

func (c *cmdline) raw(words ...string) { c.words = append(c.words, words...) }

func (c *cmdline) String() string { return strings.Join(c.words, " ") }

// checkToken holds a value that names something (an image, a port, a user,
// an SELinux type) to what every rendering can carry unchanged. Quadlet
// copies such values raw and strips surrounding whitespace and double quotes
// from them, and a trailing backslash continues the line in any unit file;
// none of these belongs in such a name, so they are refused rather than
// escaped.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\'' || r == '\\' {
			return fmt.Errorf("%s %q holds %q, which cannot reach a unit file unchanged; remove it", what, s, r)
		}
	}
	return nil
}

// checkText refuses control characters (config does too; C1 controls are
// caught here as well, because quadlet writes U+0080 as a lone byte).
func checkText(what, s string) error {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q holds the control character %q; remove it", what, s, r)
		}
	}
	return nil
}
