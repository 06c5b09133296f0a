package confine

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"seconf/config"
	"seconf/modules/selinux/filecontexts"
)

// FuzzGenerate: for any declaration, the generated module is well formed
// and grants nothing the declaration did not ask for (checkModule, a
// structural reading of the text against the declaration), the same
// declaration gives the same bytes, and a sensitive or unreachable label is
// never named. That the text compiles, and that the compiled policy holds
// no more than this, is proven with the real tools in cmd/seconf's
// TestConfinedGrantsOnlyDeclared over many random declarations: a compile
// per fuzz iteration (seconds) would leave the fuzzer a few executions.
func FuzzGenerate(f *testing.F) {
	f.Add("logger", "/var/log\n/etc/fluent ro", "24224:24224", "", "", "", uint8(0))
	f.Add("web-1.blue", "/var/www ro\n/srv/x z", "127.0.0.1:8080:80 [::1]:8443:443/tcp 53:53/udp", "podman", "s0:c1,c2", "-all +net_bind_service", uint8(1))
	f.Add("batch", "/etc/shadow ro\n/home/alice\n/var/log/audit ro\n/dev/sda", "80:80", "none", "", "-CAP_CHOWN +SYS_NICE +wake_alarm +bogus", uint8(2))
	f.Add("x", "/srv/we'ird`path,dnl(x)\n/var/lib/app", "9000-9100:9000-9100/tcp,udp 1000-3000", "podman-net", "s0", "", uint8(3))
	f.Fuzz(func(t *testing.T, name, vols, publish, network, level, caps string, flags uint8) {
		if !validName(name) || hasControl(vols+publish+network+level+caps) {
			return // config refuses these before any module is written
		}
		_, fc := machine(t)
		c := container(name)
		c.Network, c.SELinuxLevel = network, level
		c.Options = map[string]config.OptionValue{}
		for _, w := range strings.Fields(caps) {
			key := map[byte]string{'+': "add_capability", '-': "drop_capability"}[w[0]]
			if key == "" {
				continue
			}
			o := c.Options[key]
			o.List = append(o.List, w[1:])
			c.Options[key] = o
		}
		c.Publish = strings.Fields(publish)
		if len(c.Publish) > 8 {
			return // a wide range costs milliseconds; many make the fuzzer crawl
		}
		labels := map[string]Label{}
		for i, l := range strings.Split(vols, "\n") {
			f := strings.Fields(l)
			if len(f) == 0 || i >= 8 {
				continue
			}
			v := config.Volume{Source: path.Clean("/" + f[0]), Target: fmt.Sprintf("/v%d", i), Relabel: config.RelabelNone}
			for _, opt := range f[1:] {
				switch opt {
				case "ro":
					v.ReadOnly = true
				case "z":
					v.Relabel = config.RelabelShared
				}
			}
			c.Volumes = append(c.Volumes, v)
			lb := Label{}
			if ctx, ok := fc.Lookup(v.Source, filecontexts.Any); ok {
				lb.Context = ctx.String()
				if flags&(1<<uint(i%8)) != 0 {
					lb.Context += fmt.Sprintf(":c%d", i) // a category the engine's level cannot reach
				}
			}
			labels[v.Source] = lb
		}
		in := input(t, c)
		in.Labels = labels
		m := Generate(in)
		if again := Generate(in); !bytes.Equal(m.Text, again.Text) {
			t.Fatal("two runs, two modules")
		}
		if err := checkModule(in, m); err != nil {
			t.Fatalf("%v\n%s", err, m.Text)
		}
	})
}

func validName(s string) bool {
	if s == "" || len(s) > 64 || strings.Contains(s, "..") {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case (r == '-' || r == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// Types no generated rule may ever name, whatever the declaration.
var neverGranted = []string{"shadow_t", "auditd_log_t", "user_home_t", "user_home_dir_t", "home_root_t", "selinux_config_t",
	"policy_config_t", "security_t", "file_context_t", "semanage_store_t", "fixed_disk_device_t", "unconfined_t", "kernel_t"}

var (
	identRe   = regexp.MustCompile(`[A-Za-z0-9_]+`)
	allowRe   = regexp.MustCompile(`^allow (\w+) (\w+):(\w+|\{ [\w ]+ \}) (\w+|\{ [\w ]+ \});$`)
	patternRe = regexp.MustCompile(`^(manage|list|read)_(dirs|files|lnk_files)_pattern\((\w+), (\w+), (\w+)\)$`)
	attrRe    = regexp.MustCompile(`^typeattribute (\w+) (\w+);$`)
	requireRe = regexp.MustCompile(`^\t(type|attribute) (\w+);$`)
)

// checkModule reads a generated module line by line and holds every
// statement to what the declaration asks, computed here from the
// declaration itself: a rule on a file label only for a volume with that
// label (manage only for a read-write one), name_bind only on the type of
// a published port, the network attribute only with a network.
func checkModule(in Input, m *Module) error {
	c := in.Container
	typ := config.ConfinedType(c.Name)
	f := in.Flavor
	network := c.Network != "none"
	labels := map[string]bool{} // label → some volume with it is read-write
	for _, v := range Binds(c) {
		if v.Relabel != config.RelabelNone || v.Named {
			continue
		}
		t, _, ok := splitContext(in.Labels[v.Source].Context)
		if !ok {
			continue
		}
		if pt, found := in.Policy.PrimaryType(t); found {
			t = pt
		}
		labels[t] = labels[t] || !v.ReadOnly
	}
	// An upper bound on the port types a publish entry asks for: the
	// types of every portcon its range meets, and port_t.
	ports := map[string]bool{} // "tcp http_port_t"
	for _, spec := range c.Publish {
		ps, err := ParsePublish(spec)
		if err != nil || !network {
			continue
		}
		for _, p := range ps {
			ports[p.Proto+" port_t"] = true
			for _, pc := range in.Policy.PortCons() {
				if pc.Protocol == p.Proto && pc.Low <= p.High && pc.High >= p.Low {
					ports[p.Proto+" "+pc.Context.Type] = true
				}
			}
		}
	}
	// The capabilities the engine gives, less the dropped, plus the added.
	caps := map[string]bool{}
	for _, cp := range map[string][]string{
		"podman": {"chown", "dac_override", "fowner", "fsetid", "kill", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"},
		"docker": {"audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod", "net_bind_service", "net_raw", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"},
	}[c.Engine] {
		caps[cp] = true
	}
	for _, d := range c.Options["drop_capability"].List {
		d = strings.TrimPrefix(strings.ToLower(d), "cap_")
		if d == "all" {
			caps = map[string]bool{}
		}
		delete(caps, d)
	}
	for _, a := range c.Options["add_capability"].List {
		caps[strings.TrimPrefix(strings.ToLower(a), "cap_")] = true
	}
	required := map[string]bool{typ: true}
	lines := strings.Split(string(m.Text), "\n")
	commented, inRequire, sawModule := false, false, false
	for n, l := range lines {
		where := fmt.Sprintf("line %d %q", n+1, l)
		switch {
		case l == "":
			commented = false
			continue
		case strings.HasPrefix(l, "#"):
			// m4 reads no quote inside a top-level comment, but a value
			// from the declaration must not bring one anyway.
			if strings.Contains(l, "`") {
				return fmt.Errorf("%s: an m4 open quote in a comment", where)
			}
			commented = true
			continue
		case inRequire:
			if l == "')" {
				inRequire = false
				continue
			}
			r := requireRe.FindStringSubmatch(l)
			if r == nil {
				return fmt.Errorf("%s: not a requirement", where)
			}
			if !in.Policy.HasType(r[2]) && !in.Policy.IsAttribute(r[2]) && !in.Declared[r[2]] {
				return fmt.Errorf("%s: requires a name the policy does not have", where)
			}
			required[r[2]] = true
			continue
		case l == "gen_require(`":
			inRequire = true
			continue
		case l == fmt.Sprintf("policy_module(%s, 1.0)", m.Name):
			sawModule = true
			continue
		}
		if !commented {
			return fmt.Errorf("%s: a rule no comment explains", where)
		}
		for _, id := range identRe.FindAllString(l, -1) {
			for _, never := range neverGranted {
				if id == never {
					return fmt.Errorf("%s: names %s", where, never)
				}
			}
		}
		prefix := strings.TrimSuffix(typ, "_t")
		switch {
		case l == fmt.Sprintf("%s(%s)", f.Template, prefix) && !f.FileArg:
		case l == fmt.Sprintf("%s(%s, container)", f.Template, prefix) && f.FileArg:
		case attrRe.MatchString(l):
			a := attrRe.FindStringSubmatch(l)
			if a[1] != typ || !(a[2] == f.SystemDomain || a[2] == f.NetDomain && network) {
				return fmt.Errorf("%s: an attribute the declaration does not ask for", where)
			}
		case patternRe.MatchString(l):
			p := patternRe.FindStringSubmatch(l)
			rw, ok := labels[p[4]]
			if p[3] != typ || p[4] != p[5] || !ok || p[1] == "manage" && !rw {
				return fmt.Errorf("%s: access no volume asks for", where)
			}
		case allowRe.MatchString(l):
			a := allowRe.FindStringSubmatch(l)
			src, tgt, class, perms := a[1], a[2], a[3], a[4]
			_, isLabel := labels[tgt]
			capsOK := tgt == "self" && (class == "capability" || class == "capability2")
			for _, p := range strings.Fields(strings.Trim(perms, "{}")) {
				capsOK = capsOK && caps[p]
			}
			ok := src == typ && (tgt == f.FileType && class == "file" && perms == "entrypoint" && !f.Entrypoint || capsOK ||
				strings.HasSuffix(class, "_socket") && perms == "name_bind" && ports[strings.TrimSuffix(class, "_socket")+" "+tgt] ||
				tgt == "node_t" && strings.HasSuffix(class, "_socket") && perms == "node_bind" && len(ports) > 0 ||
				isLabel && (class == "{ dir file }" || class == "file") && perms == "watch" ||
				isLabel && class == "file" && (perms == "read_file_perms" || perms == "rw_file_perms" && labels[tgt]))
			if !ok {
				return fmt.Errorf("%s: a rule the declaration does not ask for", where)
			}
		default:
			return fmt.Errorf("%s: not a statement the generator writes", where)
		}
		for _, id := range identRe.FindAllString(l, -1) {
			if strings.HasSuffix(id, "_t") && !required[id] && id != typ && !strings.HasPrefix(l, f.Template) {
				return fmt.Errorf("%s: %s is not required", where, id)
			}
		}
	}
	if !sawModule {
		return fmt.Errorf("no policy_module(%s, 1.0)", m.Name)
	}
	return nil
}

// TestCheckModuleCatches: the structural check is not vacuous: a rule the
// declaration did not ask for, or one without its comment, fails it.
func TestCheckModuleCatches(t *testing.T) {
	c := container("logger", config.Volume{Source: "/var/log", Target: "/var/log", ReadOnly: true})
	in := input(t, c)
	m := Generate(in)
	if err := checkModule(in, m); err != nil {
		t.Fatalf("the generated module fails: %v\n%s", err, m.Text)
	}
	for name, edit := range map[string]func(string) string{
		"manage on a read-only volume": func(s string) string {
			return strings.Replace(s, "read_files_pattern(", "manage_files_pattern(", 1)
		},
		"an extra label": func(s string) string {
			return s + "# asked by nobody\nallow seconf_logger_t etc_t:file read_file_perms;\n"
		},
		"a rule without comment": func(s string) string { return s + "\nallow seconf_logger_t var_log_t:file watch;\n" },
		"shadow":                 func(s string) string { return s + "# x\nallow seconf_logger_t shadow_t:file read_file_perms;\n" },
		"capability":             func(s string) string { return s + "# x\nallow seconf_logger_t self:capability sys_admin;\n" },
	} {
		bad := *m
		bad.Text = []byte(edit(string(m.Text)))
		if err := checkModule(in, &bad); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}
