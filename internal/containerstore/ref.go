package containerstore

import (
	"fmt"
	"seconf/internal/lazyre"
	"strings"
)

// Ref is an image reference split into its parts: Domain/Path[:Tag][@Digest].
type Ref struct {
	Domain string // "" when the reference names none (a short name)
	Path   string
	Tag    string
	Digest string // sha256:HEX
}

var (
	pathComponent = lazyre.New(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)
	tagRe         = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe      = lazyre.New(`^sha256:[a-f0-9]{64}$`)
	domainRe      = lazyre.New(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$`)
)

// ParseRef parses an image reference as podman and docker read one; a
// digest must be sha256 (the only one either pulls by).
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
		if !digestRe.MatchString(r.Digest) {
			return Ref{}, fmt.Errorf("image %q: the digest %q is not sha256: followed by 64 lower-case hex digits", s, r.Digest)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !tagRe.MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("image %q: %q is not a tag", s, r.Tag)
		}
	}
	first, after, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !domainRe.MatchString(first) {
			return Ref{}, fmt.Errorf("image %q: %q is not a registry name", s, first)
		}
		r.Domain, rest = first, after
	}
	for _, c := range strings.Split(rest, "/") {
		if !pathComponent.MatchString(c) {
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
