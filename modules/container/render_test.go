package container

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/internal/testenv"
	"seconf/internal/unitfile"
	"seconf/modules/units"
)

// ctr is a container as config.Load would decode it, with the defaults.
func ctr(name string, edit func(c *config.Container)) *config.Container {
	c := &config.Container{
		Block: config.Block{
			Kind:      config.KindContainer,
			Name:      name,
			DeclRange: hcl.Range{Filename: "/etc/seconf/host.hcl", Start: hcl.Pos{Line: 1, Column: 1}},
		},
		Image:   "docker.io/library/busybox:1.36",
		Engine:  "podman",
		Restart: "always",
		Enabled: true,
	}
	if edit != nil {
		edit(c)
	}
	return c
}

type renderCase struct {
	name  string
	c     *config.Container
	links Links
	// podman: a case docker cannot render (podman-only options); its
	// golden file shows docker's error.
	podman bool
}

// setOpts sets container options as config would decode them.
func setOpts(c *config.Container, kv ...any) {
	if c.Options == nil {
		c.Options = map[string]config.OptionValue{}
	}
	for i := 0; i < len(kv); i += 2 {
		attr := kv[i].(string)
		row, ok := config.ContainerOptionByAttr(attr)
		if !ok {
			panic("no option " + attr)
		}
		var v config.OptionValue
		switch row.Type {
		case config.OptString:
			v.Str = kv[i+1].(string)
		case config.OptBool:
			v.Bool = kv[i+1].(bool)
		case config.OptNumber:
			v.Num = int64(kv[i+1].(int))
		case config.OptList:
			v.List = kv[i+1].([]string)
		case config.OptMap:
			v.Map = kv[i+1].(map[string]string)
		}
		c.Options[attr] = v
	}
}

// namedLinks are a volume and a network block the named cases use, as
// LinksFor resolves them; quadlet says whether those blocks are quadlet
// files.
func namedLinks(quadlet bool) Links {
	return Links{
		Volumes:  []NamedLink{{Block: "appdata", Name: "app-data", Unit: "appdata-volume.service", Engine: "podman", Quadlet: quadlet}},
		Networks: []NamedLink{{Block: "lan", Name: "lan", Unit: "lan-network.service", Engine: "podman", Quadlet: quadlet}},
	}
}

// renderCases cover every option, each on its own where it can be. Names are
// distinct so that all the units can be verified side by side.
var renderCases = []renderCase{
	{name: "minimal", c: ctr("minimal", nil)},
	{name: "logger", c: ctr("logger", func(c *config.Container) {
		c.Image = "docker.io/fluent/fluentd:v1.17-1"
		c.SELinuxType = "container_logger_t"
		c.Command = []string{"sleep", "infinity"}
		c.Deps = []config.Ref{{Kind: config.KindModule, Name: "container_logger"}}
		c.Volumes = []config.Volume{{Source: "/var/log", Target: "/var/log", Relabel: config.RelabelNone}}
	})},
	{name: "volumes", c: ctr("volumes", func(c *config.Container) {
		c.Volumes = []config.Volume{
			{Source: "/srv/none", Target: "/none", Relabel: config.RelabelNone},
			{Source: "/srv/shared", Target: "/shared", Relabel: config.RelabelShared},
			{Source: "/srv/private", Target: "/private", Relabel: config.RelabelPrivate},
			{Source: "/srv/ro", Target: "/ro", ReadOnly: true, Relabel: config.RelabelNone},
			{Source: "/srv/ro-private", Target: "/ro-private", ReadOnly: true, Relabel: config.RelabelPrivate},
			{Source: "/srv/odd%name,x", Target: "/odd", Relabel: config.RelabelNone},
		}
	})},
	{name: "publish", c: ctr("publish", func(c *config.Container) {
		c.Publish = []string{"8080:80", "127.0.0.1:5353:53/udp"}
	})},
	{name: "env-inline", c: ctr("env-inline", func(c *config.Container) {
		c.Environment = map[string]string{
			"PLAIN":  "value",
			"SPACES": "two words",
			"QUOTES": `say "hi" it's`,
			"DOLLAR": "$HOME and ${PATH}",
			"PCT":    "100% %n",
			"EMPTY":  "",
			"BSLASH": `C:\temp\`,
		}
	})},
	{name: "env-sensitive", c: ctr("env-sensitive", func(c *config.Container) {
		c.Environment = map[string]string{"USER": "app", "PASSWORD": "s3cr3t \"$x\" 100%"}
		c.Sensitive = map[string]bool{"PASSWORD": true}
	})},
	{name: "selinux", c: ctr("selinux", func(c *config.Container) {
		c.SELinuxType = "container_logger_t"
		c.SELinuxLevel = "s0:c1,c2"
	})},
	{name: "user-network", c: ctr("user-network", func(c *config.Container) {
		c.User = "1000:1000"
		c.Network = "host"
	})},
	{name: "command", c: ctr("command", func(c *config.Container) {
		c.Command = []string{"sh", "-c", `echo "hello world" 'single' 100% $HOME ${X} \n`, "tab there?", "ünïcode", "a;b", "--flag=x y", `back\slash`}
	})},
	{name: "restart-on-failure", c: ctr("restart-on-failure", func(c *config.Container) { c.Restart = "on-failure" })},
	{name: "restart-no", c: ctr("restart-no", func(c *config.Container) { c.Restart = "no" })},
	{name: "disabled", c: ctr("disabled", func(c *config.Container) { c.Enabled = false })},
	{name: "deps", c: ctr("deps", func(c *config.Container) {
		c.Volumes = []config.Volume{{Source: "/srv/data/app", Target: "/data", Relabel: config.RelabelPrivate, Mount: "srv_data"}}
	}), links: Links{Units: []string{"db.service"}, MountsFor: []string{"/srv/data", "/srv/my data"}}},
	{name: "privileged", c: ctr("privileged", func(c *config.Container) {
		c.Privileged = true
		c.AllowUnconfined = true
	})},
	// Quadlet cannot carry these arguments; the services can.
	{name: "command-empty-arg", c: ctr("command-empty-arg", func(c *config.Container) {
		c.Command = []string{"printf", "%s|", "", ";", "end"}
	})},
	// Every option podman and docker both have, with values that need
	// escaping where the option allows them.
	{name: "options", c: ctr("options", func(c *config.Container) {
		c.User = "1000"
		c.SELinuxType = "container_t"
		setOpts(c,
			"log_driver", "journald", "log_opt", []string{"tag=web", "max-size=10m"},
			"pids_limit", 100, "shm_size", "64m", "entrypoint", "/usr/local/bin/entry point",
			"working_dir", "/srv/app dir", "ip", "10.88.0.5", "ip6", "fd00::5", "host_name", "web",
			"stop_signal", "SIGINT", "stop_timeout", 20, "pull", "missing",
			"network_alias", []string{"web", "www"}, "ulimit", []string{"nofile=1024:2048"},
			"dns", []string{"9.9.9.9", "1.1.1.1"}, "dns_option", []string{"ndots:1"}, "dns_search", []string{"example.com"},
			"group_add", []string{"wheel"}, "add_host", []string{"db.local:10.0.0.2"},
			"tmpfs", []string{"/tmp:rw,size=64m", "/run"}, "run_init", true, "no_new_privileges", true,
			"add_device", []string{"/dev/fuse:/dev/fuse:rwm"}, "seccomp_profile", "/etc/containers/seccomp.json",
			"drop_capability", []string{"all"}, "add_capability", []string{"NET_BIND_SERVICE", "chown"},
			"sysctl", map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.core.somaxconn": "1024"},
			"read_only", true, "group", "1000", "expose_host_port", []string{"8080", "9000-9010/udp"},
			"label", map[string]string{"org.example.tier": "front end", "pct": "100% $HOME \"q\""},
			"annotation", map[string]string{"run.oci.keep_original_groups": "1"},
			"environment_file", []string{"/etc/app/env file"},
			"mount", []string{"destination=/data,type=bind,source=/srv/web%data,ro=true", "type=tmpfs,destination=/cache,tmpfs-size=64m", "src=/srv/other,type=bind,dst=/other", "destination=/cache2,type=tmpfs"},
			"health_cmd", "curl -f 'http://localhost/' || exit 1", "health_interval", "30s", "health_retries", 3,
			"health_start_period", "10s", "health_timeout", "5s",
			"podman_args", []string{"--memory=512m", "--cpus=1.5"},
		)
	})},
	// Options only podman has: docker's rendering is an error.
	{name: "options-podman", podman: true, c: ctr("options-podman", func(c *config.Container) {
		setOpts(c,
			"entrypoint", `["/bin/sh", "-c"]`, "pull", "newer",
			"cgroups_mode", "enabled", "timezone", "Europe/Paris", "environment_host", true, "read_only_tmpfs", false,
			"notify", "healthy", "security_label_file_type", "container_file_t",
			"uid_map", []string{"0:100000:65536"}, "gid_map", []string{"0:100000:65536"},
			"auto_update", "registry", "mask", []string{"/proc/acpi:/sys/firmware"},
			"secret", []string{"db_password,type=env,target=PGPASSWORD", "tls_cert"},
			"health_cmd", "pg_isready -U postgres", "health_on_failure", "kill",
			"health_log_destination", "/var/log/health", "health_max_log_count", 10, "health_max_log_size", 1000,
			"health_startup_cmd", "pg_isready", "health_startup_interval", "2s", "health_startup_retries", 30,
			"health_startup_success", 1, "health_startup_timeout", "3s",
		)
	})},
	{name: "userns", podman: true, c: ctr("userns", func(c *config.Container) {
		setOpts(c, "user_ns", "auto:size=65536", "notify", "true")
	})},
	{name: "subids", podman: true, c: ctr("subids", func(c *config.Container) {
		setOpts(c, "sub_uid_map", "app", "sub_gid_map", "app", "read_only", false, "run_init", false)
	})},
	// A volume and a network block: as quadlet files (NAME.volume), and
	// as services (by name).
	{name: "named", podman: true, links: namedLinks(true), c: ctr("named", func(c *config.Container) {
		c.Network = "lan:ip=10.89.0.5"
		c.Volumes = []config.Volume{
			{Source: "app-data", Target: "/data", Relabel: config.RelabelPrivate, Named: "appdata"},
			{Source: "/srv/conf", Target: "/conf", ReadOnly: true, Relabel: config.RelabelNone},
		}
		setOpts(c, "mount", []string{"type=volume,source=app-data,destination=/more"})
	})},
	{name: "named-plain", podman: true, links: namedLinks(false), c: ctr("named-plain", func(c *config.Container) {
		c.Network = "lan"
		c.Volumes = []config.Volume{{Source: "app-data", Target: "/data", Relabel: config.RelabelShared, Named: "appdata"}}
	})},
	// systemd's own settings; docker refuses the cgroup ones.
	{name: "settings", podman: true, c: ctr("settings", func(c *config.Container) {
		c.Service = []config.SystemdSetting{
			{Key: "MemoryMax", Values: []string{"50%"}},
			{Key: "ReadWritePaths", Values: []string{"/srv/a%b", "/srv/c"}},
			{Key: "TimeoutStartSec", Values: []string{"900"}},
		}
		c.Unit = []config.SystemdSetting{
			{Key: "After", Values: []string{"time-sync.target"}},
			{Key: "Documentation", Values: []string{"https://example.com/100%"}},
		}
		c.Install = []config.SystemdSetting{{Key: "WantedBy", Values: []string{"default.target"}}}
	})},
	{name: "settings-docker", c: ctr("settings-docker", func(c *config.Container) {
		c.Service = []config.SystemdSetting{{Key: "TimeoutStartSec", Values: []string{"900"}}, {Key: "RestartSec", Values: []string{"5"}}}
		c.Unit = []config.SystemdSetting{{Key: "Wants", Values: []string{"time-sync.target"}}}
	})},
}

// renderings are the three ways a container can be written.
var renderings = []struct {
	name   string
	render func(*config.Container, Links) ([]units.File, error)
}{
	{"quadlet", RenderQuadlet},
	{"podman service", RenderPodmanService},
	{"docker service", RenderDockerService},
}

func show(files []units.File, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "--- %s (mode %04o, sensitive %v) ---\n%s", f.Path, f.Mode, f.Sensitive, f.Data)
	}
	return b.String()
}

// TestGolden compares each case's three renderings with testdata/golden/CASE.golden.
func TestGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			for _, r := range renderings {
				fmt.Fprintf(&b, "=== %s ===\n%s\n", r.name, show(r.render(tc.c, tc.links)))
			}
			golden(t, filepath.Join("testdata", "golden", tc.name+".golden"), b.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	testenv.Golden(t, path, got, *update)
}

// TestParseBack reads every rendering back as systemd and quadlet do and
// checks that each value arrives exactly as configured: one word per
// command argument, whatever spaces, quotes, % or $ it holds.
func TestParseBack(t *testing.T) {
	for _, tc := range renderCases {
		for _, r := range renderings {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				files, err := r.render(tc.c, tc.links)
				if tc.podman && r.name == "docker service" {
					var ae *attrError
					if !errors.As(err, &ae) {
						t.Fatalf("docker renders a podman-only case, or fails at no attribute: %v", err)
					}
					return
				}
				if err != nil {
					if r.name == "quadlet" && tc.name == "command-empty-arg" {
						return
					}
					t.Fatal(err)
				}
				checkParseBack(t, r.name, tc.c, tc.links, files)
			})
		}
	}
}

// checkParseBack is shared with the fuzz targets.
func checkParseBack(t testing.TB, rendering string, c *config.Container, links Links, files []units.File) {
	t.Helper()
	vols := wantVolumes(c, links)
	if rendering == "quadlet" {
		o := parseUnit(t, fileByExt(t, files, ".container").Data)
		checkQuadletOptions(t, c, links, o)
		checkSettingsBack(t, c, o)
		for i, v := range c.Volumes {
			if l, ok := links.volumeBlock(v.Named); ok && l.Quadlet {
				vols[i] = strings.Replace(vols[i], l.Name+":", l.Block+".volume:", 1)
			}
		}
		if got := unspec(o.one(t, "Container.Image")); mustUndollar(t, got) != c.Image {
			t.Errorf("Image: got %q, want %q", got, c.Image)
		}
		if len(c.Command) > 0 {
			got, err := argv(o.one(t, "Container.Exec"))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.Command, got); d != "" {
				t.Errorf("Exec (-want +got):\n%s", d)
			}
		}
		var gotVols []string
		for _, v := range o["Container.Volume"] {
			gotVols = append(gotVols, mustUndollar(t, unspec(v)))
		}
		if d := cmp.Diff(vols, gotVols); d != "" {
			t.Errorf("Volume (-want +got):\n%s", d)
		}
		var envFiles []string
		for _, f := range o["Container.EnvironmentFile"] {
			ws, err := argv(f)
			if err != nil || len(ws) != 1 {
				t.Fatalf("EnvironmentFile=%s: %q %v", f, ws, err)
			}
			envFiles = append(envFiles, ws[0])
		}
		checkEnv(t, c, files, o["Container.Environment"], envFiles)
		checkCommon(t, c, links, o, "Container.SecurityLabelType", "Container.SecurityLabelLevel")
		return
	}
	o := parseUnit(t, fileByExt(t, files, ".service").Data)
	args, err := argv(o.one(t, "Service.ExecStart"))
	if err != nil {
		t.Fatal(err)
	}
	// The command comes last, after the image.
	n := len(c.Command)
	if len(args) < n+1 || !slices.Equal(args[len(args)-n:], c.Command) || args[len(args)-n-1] != c.Image {
		t.Errorf("ExecStart does not end in image %q and command %q: %q", c.Image, c.Command, args)
	}
	flags := args[:len(args)-n-1]
	checkRunOptions(t, c, flags, rendering == "docker service")
	checkSettingsBack(t, c, o)
	var gotVols, envs, envFiles []string
	for i := 0; i+1 < len(flags); i++ {
		switch flags[i] {
		case "-v":
			gotVols = append(gotVols, flags[i+1])
		case "--env":
			envs = append(envs, flags[i+1])
		case "--env-file":
			envFiles = append(envFiles, flags[i+1])
		}
	}
	if d := cmp.Diff(vols, gotVols); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
	// Inline env reaches the command as --env words; compare them as
	// Environment= lines would be.
	var quoted []string
	for _, e := range envs {
		quoted = append(quoted, unitfile.Word(e))
	}
	checkEnv(t, c, files, quoted, envFiles)
	if c.SELinuxType != "" && !hasPair(flags, "--security-opt", "label=type:"+c.SELinuxType) {
		t.Errorf("no --security-opt label=type:%s in %q", c.SELinuxType, flags)
	}
	if c.SELinuxLevel != "" && !hasPair(flags, "--security-opt", "label=level:"+c.SELinuxLevel) {
		t.Errorf("no --security-opt label=level:%s in %q", c.SELinuxLevel, flags)
	}
	if !hasPair(flags, "--name", c.Name) {
		t.Errorf("no --name %s in %q", c.Name, flags)
	}
	if got := o.one(t, "Service.Restart"); got != c.Restart {
		t.Errorf("Restart=%s, want %s", got, c.Restart)
	}
	checkInstall(t, c, o)
}

func mustUndollar(t testing.TB, s string) string {
	t.Helper()
	u, err := undollar(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func hasPair(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// wantVolumes are the -v values podman and docker get: host paths as
// they are, named volumes by their engine name.
func wantVolumes(c *config.Container, links Links) []string {
	s, err := newSpec(c, links, "podman")
	if err != nil {
		panic(err)
	}
	return s.volumes
}

// checkEnv: with a sensitive value, no value reaches the unit and all of
// them are in the 0600 env file; otherwise each is one Environment word.
func checkEnv(t testing.TB, c *config.Container, files []units.File, lines, envFiles []string) {
	t.Helper()
	var want []string
	for k, v := range c.Environment {
		want = append(want, k+"="+v)
	}
	slices.Sort(want)
	sensitive := false
	for k := range c.Environment {
		sensitive = sensitive || c.Sensitive[k]
	}
	// The container's own environment_file entries come after seconf's.
	user := c.Options["environment_file"].List
	if len(envFiles) < len(user) || !slices.Equal(envFiles[len(envFiles)-len(user):], user) {
		t.Errorf("env files %q do not end in environment_file %q", envFiles, user)
	} else {
		envFiles = envFiles[:len(envFiles)-len(user)]
	}
	if !sensitive {
		var got []string
		for _, l := range lines {
			ws, err := argv(l)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ws...)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("environment (-want +got):\n%s", d)
		}
		if len(envFiles) > 0 || len(files) != 1 {
			t.Errorf("env file without a sensitive value: %q, %d files", envFiles, len(files))
		}
		return
	}
	if len(lines) > 0 {
		t.Errorf("inline environment despite a sensitive value: %q", lines)
	}
	envPath := "/etc/seconf/env/" + c.Name + ".env"
	if !slices.Equal(envFiles, []string{envPath}) {
		t.Errorf("env file references %q, want %s", envFiles, envPath)
	}
	f := fileByExt(t, files, ".env")
	if f.Path != envPath || f.Mode != 0o600 || !f.Sensitive {
		t.Errorf("env file %s mode %o sensitive %v", f.Path, f.Mode, f.Sensitive)
	}
	lns := strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n")
	if !strings.HasPrefix(lns[0], units.Header) {
		t.Errorf("env file starts %q", lns[0])
	}
	if d := cmp.Diff(want, lns[1:]); d != "" {
		t.Errorf("env file (-want +got):\n%s", d)
	}
	for _, u := range files {
		if u.Sensitive {
			continue
		}
		// No assignment at all may reach the unit: the values travel in the file.
		for k := range c.Environment {
			if strings.Contains(string(u.Data), k+"=") {
				t.Errorf("environment %s is assigned in %s despite a sensitive value", k, u.Path)
			}
		}
	}
}

func checkCommon(t testing.TB, c *config.Container, links Links, o opts, typeKey, levelKey string) {
	t.Helper()
	for key, want := range map[string]string{typeKey: c.SELinuxType, levelKey: c.SELinuxLevel} {
		var got string
		if vs := o[key]; len(vs) == 1 {
			got = mustUndollar(t, unspec(vs[0]))
		} else if len(vs) > 1 {
			t.Errorf("%s set %d times", key, len(vs))
		}
		if got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	wantReq := slices.Clone(links.Units)
	for _, l := range append(slices.Clone(links.Volumes), links.Networks...) {
		wantReq = append(wantReq, l.Unit)
	}
	if d := cmp.Diff(wantReq, o["Unit.Requires"]); d != "" {
		t.Errorf("Requires (-want +got):\n%s", d)
	}
	var mf []string
	for _, v := range o["Unit.RequiresMountsFor"] {
		ws, err := words(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			mf = append(mf, unspec(w))
		}
	}
	if d := cmp.Diff(links.MountsFor, mf); d != "" {
		t.Errorf("RequiresMountsFor (-want +got):\n%s", d)
	}
	if got := o.one(t, "Service.Restart"); got != c.Restart {
		t.Errorf("Restart=%s, want %s", got, c.Restart)
	}
	checkInstall(t, c, o)
}

func checkInstall(t testing.TB, c *config.Container, o opts) {
	t.Helper()
	var want []string
	if c.Enabled {
		want = []string{"multi-user.target"}
		for _, s := range c.Install {
			if s.Key == "WantedBy" {
				want = append(want, s.Values...)
			}
		}
	}
	if d := cmp.Diff(want, o["Install.WantedBy"]); d != "" {
		t.Errorf("WantedBy (-want +got):\n%s", d)
	}
}

// TestHeader: every file starts with the ownership header naming its resource.
func TestHeader(t *testing.T) {
	c := ctr("app", func(c *config.Container) {
		c.Environment = map[string]string{"K": "v"}
		c.Sensitive = map[string]bool{"K": true}
	})
	want := units.Header + " (container.app). Edits are overwritten.\n"
	for _, r := range renderings {
		files, err := r.render(c, Links{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if first, _, _ := strings.Cut(string(f.Data), "\n"); first+"\n" != want {
				t.Errorf("%s %s starts %q, want %q", r.name, f.Path, first, want)
			}
		}
	}
}

// TestRefused: values no rendering can carry unchanged are errors, not
// silently altered units.
func TestRefused(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(c *config.Container)
		quadlet bool // refused by quadlet only
		want    string
	}{
		{"image with space", func(c *config.Container) { c.Image = "busybox latest" }, false, "image"},
		{"image quoted", func(c *config.Container) { c.Image = `"busybox"` }, false, "image"},
		{"user trailing backslash", func(c *config.Container) { c.User = `app\` }, false, "user"},
		{"selinux type with space", func(c *config.Container) { c.SELinuxType = "a b" }, false, "selinux_type"},
		{"volume with colon", func(c *config.Container) {
			c.Volumes = []config.Volume{{Source: "/srv/a:b", Target: "/x", Relabel: config.RelabelNone}}
		}, false, "volume source"},
		{"volume with dollar", func(c *config.Container) {
			c.Volumes = []config.Volume{{Source: "/srv/$x", Target: "/x", Relabel: config.RelabelNone}}
		}, false, "volume source"},
		{"volume relative", func(c *config.Container) {
			c.Volumes = []config.Volume{{Source: "/srv", Target: "x", Relabel: config.RelabelNone}}
		}, false, "volume target"},
		{"env name comment", func(c *config.Container) { c.Environment = map[string]string{"#X": "1"} }, false, "environment name"},
		{"C1 control in command", func(c *config.Container) { c.Command = []string{"a\u0085"} }, false, "control character"},
		{"restart unknown", func(c *config.Container) { c.Restart = "sometimes" }, false, "restart"},
		{"empty argument", func(c *config.Container) { c.Command = []string{"a", ""} }, true, "quadlet"},
		{"lone semicolon", func(c *config.Container) { c.Command = []string{"a", ";"} }, true, "quadlet"},
		{"image unit reference", func(c *config.Container) { c.Image = "base.image" }, true, "quadlet unit"},
		{"network unit reference", func(c *config.Container) { c.Network = "lan.network" }, true, "quadlet unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ctr("app", tc.edit)
			for _, r := range renderings {
				_, err := r.render(c, Links{})
				wantErr := !tc.quadlet || r.name == "quadlet"
				if wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)) {
					t.Errorf("%s: error %v, want one mentioning %q", r.name, err, tc.want)
				}
				if !wantErr && err != nil {
					t.Errorf("%s: %v", r.name, err)
				}
			}
		})
	}
}
