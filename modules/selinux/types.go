package selinux

import (
	"regexp"
)

var cilTypeRe = regexp.MustCompile(`(?m)^\s*\(type\s+([^\s()]+)\s*\)`)

// declaredTypes lists the types a module's CIL declares.
func declaredTypes(cil []byte) []string {
	var out []string
	for _, m := range cilTypeRe.FindAllSubmatch(cil, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

func trimT(t string) string {
	if len(t) > 2 && t[len(t)-2:] == "_t" {
		return t[:len(t)-2]
	}
	return t
}
