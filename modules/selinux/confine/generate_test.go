package confine

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"seconf/config"
	"seconf/host"
	"seconf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The reference case and its neighbours, as a reviewer reads them.
func TestGenerateGolden(t *testing.T) {
	logger := container("logger",
		config.Volume{Source: "/var/log", Target: "/var/log"},
		config.Volume{Source: "/etc/fluent", Target: "/fluentd/etc", ReadOnly: true})
	logger.Publish = []string{"24224:24224"}

	offline := container("batch-job.1",
		config.Volume{Source: "/srv/data", Target: "/data", ReadOnly: true},
		config.Volume{Source: "/srv/scratch", Target: "/scratch", Relabel: config.RelabelPrivate})
	offline.Network = "none"

	web := container("web", config.Volume{Source: "/var/www", Target: "/usr/share/nginx/html", ReadOnly: true})
	web.Network = "podman"
	web.Publish = []string{"127.0.0.1:8080:80", "[::1]:8443:443/tcp", "5353:5353/udp"}

	for _, c := range []*config.Container{logger, offline, web} {
		t.Run(c.Name, func(t *testing.T) {
			m := Generate(input(t, c))
			if len(m.Findings) > 0 {
				t.Errorf("findings: %+v", m.Findings)
			}
			testenv.Golden(t, filepath.Join("testdata", m.Name+".te"), string(m.Text), *update)
		})
	}
}

// Same declaration and policy, same bytes, whatever the order volumes and
// publish entries are written in.
func TestGenerateDeterministic(t *testing.T) {
	vols := []config.Volume{
		{Source: "/var/log", Target: "/var/log"},
		{Source: "/etc/app", Target: "/etc/app", ReadOnly: true},
		{Source: "/var/lib/app", Target: "/data"},
		{Source: "/var/log/app", Target: "/logs", ReadOnly: true},
		{Source: "/srv/x", Target: "/x", Relabel: config.RelabelShared},
	}
	publish := []string{"80:80", "8443:443", "53:53/udp", "9000-9002:9000-9002"}
	first := ""
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		rng.Shuffle(len(vols), func(a, b int) { vols[a], vols[b] = vols[b], vols[a] })
		rng.Shuffle(len(publish), func(a, b int) { publish[a], publish[b] = publish[b], publish[a] })
		c := container("app", vols...)
		c.Publish = append([]string(nil), publish...)
		text := string(Generate(input(t, c)).Text)
		if first == "" {
			first = text
		} else if d := cmp.Diff(first, text); d != "" {
			t.Fatalf("order %d changes the module:\n%s", i, d)
		}
	}
	// A read-only and a read-write volume on one label: manage, once.
	if strings.Count(first, "manage_files_pattern(seconf_app_t, var_log_t, var_log_t)") != 1 || strings.Contains(first, "read_files_pattern(seconf_app_t, var_log_t") {
		t.Errorf("var_log_t is not managed exactly once:\n%s", first)
	}
}

// Each volume the module cannot grant safely is reported on its own line
// and left out of the module.
func TestGenerateFindings(t *testing.T) {
	tests := []struct {
		name    string
		vol     config.Volume
		level   string
		summary string
		absent  string // a type the module must not name
	}{
		{"shadow", config.Volume{Source: "/etc/shadow", Target: "/s", ReadOnly: true}, "", "Volume not granted: sensitive label", "shadow_t"},
		{"audit log", config.Volume{Source: "/var/log/audit", Target: "/a", ReadOnly: true}, "", "Volume not granted: sensitive label", "auditd_log_t"},
		{"selinux config", config.Volume{Source: "/etc/selinux", Target: "/s"}, "", "Volume not granted: sensitive label", "selinux_config_t"},
		{"home", config.Volume{Source: "/home/alice/src", Target: "/src"}, "", "Volume not granted: sensitive label", "user_home_t"},
		{"home root", config.Volume{Source: "/home", Target: "/h", ReadOnly: true}, "", "Volume not granted: sensitive label", "home_root_t"},
		{"device", config.Volume{Source: "/dev/sda", Target: "/dev/sda"}, "", "Volume not granted: sensitive label", "fixed_disk_device_t"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := container("x", tc.vol)
			c.SELinuxLevel = tc.level
			m := Generate(input(t, c))
			if len(m.Findings) != 1 || m.Findings[0].Summary != tc.summary || m.Findings[0].Volume != 0 || m.Findings[0].Error {
				t.Fatalf("findings %+v, want one warning %q on the volume", m.Findings, tc.summary)
			}
			if strings.Contains(string(m.Text), tc.absent) {
				t.Errorf("the module names %s:\n%s", tc.absent, m.Text)
			}
		})
	}
}

// A writable volume on a label that also labels what the host runs or
// reads as its configuration is granted reading only: SELinux would grant
// the type everywhere (etc_t is passwd and sudoers too), not the directory
// mounted. A writable volume on a content label is managed as before.
func TestGenerateSystemLabelsReadOnly(t *testing.T) {
	tests := []struct{ name, source, label string }{
		{"a directory in /etc", "/etc/myapp", "etc_t"},
		{"a directory in /opt", "/opt/app/data", "usr_t"},
		{"programs", "/usr/local/bin", "bin_t"},
		{"libraries", "/usr/lib/x86_64-linux-gnu", "lib_t"},
		{"a service's configuration", "/etc/nginx", "httpd_config_t"},
		{"systemd units", "/usr/lib/systemd/system", "systemd_unit_t"},
		{"kernels", "/boot", "boot_t"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := container("x", config.Volume{Source: tc.source, Target: "/mnt"}, config.Volume{Source: "/var/lib/x", Target: "/data"})
			in := input(t, c)
			if got, _, _ := splitContext(in.Labels[tc.source].Context); got != tc.label {
				t.Fatalf("the root's file contexts label %s %q, not %s: the case tests nothing", tc.source, got, tc.label)
			}
			m := Generate(in)
			if len(m.Findings) != 1 || m.Findings[0].Summary != "Volume granted read-only: system label" || m.Findings[0].Volume != 0 || m.Findings[0].Error {
				t.Fatalf("findings %+v, want one warning on the volume", m.Findings)
			}
			text := string(m.Text)
			if strings.Contains(text, "manage_files_pattern(seconf_x_t, "+tc.label) || !strings.Contains(text, "read_files_pattern(seconf_x_t, "+tc.label+", "+tc.label+")") {
				t.Errorf("%s is not granted reading alone:\n%s", tc.label, text)
			}
			if !strings.Contains(text, "manage_files_pattern(seconf_x_t, var_lib_t, var_lib_t)") {
				t.Errorf("the content volume is no longer managed:\n%s", text)
			}
		})
	}
}

// Labels the generator is handed rather than the machine's: a label no
// rule can name, none at all, and MCS levels.
func TestGenerateLabelFindings(t *testing.T) {
	tests := []struct {
		name, context, level, summary string
	}{
		{"unknown type", "system_u:object_r:nosuch_data_t:s0", "", "Volume not granted: unknown label"},
		{"no label", "", "", "Volume not granted: no label"},
		{"categories, engine's level", "system_u:object_r:var_t:s0:c5", "", "Volume not granted: MCS level out of reach"},
		{"categories, other level", "system_u:object_r:var_t:s0:c5", "s0:c1,c2", "Volume not granted: MCS level out of reach"},
		{"range to systemhigh", "system_u:object_r:var_t:s0-s0:c0.c1023", "s0:c1,c2", "Volume not granted: MCS level out of reach"},
		{"categories, dominated", "system_u:object_r:var_t:s0:c5", "s0:c1,c5", ""},
		{"plain s0", "system_u:object_r:var_t:s0", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := container("x", config.Volume{Source: "/srv/d", Target: "/d"})
			c.SELinuxLevel = tc.level
			in := input(t, c)
			in.Labels["/srv/d"] = Label{Context: tc.context}
			m := Generate(in)
			granted := strings.Contains(string(m.Text), "manage_files_pattern(seconf_x_t, var_t, var_t)")
			if tc.summary == "" {
				if len(m.Findings) > 0 || !granted {
					t.Fatalf("want the volume granted, got findings %+v:\n%s", m.Findings, m.Text)
				}
				return
			}
			if len(m.Findings) != 1 || m.Findings[0].Summary != tc.summary {
				t.Fatalf("findings %+v, want %q", m.Findings, tc.summary)
			}
			if granted {
				t.Errorf("the volume is granted anyway:\n%s", m.Text)
			}
		})
	}
}

// Errors keep the module from being installed: the container policy
// missing, publish entries that are not ports or have no network.
func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Input)
		attr    string
		summary string
	}{
		{"no container policy", func(in *Input) { in.Declared = nil }, "confine", "No container policy"},
		{"bad publish", func(in *Input) { in.Container.Publish = []string{"80:http"} }, "publish", "Invalid publish entry"},
		{"publish without network", func(in *Input) {
			in.Container.Publish = []string{"80:80"}
			in.Container.Network = "none"
		}, "publish", "Publish without a network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, container("x"))
			tc.edit(&in)
			m := Generate(in)
			if len(m.Findings) == 0 || !m.Findings[0].Error || m.Findings[0].Attr != tc.attr || m.Findings[0].Summary != tc.summary {
				t.Fatalf("findings %+v, want the error %q on %s", m.Findings, tc.summary, tc.attr)
			}
		})
	}
}

func TestParsePublish(t *testing.T) {
	tests := []struct {
		spec string
		want []Port
		err  bool
	}{
		{spec: "80", want: []Port{{"80", "tcp", 80, 80}}},
		{spec: "8080:80", want: []Port{{"8080:80", "tcp", 80, 80}}},
		{spec: "127.0.0.1:8080:80/udp", want: []Port{{"127.0.0.1:8080:80/udp", "udp", 80, 80}}},
		{spec: "127.0.0.1::80", want: []Port{{"127.0.0.1::80", "tcp", 80, 80}}},
		{spec: "[::1]:8443:443", want: []Port{{"[::1]:8443:443", "tcp", 443, 443}}},
		{spec: "9000-9002:9000-9002/tcp,udp", want: []Port{{"9000-9002:9000-9002/tcp,udp", "tcp", 9000, 9002}, {"9000-9002:9000-9002/tcp,udp", "udp", 9000, 9002}}},
		{spec: "8000-8010:80", want: []Port{{"8000-8010:80", "tcp", 80, 80}}},
		{spec: "53:53/sctp", want: []Port{{"53:53/sctp", "sctp", 53, 53}}},
		{spec: "80:http", err: true},
		{spec: "0:0", err: true},
		{spec: "70000", err: true},
		{spec: "80/icmp", err: true},
		{spec: "90-80", err: true},
		{spec: "1:2:3:4", err: true},
		{spec: "9000-9002:80-81", err: true},
		{spec: "[::1]80", err: true},
		{spec: "", err: true},
		{spec: "080", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParsePublish(tc.spec)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestReachable(t *testing.T) {
	tests := []struct {
		container, file string
		want            bool
	}{
		{"", "", true},
		{"", "s0", true},
		{"", "s0-s0", true},
		{"", "s0:c1", false},
		{"", "s0-s0:c0.c1023", false},
		{"", "s1", false},
		{"s0:c1,c2", "s0:c1", true},
		{"s0:c1,c2", "s0:c1,c2", true},
		{"s0:c1,c2", "s0:c1,c3", false},
		{"s0:c0.c1023", "s0:c17,c99", true},
		{"s0-s0:c1,c2", "s0:c2", true},
		{"s0:c1", "bogus", false},
		{"bogus", "s0", false},
	}
	for _, tc := range tests {
		if got, _ := reachable(tc.container, tc.file); got != tc.want {
			t.Errorf("reachable(%q, %q) = %v, want %v", tc.container, tc.file, got, tc.want)
		}
	}
}

// The flavor comes from the template's definition: refpolicy's takes one
// argument, container-selinux's two; older policies only have the virt
// sandbox template. The headers here are written for the test, shaped as
// each policy's are.
func TestDetectFlavor(t *testing.T) {
	refTemplate := "template(`container_domain_template',`\n\tgen_require(`\n\t\tattribute container_domain;\n\t')\n\ttype $1_t, container_domain;\n\tdomain_type($1_t)\n')\n"
	csTemplate := "template(`container_domain_template',`\n\ttype $1_t, container_domain;\n\tallow $1_t $2_file_t:file entrypoint;\n\tcontainer_manage_files_template($1, $2)\n')\n"
	virtTemplate := "template(`virt_sandbox_domain_template',`\n\ttype $1_t, svirt_sandbox_domain;\n')\n"
	tests := []struct {
		name  string
		files map[string][]byte
		want  Flavor
		err   bool
	}{
		{"refpolicy", map[string][]byte{"services/container.if": []byte(refTemplate)}, Refpolicy, false},
		{"container-selinux", map[string][]byte{"contrib/container.if": []byte(csTemplate), "contrib/virt.if": []byte(virtTemplate)},
			func() Flavor { f := ContainerSELinux; f.Entrypoint = true; return f }(), false},
		{"virt sandbox", map[string][]byte{"contrib/virt.if": []byte(virtTemplate)}, VirtSandbox, false},
		{"none", map[string][]byte{"services/docker.if": []byte("interface(`docker_exec',`\n')\n")}, Flavor{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectFlavor(tc.files)
			if (err != nil) != tc.err {
				t.Fatalf("error %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Error(d)
			}
		})
	}
	t.Run("this machine", func(t *testing.T) {
		files, err := ReadHeaders(host.DevelInclude)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DetectFlavor(files)
		if err != nil || got.Name != "refpolicy" {
			t.Fatalf("the machine's devel headers (Debian's refpolicy) read as %+v, %v", got, err)
		}
	})
}

// The container-selinux and virt sandbox flavors write their templates'
// own calls and attributes.
func TestGenerateFlavors(t *testing.T) {
	c := container("logger", config.Volume{Source: "/var/log", Target: "/var/log"})
	cs := ContainerSELinux
	cs.Entrypoint = true
	for _, tc := range []struct {
		f         Flavor
		want, not []string
	}{
		{cs, []string{"container_domain_template(seconf_logger, container)", "typeattribute seconf_logger_t container_net_domain;"},
			[]string{"container_system_domain", "entrypoint"}},
		{VirtSandbox, []string{"virt_sandbox_domain_template(seconf_logger)", "typeattribute seconf_logger_t sandbox_net_domain;", "allow seconf_logger_t svirt_sandbox_file_t:file entrypoint;"},
			[]string{"container_"}},
	} {
		t.Run(tc.f.Name, func(t *testing.T) {
			in := input(t, c)
			in.Flavor = tc.f
			in.Declared = map[string]bool{"container_domain": true, "container_net_domain": true, "container_file_t": true,
				"svirt_sandbox_domain": true, "sandbox_net_domain": true, "svirt_sandbox_file_t": true}
			m := Generate(in)
			text := string(m.Text)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("no %q in:\n%s", w, text)
				}
			}
			for _, n := range tc.not {
				for _, l := range strings.Split(text, "\n") {
					if !strings.HasPrefix(l, "#") && strings.Contains(l, n) {
						t.Errorf("%q in %q", n, l)
					}
				}
			}
		})
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// TestOtherDistributionCompiles compiles generated modules with another
// distribution's devel headers (SECONF_POLICY_INCLUDE: a devel include
// directory, such as a Fedora policy's, built with `make install-headers`
// and container-selinux's container.if in contrib/): the flavor is read
// from them, and their Makefile must compile what the generator writes.
// Optional: this machine has Debian's headers only, which cmd/seconf's
// tests compile and install.
func TestOtherDistributionCompiles(t *testing.T) {
	dir := os.Getenv("SECONF_POLICY_INCLUDE")
	if dir == "" {
		t.Skip("SECONF_POLICY_INCLUDE is not set")
	}
	headers, err := ReadHeaders(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := DetectFlavor(headers)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flavor %+v", f)
	for _, c := range []*config.Container{
		container("logger", config.Volume{Source: "/var/log", Target: "/var/log"}, config.Volume{Source: "/etc/fluent", Target: "/etc/fluent", ReadOnly: true}),
		func() *config.Container {
			c := container("web", config.Volume{Source: "/var/www", Target: "/srv", ReadOnly: true})
			c.Publish = []string{"8080:80", "53:53/udp"}
			return c
		}(),
		func() *config.Container { c := container("offline"); c.Network = "none"; return c }(),
	} {
		t.Run(c.Name, func(t *testing.T) {
			in := input(t, c)
			in.Flavor = f
			in.Declared = map[string]bool{f.Domain: true, f.FileType: true, f.NetDomain: true, f.SystemDomain: true}
			m := Generate(in)
			if len(m.Findings) > 0 {
				t.Fatalf("findings %+v", m.Findings)
			}
			work := t.TempDir()
			if err := os.WriteFile(filepath.Join(work, m.Name+".te"), m.Text, 0o644); err != nil {
				t.Fatal(err)
			}
			mk := testenv.Tool(t, "", "make", "install make")
			res, err := host.ExecRunner{}.Run(t.Context(), host.Cmd{Name: mk, Dir: work,
				Args: []string{"-f", filepath.Join(dir, "Makefile"), "HEADERDIR=" + dir, "NAME=other", m.Name + ".pp"}})
			if err != nil {
				t.Fatalf("%v\n%s%s\n%s", err, res.Stdout, res.Stderr, m.Text)
			}
		})
	}
}

// Mount entries of type bind are volumes too; a named volume and a
// relabelled bind are the engine's container_file_t; tmpfs is the
// container's own.
func TestGenerateMounts(t *testing.T) {
	c := container("m")
	c.Options = map[string]config.OptionValue{"mount": {List: []string{
		"type=bind,source=/var/log,destination=/logs,ro=true",
		"type=bind,src=/srv/data,dst=/data",
		"type=bind,source=/srv/cache,target=/cache,relabel=private",
		"type=volume,source=appdata,destination=/appdata",
		"type=tmpfs,destination=/tmp",
	}}}
	m := Generate(input(t, c))
	text := string(m.Text)
	for _, want := range []string{
		"read_files_pattern(seconf_m_t, var_log_t, var_log_t)",
		"manage_files_pattern(seconf_m_t, var_t, var_t)",
		`# mount "/srv/cache" -> "/cache" (read-write), relabel = "private": the engine`,
		`# mount "appdata" -> "/appdata" (read-write): a named volume`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "manage_files_pattern(seconf_m_t, var_log_t") || strings.Contains(text, "/tmp") {
		t.Errorf("a read-only bind managed, or tmpfs named:\n%s", text)
	}
	// A finding on a bind mount points at its element of mount.
	c.Options["mount"] = config.OptionValue{List: []string{"type=bind,source=/etc/shadow,destination=/s,ro"}}
	m = Generate(input(t, c))
	if len(m.Findings) != 1 || m.Findings[0].Attr != "mount[0]" || m.Findings[0].Volume != -1 {
		t.Errorf("findings %+v, want one on mount[0]", m.Findings)
	}
}

// The type may use the capabilities the engine gives the container: its
// defaults, less what the block drops, plus what it adds.
func TestCapabilities(t *testing.T) {
	tests := []struct {
		name, engine    string
		drop, add       []string
		defaults, added []string
	}{
		{"podman", "podman", nil, nil, []string{"chown", "dac_override", "fowner", "fsetid", "kill", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"}, nil},
		{"docker", "docker", []string{"CAP_MKNOD", "net_raw"}, nil, []string{"audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"}, nil},
		{"drop all, add one", "podman", []string{"all"}, []string{"NET_BIND_SERVICE"}, nil, []string{"net_bind_service"}},
		{"add what is there", "podman", nil, []string{"CHOWN", "sys_nice"}, []string{"chown", "dac_override", "fowner", "fsetid", "kill", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"}, []string{"sys_nice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := container("x")
			c.Engine = tc.engine
			c.Options = map[string]config.OptionValue{"drop_capability": {List: tc.drop}, "add_capability": {List: tc.add}}
			d, a := Capabilities(c)
			if diff := cmp.Diff([2][]string{tc.defaults, tc.added}, [2][]string{d, a}, cmpopts.EquateEmpty()); diff != "" {
				t.Error(diff)
			}
		})
	}
	// In the module: capability2 for what that class names, a finding for
	// what no class names, nothing when everything is dropped.
	c := container("x")
	c.Options = map[string]config.OptionValue{"drop_capability": {List: []string{"all"}}, "add_capability": {List: []string{"wake_alarm", "bogus"}}}
	m := Generate(input(t, c))
	if !strings.Contains(string(m.Text), "allow seconf_x_t self:capability2 wake_alarm;") || strings.Contains(string(m.Text), "self:capability ") {
		t.Errorf("module:\n%s", m.Text)
	}
	if len(m.Findings) != 1 || m.Findings[0].Summary != "Capability not granted" {
		t.Errorf("findings %+v", m.Findings)
	}
}
