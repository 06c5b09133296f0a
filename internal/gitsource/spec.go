package gitsource

import (
	"fmt"
	"net/url"
	"path"
	"seconf/internal/lazyre"
	"strings"
)

// Prefix starts every source: it says what kind of source the rest is.
const Prefix = "git+"

// Spec is a parsed --source value: git+URL[#REF].
type Spec struct {
	// URL is what git fetches from: https, http, ssh, git or file.
	URL string
	// Ref is the branch, tag or other ref to follow; "" follows the
	// remote's HEAD.
	Ref string
}

// schemes are the transports seconf lets git use. Signatures, not the
// transport, are what seconf trusts, so plain http and git:// are as good
// as https for integrity (not for secrecy). ext:: and other remote
// helpers, which run a command named in the URL, are not among them.
var schemes = map[string]bool{"https": true, "http": true, "ssh": true, "git": true, "file": true}

// refPattern is a conservative subset of git's ref names: nothing git
// would read as a revision expression (^ ~ : .. @{), an option or a
// refspec.
var refPattern = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9._/+-]*$`)

// Parse reads git+URL[#REF].
func Parse(s string) (Spec, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Spec{}, fmt.Errorf("source %q: write git+URL[#REF] (git+https://git.example.com/fleet.git#main)", s)
	}
	var sp Spec
	if i := strings.LastIndexByte(rest, '#'); i >= 0 {
		rest, sp.Ref = rest[:i], rest[i+1:]
		if err := checkRef(sp.Ref); err != nil {
			return Spec{}, fmt.Errorf("source %q: %w", Redact(s), err)
		}
	}
	if err := checkURL(rest); err != nil {
		return Spec{}, fmt.Errorf("source %q: %w", Redact(s), err)
	}
	sp.URL = rest
	return sp, nil
}

func checkRef(ref string) error {
	switch {
	case ref == "":
		return fmt.Errorf("empty ref after '#': name a branch or tag, or leave '#' out for the remote's HEAD")
	case !refPattern.MatchString(ref), strings.Contains(ref, ".."), strings.Contains(ref, "//"),
		strings.HasSuffix(ref, "/"), strings.HasSuffix(ref, "."), strings.HasSuffix(ref, ".lock"):
		return fmt.Errorf("ref %q: give a branch or tag name (letters, digits, . _ / + -)", ref)
	}
	return nil
}

func checkURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("no URL after %s", Prefix)
	}
	if strings.HasPrefix(raw, "-") {
		return fmt.Errorf("a URL may not start with '-' (git would read it as an option)")
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("the URL holds a space or control character")
		}
	}
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok || strings.Contains(scheme, "::") {
		if strings.Contains(raw, "::") {
			return fmt.Errorf("remote helpers (TRANSPORT::ADDRESS, such as ext::) run commands: not allowed")
		}
		return fmt.Errorf("give the URL with its scheme (https://, ssh://, git://, file://); for scp-like user@host:path write ssh://user@host/path")
	}
	if !schemes[scheme] {
		return fmt.Errorf("transport %q is not allowed: use https, http, ssh, git or file", scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if scheme == "file" {
		if u.Host != "" || !path.IsAbs(u.Path) {
			return fmt.Errorf("write a local repository as file:///absolute/path")
		}
		return nil
	}
	// ssh://-oProxyCommand=... would reach ssh as an option.
	if h := u.Hostname(); h == "" || strings.HasPrefix(h, "-") {
		return fmt.Errorf("the URL has no host, or one starting with '-'")
	}
	// "::" is how git spells a remote helper (TRANSPORT::ADDRESS): outside
	// an IPv6 address's brackets ([::1]) it is refused anywhere, rather
	// than trusting every git to look for it only after the scheme.
	if strings.Contains(ipv6Literal.ReplaceAllString(raw, ""), "::") {
		return fmt.Errorf("the URL holds '::' outside an IPv6 address in brackets (as [::1]); git reads TRANSPORT::ADDRESS as a remote helper")
	}
	if u.User != nil && strings.HasPrefix(u.User.Username(), "-") {
		return fmt.Errorf("the URL's user starts with '-'")
	}
	if u.User != nil && scheme == "git" {
		// git:// has no authentication: git reads user@host as the host
		// name, and prints it, password and all, in its errors.
		return fmt.Errorf("git:// takes no user or password: leave them out, or use https:// or ssh://")
	}
	authority := strings.TrimPrefix(raw, scheme+"://")
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Count(authority, "@") > 1 {
		// Neither git nor curl reads such a URL, and the part after the
		// first '@' would be taken for the host, in errors too.
		return fmt.Errorf("the URL's user or password holds '@': write it as %%40")
	}
	return nil
}

// String is the source as written on the command line.
func (s Spec) String() string {
	out := Prefix + s.URL
	if s.Ref != "" {
		out += "#" + s.Ref
	}
	return out
}

// Redacted is String without credentials, for output and the state record.
func (s Spec) Redacted() string { return Redact(s.String()) }

// Credentials reports whether the URL carries a password or token, which
// would be readable wherever the source is written down.
func (s Spec) Credentials() bool { return Redact(s.URL) != s.URL }

// ipv6Literal is an IPv6 address in a URL's brackets.
var ipv6Literal = lazyre.New(`\[[0-9A-Fa-f:.]*\]`)

var (
	// The user information runs to the authority's last '@': a password
	// may hold one that should have been written %40.
	httpUser     = lazyre.New(`\b(https?)://[^/?#\s'"]*@`)
	userPassword = lazyre.New(`\b([a-z]+)://([^/?#@:\s'"]*):[^/?#\s'"]*@`)
)

// Redact hides, wherever a URL appears in s, the user information of http
// and https URLs (a token is often the user name) and the password of any
// other.
func Redact(s string) string {
	s = httpUser.ReplaceAllString(s, "${1}://REDACTED@")
	return userPassword.ReplaceAllString(s, "${1}://${2}:REDACTED@")
}
