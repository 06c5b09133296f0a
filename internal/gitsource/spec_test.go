package gitsource

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Spec
		err      string
	}{
		{"https-branch", "git+https://git.example.com/fleet.git#main", Spec{URL: "https://git.example.com/fleet.git", Ref: "main"}, ""},
		{"remote-head", "git+ssh://git@git.example.com:2222/fleet.git", Spec{URL: "ssh://git@git.example.com:2222/fleet.git"}, ""},
		{"tag-path", "git+git://127.0.0.1/fleet.git#release/v1.2", Spec{URL: "git://127.0.0.1/fleet.git", Ref: "release/v1.2"}, ""},
		{"file", "git+file:///srv/fleet.git#main", Spec{URL: "file:///srv/fleet.git", Ref: "main"}, ""},
		{"no-prefix", "https://git.example.com/fleet.git", Spec{}, "write git+URL"},
		{"dash", "git+-uhttps://x/y", Spec{}, "may not start with '-'"},
		{"ext", "git+ext::sh -c touch% /tmp/pwned", Spec{}, "space"},
		{"ext-no-space", "git+ext::/tmp/evil", Spec{}, "remote helpers"},
		{"fd", "git+fd::17", Spec{}, "remote helpers"},
		{"scp-like", "git+git@github.com:org/fleet.git", Spec{}, "scp-like"},
		{"unknown-scheme", "git+ftp://x/y.git", Spec{}, `transport "ftp" is not allowed`},
		{"ssh-option-host", "git+ssh://-oProxyCommand=x/y", Spec{}, "starting with '-'"},
		{"ssh-option-user", "git+ssh://-oProxyCommand=x@host/y", Spec{}, "user starts with '-'"},
		{"file-relative", "git+file://srv/fleet.git", Spec{}, "file:///absolute/path"},
		{"empty-ref", "git+https://x/y.git#", Spec{}, "empty ref"},
		{"ref-expression", "git+https://x/y.git#main~1", Spec{}, "give a branch or tag name"},
		{"ref-refspec", "git+https://x/y.git#a:b", Spec{}, "give a branch or tag name"},
		{"ref-option", "git+https://x/y.git#-main", Spec{}, "give a branch or tag name"},
		{"ref-dots", "git+https://x/y.git#a..b", Spec{}, "give a branch or tag name"},
		{"newline", "git+https://x/y.git\n#main", Spec{}, "control character"},
		{"ipv6", "git+ssh://git@[::1]:2222/fleet.git", Spec{URL: "ssh://git@[::1]:2222/fleet.git"}, ""},
		{"colons-host", "git+ssh://::", Spec{}, "'::' outside an IPv6 address"},
		{"colons-path", "git+http://h/a::b", Spec{}, "'::' outside an IPv6 address"},
		// git:// has no authentication: git took user:pw@host for the host
		// and printed it in its error, password and all.
		{"git-password", "git+git://u:pw@127.0.0.1/x", Spec{}, "git:// takes no user or password"},
		{"git-user", "git+git://u@127.0.0.1/x", Spec{}, "git:// takes no user or password"},
		{"at-in-password", "git+https://u:p@ss@h/x.git", Spec{}, "write it as %40"},
		{"at-in-query", "git+https://h/x.git?a=b@c@d", Spec{URL: "https://h/x.git?a=b@c@d"}, ""},
		{"encoded-at", "git+https://u:p%40ss@h/x.git#main", Spec{URL: "https://u:p%40ss@h/x.git", Ref: "main"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"token-user", "git+https://ghp_secret@github.com/o/r.git#main", "git+https://REDACTED@github.com/o/r.git#main"},
		{"user-password", "git+https://bot:hunter2@git.example.com/r.git", "git+https://REDACTED@git.example.com/r.git"},
		{"ssh-user-kept", "git+ssh://git@git.example.com/r.git", "git+ssh://git@git.example.com/r.git"},
		{"ssh-password", "git+ssh://git:pw@git.example.com/r.git", "git+ssh://git:REDACTED@git.example.com/r.git"},
		{"none", "git+https://git.example.com/r.git#main", "git+https://git.example.com/r.git#main"},
		{"at-in-path", "git+https://git.example.com/a@b/r.git", "git+https://git.example.com/a@b/r.git"},
		{"at-in-password", "git+https://u:p@ss@h/r.git", "git+https://REDACTED@h/r.git"},
		{"at-in-ssh-password", "git+ssh://u:p@ss@h/r.git", "git+ssh://u:REDACTED@h/r.git"},
		{"in-message", "fatal: unable to access 'https://tok@h/r.git/': 404", "fatal: unable to access 'https://REDACTED@h/r.git/': 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ name, in, want, err string }{
		{"top", "", "", ""},
		{"dot", ".", "", ""},
		{"sub", "hosts/web/", "hosts/web", ""},
		{"inner-dots", "hosts/../web", "web", ""},
		{"absolute", "/etc", "", "inside the repository"},
		{"escape", "../x", "", "inside the repository"},
		{"escape-later", "a/../../x", "", "inside the repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanPath(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("CleanPath(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParse: whatever Parse accepts is a URL of an allowed transport that
// git cannot read as an option or a remote helper, and a ref that is no
// revision expression, and it writes back as it was read.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"git+https://git.example.com/fleet.git#main", "git+ssh://git@h:22/r.git", "git+file:///srv/r.git",
		"git+ext::sh -c x", "git+-u/x", "git+ssh://-oProxyCommand=x/y", "git+https://h/r.git#a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sp, err := Parse(in)
		if err != nil {
			return
		}
		if sp.String() != in {
			t.Errorf("Parse(%q).String() = %q", in, sp.String())
		}
		scheme, _, _ := strings.Cut(sp.URL, "://")
		// "::" only inside an IPv6 address's brackets.
		unbracketed := ipv6Literal.ReplaceAllString(sp.URL, "")
		if !schemes[scheme] || strings.HasPrefix(sp.URL, "-") || strings.Contains(unbracketed, "::") || strings.ContainsAny(sp.URL, " \t\n\r\x00") {
			t.Errorf("Parse(%q) accepted URL %q", in, sp.URL)
		}
		if sp.Ref != "" && (strings.HasPrefix(sp.Ref, "-") || strings.ContainsAny(sp.Ref, ":^~ @{\\*?[") || strings.Contains(sp.Ref, "..")) {
			t.Errorf("Parse(%q) accepted ref %q", in, sp.Ref)
		}
	})
}
