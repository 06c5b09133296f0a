package container

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/internal/unitfile"
)

// quadletReads decodes a [Container] value as quadlet reads the key:
// the words of an Exec-like value, the value itself otherwise, with what
// systemd then makes of %% and $$ in ExecStart=.
func quadletReads(t testing.TB, read config.Read, v string) []string {
	t.Helper()
	switch read {
	case config.ReadArgs, config.ReadKeyVal:
		ws, err := argv(v)
		if err != nil {
			t.Fatal(err)
		}
		return ws
	case config.ReadWords:
		if strings.ContainsAny(v, " \t\"'\\") {
			t.Fatalf("a word-list value that quadlet would split or unquote: %q", v)
		}
	}
	return []string{mustUndollar(t, unspec(v))}
}

// wantQuadlet is what quadlet must read for an option: each value, a map
// as KEY=VALUE sorted, a mount with type= first and a named volume of a
// quadlet volume block as NAME.volume.
func wantQuadlet(c *config.Container, links Links, row config.ContainerOption, v config.OptionValue) []string {
	if row.Type == config.OptBool {
		if v.Bool {
			return []string{"true"}
		}
		return []string{"false"}
	}
	out := slices.Clone(v.Strings(row.Type))
	if row.Key == "Mount" {
		for i, m := range out {
			spec, err := config.ParseMount(m)
			if err != nil {
				panic(err)
			}
			if src, j, ok := spec.Source(); ok && spec.Type == "volume" {
				if l, linked := links.volumeByName(src); linked && l.Quadlet {
					spec.Fields[j] = "source=" + l.Block + ".volume"
				}
			}
			out[i] = spec.String()
		}
	}
	return out
}

// checkQuadletOptions: every option is in the .container file under its
// quadlet key, and quadlet reads back exactly the configured values.
func checkQuadletOptions(t testing.TB, c *config.Container, links Links, o opts) {
	t.Helper()
	for _, row := range config.ContainerOptions {
		v, set := c.Options[row.Attr]
		if row.Builtin {
			continue
		}
		var got []string
		for _, line := range o["Container."+row.Key] {
			got = append(got, quadletReads(t, row.Read, line)...)
		}
		var want []string
		// seconf's own lines come first: the sensitive environment's
		// file, privileged's --privileged.
		if row.Key == "EnvironmentFile" && slices.ContainsFunc(slices.Collect(maps.Values(c.Sensitive)), func(b bool) bool { return b }) {
			want = append(want, "/etc/seconf/env/"+c.Name+".env")
		}
		if row.Key == "PodmanArgs" && c.Privileged {
			want = append(want, "--privileged")
		}
		if set {
			want = append(want, wantQuadlet(c, links, row, v)...)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s= (%s) (-want +got):\n%s", row.Key, row.Attr, d)
		}
	}
}

// bareFlags take no value of their own on podman and docker run and on
// network/volume create (quadlet orders the create booleans as a map does,
// so a wrong list here passes or fails at random).
var bareFlags = []string{"-d", "--replace", "--rm", "--init", "--env-host", "--read-only-tmpfs", "--read-only", "--privileged",
	"--ignore", "--internal", "--ipv6", "--disable-dns"}

// flagValues reads a run command's options: each flag with the values it
// was given, in order. A bare flag has the value "", --flag=VALUE has
// VALUE; the words that are not flags are under "".
func flagValues(args []string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			// a word that is not a flag's value: the program, its
			// subcommands, the image and its arguments, in order
			out[""] = append(out[""], a)
			continue
		}
		if f, v, ok := strings.Cut(a, "="); ok {
			out[f] = append(out[f], v)
			continue
		}
		if slices.Contains(bareFlags, a) || i+1 == len(args) {
			out[a] = append(out[a], "")
			continue
		}
		out[a] = append(out[a], args[i+1])
		i++
	}
	return out
}

// wantRunFlags restates, from the table, what each option gives podman run
// (as quadlet generates it) or docker run: flag → values in order.
func wantRunFlags(c *config.Container, docker bool) map[string][]string {
	want := map[string][]string{}
	add := func(f, v string) { want[f] = append(want[f], v) }
	for _, row := range config.ContainerOptions {
		v, set := c.Options[row.Attr]
		flag := row.Podman
		if docker {
			flag = row.Docker
		}
		switch {
		case row.Key == "SecurityLabelType" && c.SELinuxType != "":
			add("--security-opt", "label=type:"+c.SELinuxType)
		case row.Key == "SecurityLabelLevel" && c.SELinuxLevel != "":
			add("--security-opt", "label=level:"+c.SELinuxLevel)
		case row.Key == "User" && c.User != "":
			u := c.User
			if g, ok := c.Options["group"]; ok {
				u += ":" + g.Str
			}
			add("--user", u)
		case row.Builtin, !set, row.Key == "Group", row.Key == "CgroupsMode", row.Key == "Notify":
		case row.Key == "PodmanArgs":
			for _, a := range v.List {
				f, val, _ := strings.Cut(a, "=")
				add(f, val)
			}
		case row.Type == config.OptBool:
			f, val, _ := strings.Cut(flag, "=")
			switch {
			case row.IfTrue && v.Bool:
				add(f, val+row.Prefix)
			case !row.IfTrue && v.Bool:
				add(f, "")
			case !row.IfTrue:
				add(f, "false")
			}
		default:
			for _, w := range wantQuadlet(c, Links{}, row, v) {
				if row.Lower {
					w = strings.ToLower(w)
				}
				add(flag, row.Prefix+w)
			}
		}
	}
	if !docker {
		if v, ok := c.Options["cgroups_mode"]; ok {
			add("--cgroups", v.Str)
		} else {
			add("--cgroups", "split")
		}
		switch strings.ToLower(c.Options["notify"].Str) {
		case "healthy":
			add("--sdnotify", "healthy")
		case "true":
			add("--sdnotify", "container")
		default:
			add("--sdnotify", "conmon")
		}
	}
	return want
}

// checkRunOptions: each flag the options give appears with exactly the
// values the options say, in order.
func checkRunOptions(t testing.TB, c *config.Container, flags []string, docker bool) {
	t.Helper()
	got := flagValues(flags)
	for f, want := range wantRunFlags(c, docker) {
		g := got[f]
		if f == "--env-file" {
			g = g[len(g)-len(want):] // seconf's own env file comes first
		}
		if d := cmp.Diff(want, g); d != "" {
			t.Errorf("%s (-want +got):\n%s", f, d)
		}
	}
}

// checkSettingsBack: each systemd setting of the service, unit and install
// maps reads back from the unit as configured, '%' included (doubled
// where systemd resolves specifiers, as written elsewhere).
func checkSettingsBack(t testing.TB, c *config.Container, o opts) {
	t.Helper()
	for _, sec := range []struct {
		name string
		set  []config.SystemdSetting
	}{{"Unit", c.Unit}, {"Service", c.Service}, {"Install", c.Install}} {
		for _, st := range sec.set {
			got := o[sec.name+"."+st.Key]
			// seconf's own lines for the key come first
			if len(got) < len(st.Values) {
				t.Errorf("%s.%s: %q, want it to end in %q", sec.name, st.Key, got, st.Values)
				continue
			}
			got = slices.Clone(got[len(got)-len(st.Values):])
			for i := range got {
				// where systemd resolves specifiers, %% is a '%'; elsewhere
				// the value is read as written
				if unitfile.KeyExpansion(sec.name, st.Key) == unitfile.Expands {
					got[i] = unspec(got[i])
				}
			}
			if d := cmp.Diff(st.Values, got); d != "" {
				t.Errorf("%s.%s (-want +got):\n%s", sec.name, st.Key, d)
			}
		}
	}
}

// TestRefusedOptions: option values and systemd settings no rendering can
// carry unchanged, or that a rendering has no equivalent for, are errors
// about the attribute (or the element of it) responsible.
func TestRefusedOptions(t *testing.T) {
	enabled := func(b bool) func(*config.Container) { return func(c *config.Container) { c.Enabled = b } }
	cases := []struct {
		name  string
		edit  func(c *config.Container)
		links Links
		only  string // the one rendering that refuses it; "" for all, "podman" for both podman renderings (docker refuses it for another reason)
		attr  string // the attribute the error is about
		want  string
	}{
		{"option starts with a dash", func(c *config.Container) { setOpts(c, "dns", []string{"1.1.1.1", "-x"}) }, Links{}, "", "dns[1]", "starts with '-'"},
		{"token with a space", func(c *config.Container) { setOpts(c, "ip", "10.0.0.1 10.0.0.2") }, Links{}, "", "ip", "cannot reach a unit file"},
		{"map token with a quote", func(c *config.Container) { setOpts(c, "sysctl", map[string]string{"a": `"1"`}) }, Links{}, "", "sysctl.a", "cannot reach a unit file"},
		{"raw value quoted", func(c *config.Container) { setOpts(c, "health_cmd", `"true"`) }, Links{}, "", "health_cmd", "double quote"},
		{"raw value trailing backslash", func(c *config.Container) { setOpts(c, "entrypoint", `/x\`) }, Links{}, "", "entrypoint", "backslash"},
		{"raw value surrounding space", func(c *config.Container) { setOpts(c, "working_dir", "/srv ") }, Links{}, "", "working_dir", "space"},
		{"C1 control", func(c *config.Container) { setOpts(c, "label", map[string]string{"k": "a\u0085"}) }, Links{}, "", "label.k", "control character"},
		{"notify value", func(c *config.Container) { setOpts(c, "notify", "maybe") }, Links{}, "podman", "notify", "true, false, healthy"},
		{"group without user", func(c *config.Container) { setOpts(c, "group", "100") }, Links{}, "", "group", "group needs user"},
		{"expose not a port", func(c *config.Container) { setOpts(c, "expose_host_port", []string{"http"}) }, Links{}, "", "expose_host_port[0]", "not a port"},
		{"device with quadlet's dash", func(c *config.Container) { setOpts(c, "add_device", []string{"/dev/fuse", "-/dev/kvm"}) }, Links{}, "", "add_device[1]", "'-'"},
		{"device outside /dev", func(c *config.Container) { setOpts(c, "add_device", []string{"/dev/../etc/shadow"}) }, Links{}, "", "add_device[0]", "under /dev"},
		{"relative env file", func(c *config.Container) { setOpts(c, "environment_file", []string{"app.env"}) }, Links{}, "", "environment_file[0]", "absolute"},
		{"mount unit reference", func(c *config.Container) { setOpts(c, "mount", []string{"type=volume,source=x.volume,destination=/x"}) }, Links{}, "", "mount[0]", "quadlet unit"},
		{"mount without type", func(c *config.Container) { setOpts(c, "mount", []string{"source=/x,destination=/x"}) }, Links{}, "", "mount[0]", "no type="},
		{"mount source twice", func(c *config.Container) { setOpts(c, "mount", []string{"type=bind,src=/x,source=/y,destination=/x"}) }, Links{}, "", "mount[0]", "twice"},
		{"mount relative volume", func(c *config.Container) { setOpts(c, "mount", []string{"type=volume,source=./x,destination=/x"}) }, Links{}, "", "mount[0]", "own directory"},
		{"mount bind with a space", func(c *config.Container) { setOpts(c, "mount", []string{"type=bind,source=/srv/a b,destination=/x"}) }, Links{}, "", "mount[0]", "cannot reach"},
		{"mount bind with a dollar", func(c *config.Container) { setOpts(c, "mount", []string{"type=bind,source=/srv/$x,destination=/x"}) }, Links{}, "", "mount[0]", "'$'"},
		{"volume mount without source", func(c *config.Container) { setOpts(c, "mount", []string{"type=volume,destination=/x"}) }, Links{}, "", "mount[0]", "needs source="},
		{"docker mount relabel", func(c *config.Container) {
			setOpts(c, "mount", []string{"type=bind,source=/srv/x,destination=/x,relabel=private"})
		}, Links{}, "docker service", "mount[0]", "docker's --mount has no"},
		{"docker entrypoint array", func(c *config.Container) { setOpts(c, "entrypoint", `["/bin/sh", "-c"]`) }, Links{}, "docker service", "entrypoint", "JSON array"},
		{"docker pull newer", func(c *config.Container) { setOpts(c, "pull", "newer") }, Links{}, "docker service", "pull", "newer"},
		{"podman_args outside the allowed", func(c *config.Container) { setOpts(c, "podman_args", []string{"--privileged"}) }, Links{}, "", "podman_args[0]", "not an allowed"},
		{"docker has no timezone", func(c *config.Container) { setOpts(c, "timezone", "UTC") }, Links{}, "docker service", "timezone", "docker run has no equivalent"},
		{"docker has no notify", func(c *config.Container) { setOpts(c, "notify", "healthy") }, Links{}, "docker service", "notify", "docker run has no equivalent"},
		{"unknown setting", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "TimeoutStart", Values: []string{"9"}}}
		}, Links{}, "", "service.TimeoutStart", "no [Service] setting"},
		{"setting in the wrong section", func(c *config.Container) {
			c.Unit = []config.SystemdSetting{{Key: "TimeoutStartSec", Values: []string{"9"}}}
		}, Links{}, "", "unit.TimeoutStartSec", "no [Unit] setting"},
		{"command line setting", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "ExecStartPre", Values: []string{"/bin/true"}}}
		}, Links{}, "", "service.ExecStartPre", "command lines"},
		{"engine environment", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "Environment", Values: []string{"CONTAINERS_CONF=/tmp/c.conf"}}}
		}, Links{}, "", "service.Environment", "CONTAINERS_CONF"},
		{"engine as another user", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "User", Values: []string{"nobody"}}}
		}, Links{}, "", "service.User", "root"},
		{"engine in another context", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "SELinuxContext", Values: []string{"system_u:system_r:unconfined_t:s0"}}}
		}, Links{}, "", "service.SELinuxContext", "security context"},
		{"no new privileges on the engine", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "NoNewPrivileges", Values: []string{"yes"}}}
		}, Links{}, "", "service.NoNewPrivileges", "no_new_privileges"},
		{"description", func(c *config.Container) {
			c.Unit = []config.SystemdSetting{{Key: "Description", Values: []string{"x"}}}
		}, Links{}, "", "unit.Description", "seconf writes it"},
		{"empty value", func(c *config.Container) { c.Unit = []config.SystemdSetting{{Key: "After", Values: []string{""}}} }, Links{}, "", "unit.After", "resets"},
		{"value trailing backslash", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "RestartSec", Values: []string{`5\`}}}
		}, Links{}, "", "service.RestartSec", "backslash"},
		{"percent in an unprobed setting", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "RestartSteps", Values: []string{"5%"}}}
		}, Links{}, "", "service.RestartSteps", "'%'"},
		{"install alias", func(c *config.Container) {
			c.Install = []config.SystemdSetting{{Key: "Alias", Values: []string{"web.service"}}}
		}, Links{}, "", "install.Alias", "WantedBy= only"},
		{"install not a unit", func(c *config.Container) {
			c.Install = []config.SystemdSetting{{Key: "WantedBy", Values: []string{"../x"}}}
		}, Links{}, "", "install.WantedBy", "not a unit name"},
		{"install while disabled", func(c *config.Container) {
			enabled(false)(c)
			c.Install = []config.SystemdSetting{{Key: "WantedBy", Values: []string{"default.target"}}}
		}, Links{}, "", "install.WantedBy", "enabled = false"},
		{"docker cgroup limit", func(c *config.Container) {
			c.Service = []config.SystemdSetting{{Key: "MemoryMax", Values: []string{"1G"}}}
		}, Links{}, "docker service", "service.MemoryMax", "docker client"},
		{"volume of another engine", func(c *config.Container) {
			c.Volumes = []config.Volume{{Source: "app-data", Target: "/data", Relabel: config.RelabelNone, Named: "appdata"}}
		}, namedLinks(true), "docker service", "volume.source0", "is for engine \"podman\""},
		{"named volume source altered", func(c *config.Container) {
			c.Volumes = []config.Volume{{Source: "app-data-2", Target: "/data", Relabel: config.RelabelNone, Named: "appdata"}}
		}, namedLinks(true), "podman", "volume.source0", "volume.appdata.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ctr("app", tc.edit)
			for _, r := range renderings {
				_, err := r.render(c, tc.links)
				if tc.only == "podman" && r.name == "docker service" {
					continue
				}
				if tc.only != "" && tc.only != "podman" && r.name != tc.only {
					if err != nil {
						t.Errorf("%s: %v", r.name, err)
					}
					continue
				}
				var ae *attrError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want one mentioning %q", r.name, err, tc.want)
					continue
				}
				if ae.attr != tc.attr {
					t.Errorf("%s: error about %q, want %q", r.name, ae.attr, tc.attr)
				}
			}
		})
	}
}
