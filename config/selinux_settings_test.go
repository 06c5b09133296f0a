package config

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSettingsDecode(t *testing.T) {
	dir := write(t, map[string]string{"host.hcl": `
variable "port" { default = 5000 }
selinux_boolean "httpd_can_network_connect" {
  value = true
}
selinux_fcontext "srv_data" {
  path = "/srv/data(/.*)?"
  type = "httpd_sys_content_t"
}
selinux_fcontext "www" {
  path      = "/srv/www"
  type      = "httpd_sys_content_t"
  file_type = "directory"
}
selinux_fcontext "podman" {
  path  = "/usr/lib/podman"
  equal = "/usr/libexec/podman"
}
selinux_port "registry" {
  protocol = "tcp"
  port     = var.port
  type     = "http_port_t"
}
selinux_port "range" {
  protocol   = "udp"
  port       = "6000-6010"
  type       = "http_port_t"
  depends_on = [selinux_boolean.httpd_can_network_connect]
}
container "web" {
  image      = "i"
  depends_on = [selinux_port.registry, selinux_fcontext.srv_data]
  volume {
    source = "/srv/www"
    target = "/www"
  }
}
`})
	cfg, _, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ignore := cmpopts.IgnoreFields(Block{}, "DeclRange", "Ranges", "Deps")
	wantB := []*Boolean{{Block: Block{Kind: KindBoolean, Name: "httpd_can_network_connect"}, Value: true}}
	if d := cmp.Diff(wantB, cfg.Booleans, ignore); d != "" {
		t.Errorf("booleans (-want +got):\n%s", d)
	}
	wantF := []*FContext{
		{Block: Block{Kind: KindFContext, Name: "srv_data"}, Path: "/srv/data(/.*)?", Type: "httpd_sys_content_t", FileType: "all"},
		{Block: Block{Kind: KindFContext, Name: "www"}, Path: "/srv/www", Type: "httpd_sys_content_t", FileType: "directory"},
		{Block: Block{Kind: KindFContext, Name: "podman"}, Path: "/usr/lib/podman", Equal: "/usr/libexec/podman", FileType: "all"},
	}
	if d := cmp.Diff(wantF, cfg.FContexts, ignore); d != "" {
		t.Errorf("fcontexts (-want +got):\n%s", d)
	}
	wantP := []*Port{
		{Block: Block{Kind: KindPort, Name: "registry"}, Protocol: "tcp", Low: 5000, High: 5000, Type: "http_port_t"},
		{Block: Block{Kind: KindPort, Name: "range"}, Protocol: "udp", Low: 6000, High: 6010, Type: "http_port_t"},
	}
	if d := cmp.Diff(wantP, cfg.Ports, ignore); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
	var deps []string
	for _, d := range cfg.Containers[0].Deps {
		deps = append(deps, d.ID())
	}
	if d := cmp.Diff([]string{"selinux_port.registry", "selinux_fcontext.srv_data"}, deps); d != "" {
		t.Errorf("container deps (-want +got):\n%s", d)
	}
	if got := cfg.Ports[1].Deps; len(got) != 1 || got[0].ID() != "selinux_boolean.httpd_can_network_connect" {
		t.Errorf("port deps: %v", got)
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name, hcl, summary string
		line               int
	}{
		{"boolean without value", "selinux_boolean \"b\" {\n}\n", "Missing required argument", 1},
		{"boolean not a bool", "selinux_boolean \"b\" {\n  value = \"maybe\"\n}\n", "Incorrect attribute value type", 2},
		{"boolean name", "selinux_boolean \"a-b\" {\n  value = true\n}\n", "Invalid boolean name", 1},
		{"fcontext without type", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n}\n", "Missing type", 1},
		{"fcontext type and equal", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  type = \"var_t\"\n  equal = \"/var\"\n}\n", "Conflicting arguments", 4},
		{"fcontext file type", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  type = \"var_t\"\n  file_type = \"fifo\"\n}\n", "Invalid value for file_type", 4},
		{"fcontext bad type name", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  type = \"var_t:s0\"\n}\n", "Invalid SELinux type", 3},
		{"fcontext quote", "selinux_fcontext \"f\" {\n  path = \"/srv/it's\"\n  type = \"var_t\"\n}\n", "Quote in path", 2},
		{"equivalence regex", "selinux_fcontext \"f\" {\n  path = \"/srv(/.*)?\"\n  equal = \"/var\"\n}\n", "Invalid path", 2},
		{"equivalence trailing slash", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  equal = \"/var/\"\n}\n", "Invalid path", 3},
		{"equivalence with file_type", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  equal = \"/var\"\n  file_type = \"file\"\n}\n", "Conflicting arguments", 4},
		{"equivalence to itself", "selinux_fcontext \"f\" {\n  path = \"/srv\"\n  equal = \"/srv\"\n}\n", "Equivalence to itself", 3},
		{"same path twice", "selinux_fcontext \"a\" {\n  path = \"/srv\"\n  type = \"var_t\"\n}\nselinux_fcontext \"b\" {\n  path = \"/srv\"\n  type = \"etc_t\"\n  file_type = \"file\"\n}\n", "Conflicting file contexts", 6},
		{"rule under equivalence", "selinux_fcontext \"e\" {\n  path = \"/srv\"\n  equal = \"/var\"\n}\nselinux_fcontext \"f\" {\n  path = \"/srv/x(/.*)?\"\n  type = \"var_t\"\n}\n", "File context under an equivalence", 6},
		{"port out of range", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 70000\n  type = \"http_port_t\"\n}\n", "Invalid port", 3},
		{"port zero", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 0\n  type = \"http_port_t\"\n}\n", "Invalid port", 3},
		{"port backwards", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = \"5010-5000\"\n  type = \"http_port_t\"\n}\n", "Invalid port", 3},
		{"port not a number", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = \"http\"\n  type = \"http_port_t\"\n}\n", "Invalid port", 3},
		{"port fraction", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 80.5\n  type = \"http_port_t\"\n}\n", "Invalid port", 3},
		{"port protocol", "selinux_port \"p\" {\n  protocol = \"icmp\"\n  port = 80\n  type = \"http_port_t\"\n}\n", "Invalid value for protocol", 2},
		{"port without type", "selinux_port \"p\" {\n  protocol = \"tcp\"\n  port = 80\n}\n", "Missing required argument", 1},
		{"same port twice", "selinux_port \"a\" {\n  protocol = \"tcp\"\n  port = 80\n  type = \"http_port_t\"\n}\nselinux_port \"b\" {\n  protocol = \"tcp\"\n  port = \"80\"\n  type = \"ssh_port_t\"\n}\n", "Conflicting ports", 8},
		{"depends on unknown setting", "container \"c\" {\n  image = \"i\"\n  depends_on = [selinux_boolean.nope]\n}\n", "Reference to undeclared resource", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"host.hcl": tc.hcl})
			_, _, diags := Load([]string{dir}, Options{})
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Errorf("summary %q, want %q (%s)", d.Summary, tc.summary, d.Detail)
			}
			if d.Subject == nil || d.Subject.Start.Line != tc.line || filepath.Base(d.Subject.Filename) != "host.hcl" {
				t.Errorf("subject %v, want host.hcl:%d", d.Subject, tc.line)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in        string
		low, high int
		ok        bool
	}{
		{"80", 80, 80, true}, {"1", 1, 1, true}, {"65535", 65535, 65535, true}, {"5000-5010", 5000, 5010, true},
		{"5000-5000", 5000, 5000, true}, {"0", 0, 0, false}, {"65536", 0, 0, false}, {"-1", 0, 0, false},
		{"+80", 0, 0, false}, {" 80", 0, 0, false}, {"80-", 0, 0, false}, {"1-2-3", 0, 0, false}, {"", 0, 0, false},
	}
	for _, tc := range tests {
		low, high, err := ParsePortRange(tc.in)
		if (err == nil) != tc.ok || tc.ok && (low != tc.low || high != tc.high) {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v", tc.in, low, high, err)
		}
	}
}
