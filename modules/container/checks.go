package container

import (
	"fmt"
	"unicode"

	"seconf/config"
)

// checkToken holds a value that names something (an image, a port, a user,
// an SELinux type) to what every rendering can carry unchanged. Quadlet
// copies such values raw and strips surrounding whitespace and double quotes
// from them, and a trailing backslash continues the line in any unit file;
// none of these belongs in such a name, so they are refused rather than
// escaped. A leading '-' would make the value an option of podman or
// docker wherever it stands alone on the command line.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if s[0] == '-' {
		return fmt.Errorf("%s %q starts with '-', which podman and docker would read as an option; remove it", what, s)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\'' || r == '\\' || !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q holds %q, which cannot reach a unit file unchanged; remove it", what, s, r)
		}
	}
	return nil
}

// checkText holds free text (a command argument) to config's rules for
// every value: no control, invisible or non-UTF-8 characters (C1 controls
// included, because quadlet writes U+0080 as a lone byte).
func checkText(what, s string) error {
	if _, desc, bad := config.BadRune(s, false); bad {
		return fmt.Errorf("%s %q holds %s; remove it", what, s, desc)
	}
	return nil
}
