package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"seconf/config"
	"seconf/host"
	"seconf/internal/testenv"
	"seconf/modules/selinux/confine"
	"seconf/modules/selinux/filecontexts"
	"seconf/modules/selinux/policydb"
)

// The reference case with confine = true: the logs read-write, its
// configuration read-only, and a volume it must not get.
const loggerHCL = `
container "logger" {
  image   = "docker.io/fluent/fluentd:v1.17-1"
  confine = true
  publish = ["24224:24224"]
  volume {
    source = "/var/log"
    target = "/var/log"
  }
  volume {
    source    = "/etc/fluent"
    target    = "/fluentd/etc"
    read_only = true
  }
  volume {
    source    = "/etc/shadow"
    target    = "/shadow"
    read_only = true
  }
}
`

// Two confined containers that declare nothing: what every generated type
// has whatever its declaration, with and without a network. The property
// test measures the others against them.
const baselineHCL = `
container "base-none" {
  image   = "i"
  confine = true
  network = "none"
}
container "base-net" {
  image   = "i"
  confine = true
}
`

// confineArgs are the flags and paths that apply a configuration on a
// private root of this machine: Debian 12 needs refpolicy's container
// module in the same configuration.
func confineArgs(t *testing.T, root, dir string) []string {
	return exampleArgs(t, root, dir)
}

func sesearch(t *testing.T, pol string, args ...string) string {
	t.Helper()
	bin := testenv.Tool(t, "", "sesearch", "install setools")
	out, err := host.ExecRunner{}.Run(t.Context(), host.Cmd{Name: bin, Args: append([]string{pol, "-A"}, args...)})
	if err != nil {
		t.Fatalf("sesearch %v: %v", args, err)
	}
	return string(out.Stdout)
}

// perms is the set of permissions sesearch's rules grant.
func perms(out string) map[string]bool {
	set := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		i := strings.LastIndex(l, ":")
		if i < 0 {
			continue
		}
		f := strings.Fields(strings.NewReplacer("{", " ", "}", " ", ";", " ").Replace(l[i+1:]))
		for _, p := range f[1:] {
			set[p] = true
		}
	}
	return set
}

func readPolicy(t *testing.T, root string) (*policydb.Policy, string) {
	t.Helper()
	p := filepath.Join(root, "var/lib/selinux/default/active/policy.kern")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policydb.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return pol, p
}

// TestConfine installs generated modules with the real semodule on a copy of
// this machine's policy store and checks them as a reviewer would: the
// reference case has what its declaration needs and nothing more (sesearch,
// and the type's attributes), random declarations grant exactly what they
// declare (TestConfinedGrantsOnlyDeclared, same commit), a second apply
// commits nothing, a second root gets byte-identical modules, and removing
// confine or the container removes the module.
func TestConfine(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 7))
	decls := randomContainers(rng, 8)
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": loggerHCL + baselineHCL + decls})
	args := confineArgs(t, root, cfg)

	out := mustSeconf(t, 0, append([]string{"plan"}, args...)...)
	if !strings.Contains(out, "+ create   selinux_module.seconf_logger") || !strings.Contains(out, "/etc/shadow is labelled shadow_t") {
		t.Errorf("plan does not create the module or warn of /etc/shadow:\n%s", out)
	}
	mustSeconf(t, 0, append([]string{"apply"}, args...)...)
	pol, polPath := readPolicy(t, root)

	t.Run("reference case", func(t *testing.T) {
		const typ = "seconf_logger_t"
		logs := perms(sesearch(t, polPath, "-s", typ, "-t", "var_log_t", "-c", "file"))
		for _, p := range []string{"create", "write", "append", "unlink", "rename", "read", "open"} {
			if !logs[p] {
				t.Errorf("no %s on var_log_t files (read-write /var/log)", p)
			}
		}
		etc := perms(sesearch(t, polPath, "-s", typ, "-t", "etc_t", "-c", "file"))
		if !etc["read"] || !etc["open"] || etc["write"] || etc["append"] || etc["create"] || etc["unlink"] {
			t.Errorf("etc_t files (read-only /etc/fluent): %v", etc)
		}
		for _, tc := range []struct{ target, class string }{{"shadow_t", "file"}, {"user_home_t", "file"}, {"user_home_dir_t", "file"}} {
			if got := sesearch(t, polPath, "-s", typ, "-t", tc.target, "-c", tc.class); strings.TrimSpace(got) != "" {
				t.Errorf("%s:%s granted:\n%s", tc.target, tc.class, got)
			}
		}
		// Every container domain may search every directory (refpolicy's
		// files_search_all); listing or changing home directories it may not.
		home := perms(sesearch(t, polPath, "-s", typ, "-t", "user_home_t", "-c", "dir"))
		for _, p := range []string{"read", "write", "add_name", "remove_name"} {
			if home[p] {
				t.Errorf("%s on user_home_t directories", p)
			}
		}
		if got := sesearch(t, polPath, "-s", typ, "-c", "capability", "-p", "sys_admin"); strings.TrimSpace(got) != "" {
			t.Errorf("sys_admin granted:\n%s", got)
		}
		if !perms(sesearch(t, polPath, "-s", typ, "-t", "unreserved_port_t", "-c", "tcp_socket"))["name_bind"] {
			t.Error("cannot bind its published port 24224 (unreserved_port_t)")
		}
		attrs := map[string]bool{}
		for _, a := range pol.TypeAttributes(typ) {
			attrs[a] = true
		}
		for _, a := range []string{"container_domain", "container_system_domain", "container_net_domain", "mcs_constrained_type"} {
			if !attrs[a] {
				t.Errorf("not in %s: %v", a, pol.TypeAttributes(typ))
			}
		}
		for _, a := range []string{"unconfined_domain_type", "privileged_container_domain", "can_load_policy", "can_setenforce"} {
			if attrs[a] {
				t.Errorf("in %s", a)
			}
		}
		if pol.IsPermissive(typ) {
			t.Error("permissive")
		}
		unit := readAt(t, root, "/etc/systemd/system/logger.service")
		if !strings.Contains(unit, "label=type:"+typ) {
			t.Errorf("the unit does not run the container under %s:\n%s", typ, unit)
		}
	})

	t.Run("grants only what is declared", func(t *testing.T) {
		checkGrants(t, root, pol, decls)
	})

	t.Run("second apply", func(t *testing.T) {
		commits := testenv.CommitNum(t, root)
		out := mustSeconf(t, 0, append([]string{"apply"}, args...)...)
		if !strings.Contains(out, "No changes") || testenv.CommitNum(t, root) != commits {
			t.Errorf("second apply changed something (commit_num %d → %d):\n%s", commits, testenv.CommitNum(t, root), out)
		}
	})

	t.Run("a declared boolean lets the engine mount", func(t *testing.T) {
		// The container policy is in the store now, with its engine type and
		// container_mounton_non_security off: podman may not mount /var/log.
		// A selinux_boolean of the configuration, committed with the module,
		// answers that (the VM showed the warning despite it).
		const warn = "Engine may not mount the volume"
		out := mustSeconf(t, 0, append([]string{"plan"}, args...)...)
		flat := strings.Join(strings.Fields(out), " ") // the messages are wrapped
		if !strings.Contains(flat, `may not mount on /var/log (labelled var_log_t)`) || !strings.Contains(flat, `selinux_boolean "container_mounton_non_security" { value = true }`) {
			t.Errorf("no warning that the engine may not mount /var/log, naming the boolean:\n%s", out)
		}
		hcl := filepath.Join(cfg, "host.hcl")
		orig, err := os.ReadFile(hcl)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(hcl, []byte(string(orig)+"\nselinux_boolean \"container_mounton_non_security\" {\n  value = true\n}\n"), 0o644)
		defer os.WriteFile(hcl, orig, 0o644)
		out = mustSeconf(t, 0, append([]string{"plan"}, args...)...)
		if strings.Contains(out, warn) || !strings.Contains(out, "selinux_boolean.container_mounton_non_security") {
			t.Errorf("with the boolean declared, the plan still warns, or does not set it:\n%s", out)
		}
	})

	t.Run("a new label restarts the container", func(t *testing.T) {
		// The root's own file contexts now label /etc/fluent otherwise: the
		// module changes, the unit does not, and the container restarts.
		writeAt(t, root, "/etc/selinux/default/contexts/files/file_contexts.local", "/etc/fluent(/.*)?\tsystem_u:object_r:cert_t:s0\n")
		out := mustSeconf(t, 0, append([]string{"plan", "--diff"}, args...)...)
		for _, want := range []string{"~ update   selinux_module.seconf_logger", "~ restart  container.logger", "cert_t"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in the plan:\n%s", want, out)
			}
		}
		if strings.Contains(out, "container.r0") {
			t.Errorf("the plan touches another container:\n%s", out)
		}
		os.Remove(filepath.Join(root, "etc/selinux/default/contexts/files/file_contexts.local"))
	})

	t.Run("two roots, same bytes", func(t *testing.T) {
		other := testenv.PolicyRoot(t)
		oargs := confineArgs(t, other, cfg)
		mustSeconf(t, 0, append([]string{"apply"}, oargs...)...)
		a, b := testenv.Checksums(t, root), testenv.Checksums(t, other)
		n := 0
		for k, v := range a {
			if strings.Contains(k, " seconf_") {
				n++
				if b[k] != v {
					t.Errorf("%s: %s on one root, %s on the other", k, v, b[k])
				}
			}
		}
		if n < 10 {
			t.Errorf("only %d generated modules installed", n)
		}
		showA := mustSeconf(t, 0, append([]string{"policy", "show", "container.logger"}, args...)...)
		showB := mustSeconf(t, 0, append([]string{"policy", "show", "container.logger"}, oargs...)...)
		if showA != showB || !strings.Contains(showA, "policy_module(seconf_logger, 1.0)") {
			t.Errorf("policy show differs between roots or is not the module:\n%s\n---\n%s", showA, showB)
		}
	})

	t.Run("removal", func(t *testing.T) {
		plain := strings.Replace(loggerHCL, "confine = true", "", 1)
		plain = strings.Replace(plain, "/etc/shadow", "/srv/plain", 1)
		os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte(plain+baselineHCL), 0o644)
		out := mustSeconf(t, 0, append([]string{"apply"}, args...)...)
		if !strings.Contains(out, "- delete   selinux_module.seconf_logger") || !strings.Contains(out, "- delete   selinux_module.seconf_r0") {
			t.Errorf("apply does not delete the modules of unconfined and removed containers:\n%s", out)
		}
		mods := testenv.Modules(t, root)
		for m := range mods {
			if strings.HasPrefix(m, "seconf_") && m != "seconf_base_none" && m != "seconf_base_net" {
				t.Errorf("%s still installed", m)
			}
		}
		if !mods["seconf_base_none"] || !mods["container"] {
			t.Error("a module still in the configuration was removed")
		}
		if unit := readAt(t, root, "/etc/systemd/system/logger.service"); strings.Contains(unit, "seconf_logger_t") {
			t.Errorf("the unit still names the removed type:\n%s", unit)
		}
		mustSeconf(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
	})
}

// TestConfineWithSettings: the configuration's own selinux_port and
// selinux_fcontext blocks are committed in the apply that installs the
// generated module, so the module is written for the port types and labels
// they give. Written for the root as it was, the first apply granted
// name_bind on unreserved_port_t (3100 before the block) and managing
// var_lib_t (all of /var/lib) for a volume the block labels
// container_file_t; the second apply then rewrote the module and restarted
// the container.
func TestConfineWithSettings(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": `
selinux_port "loki" {
  protocol = "tcp"
  port     = 3100
  type     = "http_port_t"
}
selinux_fcontext "loki_data" {
  path = "/var/lib/loki(/.*)?"
  type = "container_file_t"
}
container "loki" {
  image   = "docker.io/grafana/loki:3.0.0"
  confine = true
  publish = ["3100:3100"]
  volume {
    source = "/var/lib/loki"
    target = "/loki"
  }
}
`})
	args := confineArgs(t, root, cfg)
	// Before the first apply, as that apply writes it.
	if show := mustSeconf(t, 0, append([]string{"policy", "show", "container.loki"}, args...)...); !strings.Contains(show, "allow seconf_loki_t http_port_t:tcp_socket name_bind;") || strings.Contains(show, "unreserved_port_t") {
		t.Errorf("the module does not bind 3100 as selinux_port.loki types it (http_port_t):\n%s", show)
	}
	mustSeconf(t, 0, append([]string{"apply"}, args...)...)
	_, polPath := readPolicy(t, root)
	const typ = "seconf_loki_t"
	if got := sesearch(t, polPath, "-s", typ, "-t", "var_lib_t", "-c", "file", "-p", "write"); strings.TrimSpace(got) != "" {
		t.Errorf("writes var_lib_t files, the label /var/lib/loki had before the block:\n%s", got)
	}
	if out := mustSeconf(t, 0, append([]string{"apply"}, args...)...); !strings.Contains(out, "No changes") {
		t.Errorf("second apply changed something:\n%s", out)
	}
}

// seed is the random declarations' seed: fixed, so that a failure repeats;
// SECONF_CONFINE_SEED tries others.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("SECONF_CONFINE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 1
}

// Host paths with the labels a container is commonly given, a few it must
// not be, and one whose characters m4 and the comment writer must survive.
var (
	volumePaths = []string{"/var/log", "/var/log/app", "/etc/app", "/etc/ssl/certs", "/srv/data", "/var/lib/app", "/var/www",
		"/usr/share/zoneinfo", "/opt/app", "/var/spool/app", "/var/cache/app", "/mnt/data", "/etc/shadow", "/home/alice",
		"/var/log/audit", "/etc/selinux", "/srv/we`ird,dnl(x)#y"}
	publishes = []string{"80:80", "8443:443", "53:53/udp", "9000-9005:9000-9005", "127.0.0.1:2222:22", "5000:5000/tcp,udp", "[::1]:6379:6379"}
	networks  = []string{"", "", "none", "podman"}
)

// randomContainers writes n confined containers r0, r1, ... with random
// volumes, ports and networks.
func randomContainers(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "container \"r%d\" {\n  image   = \"i\"\n  confine = true\n", i)
		network := networks[rng.IntN(len(networks))]
		if network != "" {
			fmt.Fprintf(&b, "  network = %q\n", network)
		}
		if network != "none" {
			var ps []string
			for _, j := range rng.Perm(len(publishes))[:rng.IntN(3)] {
				ps = append(ps, strconv.Quote(publishes[j]))
			}
			if len(ps) > 0 {
				fmt.Fprintf(&b, "  publish = [%s]\n", strings.Join(ps, ", "))
			}
		}
		for _, j := range rng.Perm(len(volumePaths))[:1+rng.IntN(4)] {
			src := volumePaths[j]
			fmt.Fprintf(&b, "  volume {\n    source    = %q\n    target    = \"/v%d\"\n    read_only = %t\n", src, j, rng.IntN(2) == 0)
			if (src == "/srv/data" || src == "/opt/app" || src == "/mnt/data") && rng.IntN(3) == 0 {
				b.WriteString("    relabel   = \"private\"\n")
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// neverGranted are labels no declaration may get a rule on.
var neverGranted = map[string]bool{"shadow_t": true, "auditd_log_t": true, "user_home_dir_t": true, "user_home_t": true,
	"selinux_config_t": true, "policy_config_t": true, "semanage_store_t": true, "file_context_t": true, "default_context_t": true}

// checkGrants compares, in the compiled policy, every random container's
// type with the baseline type of the same network: for every target type
// and class, what it is allowed beyond the baseline must be what one of
// its declarations asks for (a volume's label, a published port's type),
// and what a declaration asks for must be there.
func checkGrants(t *testing.T, root string, pol *policydb.Policy, decls string) {
	cfg, _, diags := config.Load([]string{writeFiles(t, map[string]string{"host.hcl": decls})}, config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fc, err := filecontexts.Open(os.ReadFile, filepath.Join(root, "etc/selinux/default/contexts/files/file_contexts"))
	if err != nil {
		t.Fatal(err)
	}
	types, classes := pol.Types(), pol.Classes()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, c := range cfg.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			problems := checkContainer(pol, fc, c, types, classes)
			mu.Lock()
			failures = append(failures, problems...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(failures)
	for _, f := range failures {
		t.Error(f)
	}
	if t.Failed() {
		t.Logf("declarations:\n%s", decls)
	}
}

func checkContainer(pol *policydb.Policy, fc *filecontexts.Set, c *config.Container, types, classes []string) []string {
	typ := c.SELinuxType
	base := "seconf_base_net_t"
	if c.Network == "none" {
		base = "seconf_base_none_t"
	}
	var out []string
	fail := func(format string, args ...any) { out = append(out, typ+": "+fmt.Sprintf(format, args...)) }
	// What the declaration asks, by label: read, or manage.
	asked := map[string]bool{}
	for _, v := range c.Volumes {
		if v.Relabel != config.RelabelNone {
			continue
		}
		if ctx, ok := fc.Lookup(v.Source, filecontexts.Any); ok && !neverGranted[ctx.Type] {
			asked[ctx.Type] = asked[ctx.Type] || !v.ReadOnly
		}
	}
	ports := map[string]bool{}
	for _, spec := range c.Publish {
		ps, _ := confine.ParsePublish(spec)
		for _, p := range ps {
			for port := p.Low; port <= p.High; port++ {
				pt, ok := pol.PortType(p.Proto, port)
				if !ok {
					pt = "port_t"
				}
				ports[p.Proto+"_socket "+pt] = true
			}
		}
	}
	writes := map[string]bool{"write": true, "append": true, "create": true, "unlink": true, "rename": true, "setattr": true, "add_name": true, "remove_name": true, "rmdir": true}
	for _, target := range types {
		for _, class := range classes {
			tt, bt := target, target
			if target == typ || target == base {
				tt, bt = typ, base // self rules
			}
			got, err1 := pol.Allowed(typ, tt, class)
			had, err2 := pol.Allowed(base, bt, class)
			if err1 != nil || err2 != nil {
				return append(out, fmt.Sprintf("%s: Allowed: %v %v", typ, err1, err2))
			}
			extra := difference(got, had)
			rw, isLabel := asked[target]
			for _, p := range extra {
				switch {
				case isLabel && (class == "dir" || class == "file" || class == "lnk_file") && (rw || !writes[p]):
				case p == "name_bind" && ports[class+" "+target]:
				case p == "node_bind" && target == "node_t" && len(ports) > 0:
				default:
					fail("%s %s:%s granted beyond the baseline, and no declaration asks for it", p, target, class)
				}
			}
		}
	}
	for label, rw := range asked {
		got, _ := pol.Allowed(typ, label, "file")
		want := []string{"read", "open", "getattr"}
		if rw {
			want = append(want, "write", "create", "unlink", "append")
		}
		if missing := difference(want, got); len(missing) > 0 {
			fail("%s files: %v missing", label, missing)
		}
	}
	for k := range ports {
		class, pt, _ := strings.Cut(k, " ")
		if got, _ := pol.Allowed(typ, pt, class); len(difference([]string{"name_bind"}, got)) > 0 {
			fail("cannot bind %s %s", pt, class)
		}
	}
	attrs, baseAttrs := pol.TypeAttributes(typ), pol.TypeAttributes(base)
	if strings.Join(attrs, " ") != strings.Join(baseAttrs, " ") {
		fail("attributes %v, the baseline's %v", attrs, baseAttrs)
	}
	return out
}

// difference is a minus b, both sorted or not.
func difference(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}
