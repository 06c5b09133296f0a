package containerstore

import (
	"fmt"
	"strings"
)

// Ref is an image reference split into its parts: Domain/Path[:Tag][@Digest].
type Ref struct {
	Domain string // "" when the reference names none (a short name)
	Path   string
	Tag    string
	Digest string // sha256:HEX
}

// The grammar of distribution's reference package, matched by hand: these
// run in every plan with a container, and compiling their regular
// expressions was most of what a no-change run of a small configuration
// allocated.

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

// pathComponent: [a-z0-9]+ joined by ".", "_", "__" or runs of "-".
func pathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator not between two runs
		}
		if i == len(s) {
			return true
		}
		switch s[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// validTag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || !isAlnum(s[0]) && s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDigest: sha256: and 64 lower-case hex digits.
func validDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validDomain: DNS labels (alphanumerics, inner hyphens) joined by dots,
// then an optional :PORT.
func validDomain(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort {
		if port == "" {
			return false
		}
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return false
			}
		}
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || !isAlnum(label[0]) || !isAlnum(label[len(label)-1]) {
			return false
		}
		for i := 1; i < len(label)-1; i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// ParseRef parses an image reference as podman and docker read one; a
// digest must be sha256 (the only one either pulls by).
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
		if !validDigest(r.Digest) {
			return Ref{}, fmt.Errorf("image %q: the digest %q is not sha256: followed by 64 lower-case hex digits", s, r.Digest)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !validTag(r.Tag) {
			return Ref{}, fmt.Errorf("image %q: %q is not a tag", s, r.Tag)
		}
	}
	first, after, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !validDomain(first) {
			return Ref{}, fmt.Errorf("image %q: %q is not a registry name", s, first)
		}
		r.Domain, rest = first, after
	}
	for _, c := range strings.Split(rest, "/") {
		if !pathComponent(c) {
			return Ref{}, fmt.Errorf("image %q: %q is not a repository name (lower-case letters, digits, separators)", s, c)
		}
	}
	r.Path = rest
	return r, nil
}

// Repo is the fully qualified repository: docker.io/library/busybox for
// busybox, as podman names images in its store.
func (r Ref) Repo() string {
	d, p := r.Domain, r.Path
	if d == "" {
		d = "docker.io"
	}
	if d == "docker.io" && !strings.Contains(p, "/") {
		p = "library/" + p
	}
	return d + "/" + p
}

// Names are the names an image of this reference carries in podman's
// store, fully qualified: REPO:TAG (latest when neither tag nor digest is
// given) and REPO@DIGEST.
func (r Ref) Names() []string {
	var out []string
	switch {
	case r.Tag != "":
		out = append(out, r.Repo()+":"+r.Tag)
	case r.Digest == "":
		out = append(out, r.Repo()+":latest")
	}
	if r.Digest != "" {
		out = append(out, r.Repo()+"@"+r.Digest)
	}
	return out
}

// Familiar is a name as docker keeps it in repositories.json: docker.io/
// and library/ left out.
func Familiar(name string) string {
	n := strings.TrimPrefix(name, "docker.io/")
	if n != name {
		n = strings.TrimPrefix(n, "library/")
	}
	return n
}
