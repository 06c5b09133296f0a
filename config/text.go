package config

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxValueLen bounds a value that reaches a unit file or a command line:
// podman and docker read environment files with Go's bufio.Scanner, whose
// lines end at 64 KiB; Linux passes at most 128 KiB per argument; systemd
// reads at most 1 MiB per unit file line (LONG_LINE_MAX), which the
// renderers check on the lines they write.
const MaxValueLen = 64<<10 - 1

// Where the character rules apply, and why there: every string value is
// checked after evaluation, in config, at the attribute's range. A value
// reaches a unit file or a command line as it is evaluated (from a
// variable given with --var, from a template), not as the .hcl file spells
// it, so the source text alone cannot be checked; and config is the one
// place every renderer's input passes, so the rules are the same for all of
// them. Block names are held to ASCII by validName. Comments are not
// values: there only the bidirectional controls are refused, by prescan.

// BadRune finds the first character that may not be in a value that
// reaches a unit file or a command line, and says what it is:
//
//   - bytes that are not UTF-8 (systemd ignores such a line);
//   - control characters, C0, DEL and C1 (a newline starts a new
//     directive; quadlet writes U+0080 as a lone byte); multiline text keeps
//     newlines, tabs and carriage returns;
//   - characters that are invisible or look like an ASCII space: format
//     characters (zero-width spaces and joiners, bidirectional marks,
//     embeddings, overrides and isolates, U+FEFF), non-ASCII spaces
//     (U+00A0, U+2000–U+200A, U+202F, ...), the line and paragraph
//     separators U+2028 and U+2029, and other default-ignorable code points
//     (Hangul fillers). A person reading the unit, the plan or the
//     configuration cannot tell them apart from nothing or from a space,
//     and Go's parsers (quadlet's) trim some of them where systemd does not.
func BadRune(s string, multiline bool) (rune, string, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, "bytes that are not valid UTF-8", true
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t' || r == '\r'):
		case unicode.IsControl(r):
			return r, fmt.Sprintf("the control character U+%04X", r), true
		case r == 0x2028 || r == 0x2029:
			return r, fmt.Sprintf("the line separator U+%04X", r), true
		case unicode.Is(unicode.Zs, r) && r != ' ':
			return r, fmt.Sprintf("the non-ASCII space U+%04X", r), true
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
			return r, fmt.Sprintf("the invisible character U+%04X", r), true
		}
	}
	return 0, "", false
}

// CheckValue applies the rules of BadRune and MaxValueLen to a value that
// does not come from the configuration (a --var of `timer install`). The
// error never quotes the value.
func CheckValue(what, s string) error {
	if _, desc, bad := BadRune(s, false); bad {
		return fmt.Errorf("%s holds %s, which cannot reach a unit file or a command line; remove it", what, desc)
	}
	if len(s) > MaxValueLen {
		return fmt.Errorf("%s is %d bytes, more than the %d a value may have", what, len(s), MaxValueLen)
	}
	return nil
}

// checkText checks attribute name's value s (an element of it).
func (a *attrs) checkText(name, s string, rng hcl.Range, multiline bool) bool {
	return a.checkTextAs("the value of "+name, s, rng, multiline, false)
}

// checkTextAs checks s, described as what; a secret is described without
// naming its characters or quoting it.
func (a *attrs) checkTextAs(what, s string, rng hcl.Range, multiline, secret bool) bool {
	if _, desc, bad := BadRune(s, multiline); bad {
		if secret {
			desc = "a control, invisible or non-UTF-8 character"
		}
		a.l.errorf(&rng, "Invalid character in value",
			"%s holds %s. Remove it: newlines and control characters would start new lines of a unit file, and invisible characters and non-ASCII spaces make what runs differ from what a person reads.", capital(what), desc)
		return false
	}
	if !multiline && len(s) > MaxValueLen {
		a.l.errorf(&rng, "Value too long",
			"%s is %d bytes. A value that reaches a unit file or a command line must be at most %d: podman and docker read environment files in lines of at most 64 KiB, and Linux passes at most 128 KiB per argument.", capital(what), len(s), MaxValueLen)
		return false
	}
	return true
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
