package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadOptions(t *testing.T) {
	dir := write(t, map[string]string{"host.hcl": `
variable "tz" { default = "UTC" }
volume "data" {
  volume_name = "app-data"
  user        = 1000
  copy        = false
  label       = { "org.example.app" = "web" }
}
network "lan" {
  subnet   = ["10.89.0.0/24"]
  internal = true
  options  = { mtu = 1400 }
}
container "web" {
  image   = "docker.io/library/nginx:1.27"
  network = network.lan.name
  volume {
    source = volume.data.name
    target = "/data"
  }
  timezone            = var.tz
  read_only           = true
  health_retries      = 3
  drop_capability     = ["all"]
  sysctl              = { "net.core.somaxconn" = 1024 }
  security_label_type = "container_t"
  publish_port        = ["8080:80"]
  service = {
    TimeoutStartSec = 900
    ReadWritePaths  = ["/srv/a", "/srv/b"]
    Restart         = true
  }
  unit    = { After = "time-sync.target" }
  install = { WantedBy = ["default.target"] }
}
`})
	cfg, _, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := cfg.Containers[0]
	want := map[string]OptionValue{
		"timezone":        {Str: "UTC"},
		"read_only":       {Bool: true},
		"health_retries":  {Num: 3},
		"drop_capability": {List: []string{"all"}},
		"sysctl":          {Map: map[string]string{"net.core.somaxconn": "1024"}},
	}
	if d := cmp.Diff(want, c.Options); d != "" {
		t.Errorf("options (-want +got):\n%s", d)
	}
	if c.SELinuxType != "container_t" || len(c.Publish) != 1 || c.Publish[0] != "8080:80" {
		t.Errorf("quadlet's names for selinux_type and publish: %q %q", c.SELinuxType, c.Publish)
	}
	if d := cmp.Diff([]SystemdSetting{
		{Key: "ReadWritePaths", Values: []string{"/srv/a", "/srv/b"}},
		{Key: "Restart", Values: []string{"yes"}},
		{Key: "TimeoutStartSec", Values: []string{"900"}},
	}, c.Service); d != "" {
		t.Errorf("service (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]SystemdSetting{{Key: "After", Values: []string{"time-sync.target"}}}, c.Unit); d != "" {
		t.Errorf("unit (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]SystemdSetting{{Key: "WantedBy", Values: []string{"default.target"}}}, c.Install); d != "" {
		t.Errorf("install (-want +got):\n%s", d)
	}
	if c.Network != "lan" || c.Volumes[0].Source != "app-data" || c.Volumes[0].Named != "data" {
		t.Errorf("references: network %q, volume %+v", c.Network, c.Volumes[0])
	}
	var deps []string
	for _, d := range c.Deps {
		deps = append(deps, d.ID())
	}
	if d := cmp.Diff([]string{"network.lan", "volume.data"}, deps); d != "" {
		t.Errorf("deps (-want +got):\n%s", d)
	}
	v, n := cfg.Volumes[0], cfg.Networks[0]
	if v.VolumeName != "app-data" || *v.User != 1000 || *v.Copy || v.Label["org.example.app"] != "web" || v.Engine != "podman" {
		t.Errorf("volume: %+v", v)
	}
	if n.NetworkName != "lan" || !*n.Internal || n.Options["mtu"] != "1400" || n.Subnet[0] != "10.89.0.0/24" {
		t.Errorf("network: %+v", n)
	}
	// The error about a map's key or a list's element points at it.
	if r := c.AttrRange("service.ReadWritePaths"); r.Start.Line != 30 {
		t.Errorf("service.ReadWritePaths at line %d, want 30", r.Start.Line)
	}
	if r := c.AttrRange("drop_capability[0]"); r.Start.Line != 24 {
		t.Errorf("drop_capability[0] at line %d, want 24", r.Start.Line)
	}
}

// TestLoadOptionErrors: every way the new attributes could switch
// confinement off is refused at its line unless allow_unconfined says so,
// and malformed values are errors at theirs.
func TestLoadOptionErrors(t *testing.T) {
	ctr := func(body string) string { return "container \"c\" {\n  image = \"i\"\n" + body + "}\n" }
	tests := []struct {
		name, hcl string
		summary   string
		line      int
		// allowed: allow_unconfined = true lets it through
		allowed bool
	}{
		{"label disable", ctr("  security_label_disable = true\n"), "Unconfined container refused", 3, true},
		{"label nested", ctr("  security_label_nested = true\n"), "Unconfined container refused", 3, true},
		{"unconfined type by quadlet's name", ctr("  security_label_type = \"spc_t\"\n"), "Unconfined container refused", 3, true},
		{"seccomp unconfined", ctr("  seccomp_profile = \"unconfined\"\n"), "Unconfined container refused", 3, true},
		{"unmask", ctr("  unmask = [\"ALL\"]\n"), "Unconfined container refused", 3, true},
		{"host user namespace", ctr("  user_ns = \"host\"\n"), "Unconfined container refused", 3, true},
		{"host network", ctr("  network = \"host\"\n"), "Unconfined container refused", 3, true},
		{"joined network namespace", ctr("  network = \"ns:/proc/1/ns/net\"\n"), "Unconfined container refused", 3, true},
		{"capability", ctr("  add_capability = [\n    \"CHOWN\",\n    \"CAP_SYS_ADMIN\",\n  ]\n"), "Unconfined container refused", 5, true},
		{"all capabilities", ctr("  add_capability = [\"all\"]\n"), "Unconfined container refused", 3, true},
		{"host disk", ctr("  add_device = [\"/dev/fuse\", \"/dev/nvme0n1:/dev/xvda\"]\n"), "Unconfined container refused", 3, true},
		{"host memory", ctr("  add_device = [\"/dev/mem\"]\n"), "Unconfined container refused", 3, true},
		// udev's /dev/block/MAJ:MIN links name every disk; podman follows them.
		{"host disk by number", ctr("  add_device = [\"/dev/block/8:0\"]\n"), "Unconfined container refused", 3, true},
		{"persistent memory", ctr("  add_device = [\"/dev/pmem0\"]\n"), "Unconfined container refused", 3, true},
		{"ram disk", ctr("  add_device = [\"/dev/ram0\"]\n"), "Unconfined container refused", 3, true},
		{"shadow as environment", ctr("  environment_file = [\"/etc/shadow\"]\n"), "Unconfined container refused", 3, true},
		{"log into cron", ctr("  log_driver = \"k8s-file\"\n  log_opt = [\"path=/etc/cron.d/x\"]\n"), "Unconfined container refused", 4, true},
		{"health logs into /usr", ctr("  health_log_destination = \"/usr/lib\"\n"), "Unconfined container refused", 3, true},
		{"mount relabels a system directory", ctr("  mount = [\"type=bind,source=/var/log,destination=/l,relabel=private\"]\n"), "Relabelling a system directory refused", 3, true},
		{"mount Z on /etc", ctr("  mount = [\"type=bind,src=/etc,dst=/e,Z\"]\n"), "Relabelling a system directory refused", 3, true},
		{"mount chown of /home", ctr("  mount = [\"type=bind,source=/home,destination=/h,U\"]\n"), "Relabelling a system directory refused", 3, true},
		// A glob mount relabels every match: a pattern is refused when it
		// may match a system directory.
		{"glob relabels the top level", ctr("  mount = [\"type=glob,source=/*,destination=/x,relabel=shared\"]\n"), "Relabelling a system directory refused", 3, true},
		{"glob spells /etc", ctr("  mount = [\"type=glob,source=/[e]tc,destination=/x,Z\"]\n"), "Relabelling a system directory refused", 3, true},
		{"glob under /var", ctr("  mount = [\"type=glob,source=/var/l?g,destination=/x,z\"]\n"), "Relabelling a system directory refused", 3, true},
		{"podman_args privileged", ctr("  podman_args = [\"--memory=1g\", \"--privileged\"]\n"), "Option refused in podman_args", 3, false},
		{"podman_args security-opt", ctr("  podman_args = [\"--security-opt=label=disable\"]\n"), "Option refused in podman_args", 3, false},
		{"podman_args value apart", ctr("  podman_args = [\"--memory\", \"1g\"]\n"), "Option refused in podman_args", 3, false},
		{"mount without type", ctr("  mount = [\"source=/srv,destination=/s\"]\n"), "Invalid mount", 3, false},
		{"mount relative source", ctr("  mount = [\"type=bind,source=srv,destination=/s\"]\n"), "Invalid mount", 3, false},
		{"mount quoted", ctr("  mount = [\"type=bind,\\\"source=/srv\\\",destination=/s\"]\n"), "Invalid mount", 3, false},
		{"sensitive option", "variable \"p\" {\n  default = \"x\"\n  sensitive = true\n}\n" + ctr("  health_cmd = \"check ${var.p}\"\n"), "Sensitive value not allowed here", 7, false},
		{"sensitive setting", "variable \"p\" {\n  default = \"x\"\n  sensitive = true\n}\n" + ctr("  service = { Documentation = var.p }\n"), "Sensitive value not allowed here", 7, false},
		{"both names", ctr("  selinux_type = \"a_t\"\n  security_label_type = \"b_t\"\n"), "Conflicting arguments", 4, false},
		{"unsupported quadlet key", ctr("  pod = \"web.pod\"\n"), "Unsupported quadlet key", 3, false},
		{"global args", ctr("  global_args = [\"--log-level=debug\"]\n"), "Unsupported quadlet key", 3, false},
		{"negative number", ctr("  pids_limit = -1\n"), "Invalid number", 3, false},
		{"fraction", ctr("  stop_timeout = 1.5\n"), "Invalid number", 3, false},
		{"settings not a map", ctr("  service = \"TimeoutStartSec=9\"\n"), "Incorrect attribute value type", 3, false},
		{"setting value a map", ctr("  service = {\n    Foo = { a = 1 }\n  }\n"), "Incorrect attribute value type", 4, false},
		{"setting control character", ctr("  unit = { After = \"a\\nExecStartPre=/bin/sh\" }\n"), "Invalid character in value", 3, false},
		{"label key", ctr("  label = { \"a=b\" = \"c\" }\n"), "Invalid key", 3, false},
		{"volume engine", "volume \"v\" {\n  engine = \"lxc\"\n}\n", "Invalid value for engine", 2, false},
		{"network quadlet on docker", "network \"n\" {\n  engine  = \"docker\"\n  quadlet = true\n}\n", "Quadlet needs podman", 3, false},
		{"undeclared volume", ctr("  volume {\n    source = volume.nope.name\n    target = \"/d\"\n  }\n"), "Reference to undeclared resource", 4, false},
		{"sensitive label on a volume", "variable \"p\" {\n  default = \"x\"\n  sensitive = true\n}\nvolume \"v\" {\n  label = { a = var.p }\n}\n", "Sensitive value not allowed here", 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": tc.hcl})
			_, _, diags := Load([]string{dir}, Options{})
			if !diags.HasErrors() {
				t.Fatalf("no error")
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Errorf("summary %q, want %q (detail: %s)", d.Summary, tc.summary, d.Detail)
			}
			if d.Subject == nil || d.Subject.Start.Line != tc.line || filepath.Base(d.Subject.Filename) != "host.hcl" {
				t.Errorf("subject %v, want host.hcl:%d (%s)", d.Subject, tc.line, d.Detail)
			}
			if !tc.allowed {
				return
			}
			// The same block with allow_unconfined = true loads.
			src := tc.hcl[:len(tc.hcl)-2] + "  allow_unconfined = true\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "host.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, _, diags := Load([]string{dir}, Options{}); diags.HasErrors() {
				t.Errorf("refused despite allow_unconfined: %v", diags)
			}
		})
	}
}

// TestContainerOptionsTable holds the table to its rules: one row per
// quadlet key and attribute, the attribute quadlet's key in snake_case
// (or the block's long-standing name), a podman flag for every row that
// adds one.
func TestContainerOptionsTable(t *testing.T) {
	keys, attrs := map[string]bool{}, map[string]bool{}
	longStanding := map[string]string{"SecurityLabelType": "selinux_type", "SecurityLabelLevel": "selinux_level", "PublishPort": "publish"}
	for _, o := range ContainerOptions {
		if keys[o.Key] || attrs[o.Attr] {
			t.Errorf("%s/%s twice", o.Key, o.Attr)
		}
		keys[o.Key], attrs[o.Attr] = true, true
		want := longStanding[o.Key]
		if want == "" {
			want = snake(o.Key)
		}
		if o.Attr != want {
			t.Errorf("%s is the attribute %q, want %q", o.Key, o.Attr, want)
		}
		if !o.Builtin && o.Podman == "" && o.Key != "PodmanArgs" {
			t.Errorf("%s has no podman flag", o.Key)
		}
		if (o.Type == OptBool) != (o.Read == ReadBool) {
			t.Errorf("%s: a bool is read as a bool, nothing else is", o.Key)
		}
	}
}

// snake is quadlet's key in snake_case: HealthCmd → health_cmd, IP6 → ip6,
// UIDMap → uid_map, DNSSearch → dns_search.
func snake(key string) string {
	var out []rune
	r := []rune(key)
	for i, c := range r {
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prevLower := r[i-1] >= 'a' && r[i-1] <= 'z'
			nextLower := i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z'
			prevUpper := r[i-1] >= 'A' && r[i-1] <= 'Z'
			if prevLower || prevUpper && nextLower {
				out = append(out, '_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}
