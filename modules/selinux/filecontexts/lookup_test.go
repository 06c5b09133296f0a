package filecontexts

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ctx builds a test context string of type t.
func ctx(t string) string { return "system_u:object_r:" + t + ":s0" }

type probe struct {
	path string
	ft   FileType
	want string // a type name, or "<<none>>"
}

// TestLookupRules checks libselinux's rules one at a time on small file
// sets. Each expectation is also put to matchpathcon on the same files, so
// the table says what libselinux does, not what this package thinks it does.
func TestLookupRules(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		probes []probe
	}{{
		name:  "the last matching regex wins",
		files: map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/srv/.*\t" + ctx("var_t") + "\n/srv/www(/.*)?\t" + ctx("httpd_sys_content_t") + "\n/srv/.*\t" + ctx("etc_t") + "\n"},
		probes: []probe{
			{"/srv/www/index.html", Regular, "etc_t"},
			{"/srv", Directory, "default_t"},
			{"/opt", Directory, "default_t"},
		},
	}, {
		name: "an exact path beats any regex, even a later one",
		files: map[string]string{
			"file_contexts":       "/srv/data\t" + ctx("var_t") + "\n/srv/.*\t" + ctx("etc_t") + "\n",
			"file_contexts.local": "/srv/d.ta\t" + ctx("tmp_t") + "\n",
		},
		probes: []probe{{"/srv/data", Any, "var_t"}, {"/srv/dxta", Any, "tmp_t"}, {"/srv/other", Any, "etc_t"}},
	}, {
		name: "escaped dots keep a path exact",
		files: map[string]string{
			"file_contexts":       "/etc/foo\\.conf\t" + ctx("etc_t") + "\n",
			"file_contexts.local": "/etc/foo.conf\t" + ctx("tmp_t") + "\n",
		},
		probes: []probe{{"/etc/foo.conf", Regular, "etc_t"}, {"/etc/fooxconf", Regular, "tmp_t"}},
	}, {
		name: ".local overrides the policy among regexes and among exact paths",
		files: map[string]string{
			"file_contexts":       "/var/log(/.*)?\t" + ctx("var_log_t") + "\n/var/log/app\t" + ctx("var_log_t") + "\n",
			"file_contexts.local": "/var/log/a.*\t" + ctx("tmp_t") + "\n/var/log/app\t" + ctx("etc_t") + "\n",
		},
		probes: []probe{{"/var/log/app", Directory, "etc_t"}, {"/var/log/apx", Directory, "tmp_t"}, {"/var/log/b", Directory, "var_log_t"}},
	}, {
		name: "homedirs come between the policy and .local",
		files: map[string]string{
			"file_contexts":          "/home/[^/]+/.*\t" + ctx("etc_t") + "\n",
			"file_contexts.homedirs": "/home/[^/]+/.+\t" + ctx("user_home_t") + "\n",
			"file_contexts.local":    "/home/[^/]+/w.*\t" + ctx("tmp_t") + "\n",
		},
		probes: []probe{{"/home/u/x", Regular, "user_home_t"}, {"/home/u/www", Regular, "tmp_t"}},
	}, {
		name:  "typed specs match only their type; type 0 matches every spec",
		files: map[string]string{"file_contexts": "/t(/.*)?\t" + ctx("var_t") + "\n/t/x\t--\t" + ctx("etc_t") + "\n/t/x\t-d\t" + ctx("tmp_t") + "\n/t/l.*\t-l\t" + ctx("bin_t") + "\n/t/s.*\t-s\t" + ctx("lib_t") + "\n/t/p.*\t-p\t" + ctx("usr_t") + "\n/t/b.*\t-b\t" + ctx("device_t") + "\n/t/c.*\t-c\t" + ctx("tty_device_t") + "\n"},
		probes: []probe{
			{"/t/x", Regular, "etc_t"}, {"/t/x", Directory, "tmp_t"}, {"/t/x", Symlink, "var_t"}, {"/t/x", Any, "tmp_t"},
			{"/t/l1", Symlink, "bin_t"}, {"/t/l1", Regular, "var_t"}, {"/t/l1", Any, "bin_t"},
			{"/t/s1", Socket, "lib_t"}, {"/t/p1", NamedPipe, "usr_t"}, {"/t/b1", BlockDevice, "device_t"}, {"/t/c1", CharDevice, "tty_device_t"},
			{"/t/c1", BlockDevice, "var_t"},
		},
	}, {
		name:   "<<none>> decides: no label",
		files:  map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/tmp/.*\t<<none>>\n/tmp/keep\t" + ctx("tmp_t") + "\n"},
		probes: []probe{{"/tmp/x", Regular, "<<none>>"}, {"/tmp/keep", Regular, "tmp_t"}, {"/tmp", Directory, "default_t"}},
	}, {
		name:   "no spec matches",
		files:  map[string]string{"file_contexts": "/srv/.*\t" + ctx("var_t") + "\n"},
		probes: []probe{{"/opt/x", Regular, "<<none>>"}, {"/srv", Directory, "<<none>>"}},
	}, {
		name:  "repeated and trailing slashes",
		files: map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/a/b\t" + ctx("etc_t") + "\n/\t" + ctx("root_t") + "\n"},
		probes: []probe{
			{"/a//b", Regular, "etc_t"}, {"//a///b/", Regular, "etc_t"}, {"/a/b/", Directory, "etc_t"},
			{"/", Directory, "root_t"}, {"//", Directory, "root_t"},
		},
	}, {
		name: "equivalences: alias and what is under it",
		files: map[string]string{
			"file_contexts":      "/.*\t" + ctx("default_t") + "\n/var/www(/.*)?\t" + ctx("httpd_sys_content_t") + "\n",
			"file_contexts.subs": "/srv/x /var/www\n",
		},
		probes: []probe{
			{"/srv/x", Directory, "httpd_sys_content_t"}, {"/srv/x/a", Regular, "httpd_sys_content_t"},
			{"/srv/xy", Regular, "default_t"}, {"/srv", Directory, "default_t"},
		},
	}, {
		name: "equivalences: the last line of a file wins",
		files: map[string]string{
			"file_contexts":      "/.*\t" + ctx("default_t") + "\n/one(/.*)?\t" + ctx("etc_t") + "\n/two(/.*)?\t" + ctx("tmp_t") + "\n",
			"file_contexts.subs": "/a /one\n/a/b /two\n# comment\n/a/b/c /one\n",
		},
		probes: []probe{{"/a/b/x", Regular, "tmp_t"}, {"/a/x", Regular, "etc_t"}, {"/a/b/c/d", Regular, "etc_t"}},
	}, {
		name: "equivalences: .subs first, then .subs_dist on its result",
		files: map[string]string{
			"file_contexts":           "/.*\t" + ctx("default_t") + "\n/usr/lib(/.*)?\t" + ctx("lib_t") + "\n/lib(/.*)?\t" + ctx("etc_t") + "\n/srv/x(/.*)?\t" + ctx("tmp_t") + "\n",
			"file_contexts.subs":      "/data/lib /lib\n/lib /srv/x\n",
			"file_contexts.subs_dist": "/lib /usr/lib\n",
		},
		probes: []probe{{"/data/lib/a", Regular, "lib_t"}, {"/lib/a", Regular, "tmp_t"}},
	}, {
		name: "equivalence to /",
		files: map[string]string{
			"file_contexts":      "/.*\t" + ctx("default_t") + "\n/etc(/.*)?\t" + ctx("etc_t") + "\n/\t" + ctx("root_t") + "\n",
			"file_contexts.subs": "/chroot /\n",
		},
		probes: []probe{{"/chroot/etc/x", Regular, "etc_t"}, {"/chroot", Directory, "root_t"}},
	}, {
		name:  "a regex is tried only for paths of its stem",
		files: map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/usr/?\t" + ctx("usr_t") + "\n/a\\-b/.*\t" + ctx("etc_t") + "\n/c\\.d/.*\t" + ctx("bin_t") + "\n/x(/.*)?\t" + ctx("tmp_t") + "\n"},
		probes: []probe{
			{"/usr", Directory, "default_t"}, // "/usr/?" has the stem /usr, which "/usr" lacks
			{"/a-b/c", Regular, "default_t"}, // the stem `/a\-b` is no path's stem
			{"/c.d/e", Regular, "bin_t"},     // `/c\.d` has a metacharacter: no stem, always tried
			{"/x/y", Regular, "tmp_t"},
		},
	}, {
		name:  "a top-level | is anchored at one end only",
		files: map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/opt/a|/b\t" + ctx("etc_t") + "\n"},
		probes: []probe{
			{"/opt/a", Regular, "etc_t"}, {"/opt/ab", Regular, "etc_t"}, {"/opt/x/b", Regular, "etc_t"}, {"/opt/bx", Regular, "default_t"},
		},
	}, {
		name:   "a path ending in a newline matches $ before it",
		files:  map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/n/x\t" + ctx("etc_t") + "\n/n/y[0-9]\t" + ctx("tmp_t") + "\n"},
		probes: []probe{{"/n/x\n", Regular, "etc_t"}, {"/n/y1\n", Regular, "tmp_t"}, {"/n/x\n\n", Regular, "default_t"}},
	}, {
		name:   "bytes, not UTF-8 characters",
		files:  map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/u/.\t" + ctx("etc_t") + "\n/u/..\t" + ctx("tmp_t") + "\n/u/[^a]{3}\t" + ctx("bin_t") + "\n"},
		probes: []probe{{"/u/é", Regular, "tmp_t"}, {"/u/\xff", Regular, "etc_t"}, {"/u/€", Regular, "bin_t"}},
	}, {
		name:  "PCRE2 classes RE2 reads differently",
		files: map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/w/a\\sb\t" + ctx("etc_t") + "\n/w/c\\vd\t" + ctx("tmp_t") + "\n/w/e[\\s]f\t" + ctx("bin_t") + "\n/w/g\\hh\t" + ctx("lib_t") + "\n"},
		probes: []probe{
			{"/w/a\vb", Regular, "etc_t"}, {"/w/a b", Regular, "etc_t"}, {"/w/c\nd", Regular, "tmp_t"}, {"/w/cvd", Regular, "default_t"},
			{"/w/e\vf", Regular, "bin_t"}, {"/w/g\th", Regular, "lib_t"},
		},
	}, {
		name:   "dot matches a newline",
		files:  map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n/d/a.b\t" + ctx("etc_t") + "\n"},
		probes: []probe{{"/d/a\nb", Regular, "etc_t"}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fc := writeFiles(t, c.files)
			s := openDir(t, fc)
			var got, want []string
			for _, p := range c.probes {
				got = append(got, typeOf(ours(s, p.path, p.ft)))
				want = append(want, p.want)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("package (-want +got):\n%s", d)
			}
			var tool []string
			for _, p := range c.probes {
				tool = append(tool, typeOf(matchpathcon(t, fc, p.ft, []string{p.path})[0]))
			}
			if d := cmp.Diff(want, tool); d != "" {
				t.Errorf("matchpathcon (-want +got):\n%s", d)
			}
		})
	}
}

// typeOf is the type of a context string, or "<<none>>".
func typeOf(c string) string {
	if c == "<<none>>" {
		return c
	}
	if f := strings.Split(c, ":"); len(f) >= 3 {
		return f[2]
	}
	return "bad context " + c
}

func TestMatchExplains(t *testing.T) {
	s, err := Load(
		File{Name: "fc", Kind: Specs, Data: []byte("/.*\t" + ctx("default_t") + "\n/var/www(/.*)?\t" + ctx("httpd_sys_content_t") + "\n")},
		File{Name: "fc.subs", Kind: Subs, Data: []byte("/srv/www /var/www\n")},
	)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Match("/srv/www//index.html/", Regular)
	got := fmt.Sprintf("%s %s:%d %v %s", m.Path, m.Spec.File, m.Spec.Line, len(m.Equivalences), m.Spec.Context.Type)
	if want := "/var/www/index.html fc:2 1 httpd_sys_content_t"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if m.Equivalences[0].From != "/srv/www" || m.Equivalences[0].Line != 1 {
		t.Errorf("equivalence %+v", m.Equivalences[0])
	}
}
