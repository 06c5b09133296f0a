package container

import (
	"path"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/modules/units"
)

// optionInput is one fuzzed container with the option values of every
// kind: free text quadlet copies raw (health_cmd, entrypoint), a token
// (dns, ip), a map value (label, annotation), a host path in a mount, a
// systemd setting's value (one where systemd resolves specifiers, one
// where it does not), and a bool.
type optionInput struct {
	text, token, mapValue, mountSource, setting string
	flag                                        bool
}

func (in optionInput) container() *config.Container {
	return ctr("fuzzopts", func(c *config.Container) {
		setOpts(c,
			"health_cmd", in.text, "entrypoint", in.text,
			"dns", []string{in.token}, "ip", in.token,
			"label", map[string]string{"k": in.mapValue}, "annotation", map[string]string{"a": in.mapValue},
			"mount", []string{"type=bind,source=" + in.mountSource + ",destination=/m"},
			"read_only", in.flag, "run_init", in.flag,
		)
		c.Unit = []config.SystemdSetting{{Key: "Documentation", Values: []string{in.setting}}}
		c.Service = []config.SystemdSetting{{Key: "TimeoutStartSec", Values: []string{in.setting}}}
	})
}

// plain has the same shape with values that need no escaping.
func (in optionInput) plain() optionInput {
	return optionInput{"true", "10.0.0.1", "v", "/srv", "9", in.flag}
}

// valid is what config lets through: UTF-8 that config.BadRune passes.
func (in optionInput) valid() bool {
	for _, s := range []string{in.text, in.token, in.mapValue, in.mountSource, in.setting} {
		if _, _, bad := config.BadRune(s, false); !utf8.ValidString(s) || bad {
			return false
		}
	}
	return true
}

// refused restates the rules (doc.go) independently of the code.
func (in optionInput) refused(docker bool) bool {
	control := func(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }
	token := func(s string) bool {
		return s == "" || control(s) || strings.HasPrefix(s, "-") || strings.ContainsAny(s, `"'\`) ||
			strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0
	}
	raw := func(s string) bool {
		return s == "" || control(s) || strings.HasPrefix(s, "-") || strings.TrimFunc(s, unicode.IsSpace) != s ||
			strings.HasPrefix(s, `"`) || strings.HasSuffix(s, `"`) || strings.HasSuffix(s, `\`)
	}
	setting := func(s string) bool {
		return s == "" || control(s) || strings.TrimFunc(s, unicode.IsSpace) != s || strings.HasSuffix(s, `\`)
	}
	if raw(in.text) || token(in.token) || control(in.mapValue) || setting(in.setting) {
		return true
	}
	// docker's --entrypoint is one executable: podman's JSON array form
	// (the text is also the entrypoint) is refused.
	if docker && strings.HasPrefix(in.text, "[") {
		return true
	}
	// The mount: fields split at commas, none empty, no quotes; one type
	// and one source, which is an absolute, normalised host path without
	// whitespace, '$' or a leading '-'.
	src := in.mountSource
	fields := strings.Split("type=bind,source="+src+",destination=/m", ",")
	types, sources := 0, 0
	for _, f := range fields {
		k, _, _ := strings.Cut(f, "=")
		switch {
		case f == "":
			return true
		case k == "type":
			types++
		case k == "source" || k == "src":
			sources++
		case docker && (k == "relabel" || k == "z" || k == "Z" || k == "U" || k == "chown" || k == "idmap" || k == "no-dereference" || k == "subpath" || k == "volume-subpath"):
			return true
		}
	}
	src, _, _ = strings.Cut(src, ",")
	return types != 1 || sources != 1 || strings.ContainsAny(in.mountSource, `"'`) || token(src) ||
		!path.IsAbs(src) || path.Clean(src) != src || strings.Contains(src, "$")
}

func fuzzOptions(t *testing.T, in optionInput, rendering string, render func(*config.Container, Links) ([]units.File, error)) {
	if !in.valid() {
		t.Skip("config refuses this input")
	}
	c := in.container()
	files, err := render(c, Links{})
	if refused := in.refused(rendering == "docker service"); refused != (err != nil) {
		t.Fatalf("refused by the rules: %v; render error: %v", refused, err)
	}
	if err != nil {
		return
	}
	for _, f := range files {
		for _, l := range strings.Split(string(f.Data), "\n") {
			if len(l) >= unit.SYSTEMD_LINE_MAX { // the line and its newline must fit
				t.Skip("a line longer than the checker reads")
			}
		}
	}
	ref, err := render(in.plain().container(), Links{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(parseUnit(t, ref[0].Data).keys(), parseUnit(t, files[0].Data).keys()); d != "" {
		t.Fatalf("options differ from the plain rendering's (-plain +fuzzed):\n%s\n%s", d, files[0].Data)
	}
	checkParseBack(t, rendering, c, Links{}, files)
}

func FuzzRenderOptions(f *testing.F) {
	f.Add("curl -f http://localhost/ || exit 1", "9.9.9.9", "front end", "/srv/web", "900", true)
	f.Add(`sh -c "echo $HOME 100%"`, "fd00::1", `say "hi" $x %n`, "/srv/a%b", "https://example.com/100%", false)
	f.Add(`"quoted"`, "a b", "\u0085", "/srv,Z", "%t/x", true)
	f.Add("x\\", "-x", "", "/srv/$x", " 9", false)
	f.Add("ünï côdé", "ünï", "ünï", "/srv/ünï", "ünï", true)
	f.Fuzz(func(t *testing.T, text, token, mapValue, mountSource, setting string, flag bool) {
		in := optionInput{text, token, mapValue, mountSource, setting, flag}
		for _, r := range renderings {
			t.Run(r.name, func(t *testing.T) { fuzzOptions(t, in, r.name, r.render) })
		}
	})
}

// FuzzRenderNamed fuzzes a volume's and a network's values: a label value
// (free text), an option token, and checks that each reaches the create
// command as one word, exactly, in every rendering.
func FuzzRenderNamed(f *testing.F) {
	f.Add("web site", "size=64m", "10.89.0.0/24")
	f.Add(`100% "$HOME"`, "-o", "a b")
	f.Add("\u0085", "x\\", "")
	f.Fuzz(func(t *testing.T, labelValue, option, subnet string) {
		for _, s := range []string{labelValue, option, subnet} {
			if _, _, bad := config.BadRune(s, false); !utf8.ValidString(s) || bad {
				t.Skip("config refuses this input")
			}
		}
		token := func(s string) bool {
			return s == "" || strings.HasPrefix(s, "-") || strings.ContainsAny(s, `"'\`) ||
				strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) || unicode.IsControl(r) }) >= 0
		}
		v := vol("fz", func(v *config.NamedVolume) {
			v.Device, v.Type, v.Options = "tmpfs", "tmpfs", option
			v.Label = map[string]string{"k": labelValue}
		})
		n := netw("fz", func(n *config.Network) {
			n.Subnet = []string{subnet}
			n.Label = map[string]string{"k": labelValue}
		})
		control := strings.IndexFunc(labelValue, unicode.IsControl) >= 0
		// An empty options value is no options at all.
		volWant := []string{"--opt", "o=" + option, "--label", "k=" + labelValue}
		if option == "" {
			volWant = volWant[2:]
		}
		for _, tc := range []struct {
			blk     any
			refused bool
			want    []string // words the create command must hold
		}{
			{v, control || option != "" && token(option), volWant},
			{n, control || token(subnet), []string{"--subnet", subnet, "--label", "k=" + labelValue}},
		} {
			for name, r := range namedRenderings(tc.blk) {
				u, err := r()
				if tc.refused != (err != nil) {
					t.Fatalf("%s: refused by the rules: %v; render error: %v", name, tc.refused, err)
				}
				if err != nil {
					continue
				}
				for _, l := range strings.Split(string(u.Files[0].Data), "\n") {
					if len(l) >= unit.SYSTEMD_LINE_MAX { // the line and its newline must fit
						t.Skip("a line longer than the checker reads")
					}
				}
				o := parseUnit(t, u.Files[0].Data)
				if name == "quadlet" {
					// quadlet reads Label= as Environment= words, the
					// rest as written; it copies both into ExecStart=.
					sec := map[bool]string{true: "Volume", false: "Network"}[tc.blk == any(v)]
					if got := quadletReads(t, config.ReadKeyVal, o.one(t, sec+".Label")); !cmp.Equal(got, []string{"k=" + labelValue}) {
						t.Errorf("quadlet reads Label= as %q", got)
					}
					key, want := "Volume.Options", option
					if sec == "Network" {
						key, want = "Network.Subnet", subnet
					}
					if want == "" {
						if len(o[key]) != 0 {
							t.Errorf("%s= written for no options: %q", key, o[key])
						}
						continue
					}
					if got := quadletReads(t, config.ReadRaw, o.one(t, key)); !cmp.Equal(got, []string{want}) {
						t.Errorf("quadlet reads %s as %q, want %q", key, got, want)
					}
					continue
				}
				args, err := argv(o.one(t, "Service.ExecStart"))
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(tc.want); i += 2 {
					if !hasPair(args, tc.want[i], tc.want[i+1]) {
						t.Errorf("%s: no %s %q in %q", name, tc.want[i], tc.want[i+1], args)
					}
				}
			}
		}
	})
}
