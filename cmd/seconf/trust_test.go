package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// semoduleIn runs the real semodule on a private root, as an administrator
// (or a package) would, outside seconf.
func semoduleIn(t *testing.T, root string, args ...string) {
	t.Helper()
	args = append([]string{"-p", root, "-n"}, args...)
	if _, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "semodule", Args: args}); err != nil {
		t.Fatalf("semodule %s: %v", strings.Join(args, " "), err)
	}
}

// lfullOf is semodule -lfull's lines for one module ("PRIO NAME LANG [disabled]").
func lfullOf(t *testing.T, root, name string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(testenv.ListFull(t, root), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[1] == name {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out
}

// moduleRecords reads the state record's modules section.
func moduleRecords(t *testing.T, root string) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "var/lib/seconf/state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Modules map[string]map[string]any `json:"modules"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	return top.Modules
}

// editRecords rewrites the state record's modules section.
func editRecords(t *testing.T, root string, edit func(map[string]map[string]any)) {
	t.Helper()
	p := filepath.Join(root, "var/lib/seconf/state.json")
	data, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	top := map[string]any{"version": 1}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatal(err)
		}
	}
	recs := map[string]map[string]any{}
	if raw, ok := top["modules"]; ok {
		b, _ := json.Marshal(raw)
		json.Unmarshal(b, &recs)
	}
	edit(recs)
	top["modules"] = recs
	data, _ = json.Marshal(top)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantIn checks that text holds each of wants, whitespace aside: the
// diagnostics writer wraps long lines.
func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(text), " ")
	for _, w := range wants {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// TestForeignModuleNameRefused: a module name the store already has in a
// copy seconf did not install is refused at plan, with where it is; with
// override, seconf installs its own copy above it, never into its slot, and
// removing the block removes only seconf's copy.
func TestForeignModuleNameRefused(t *testing.T) {
	root := testenv.PolicyRoot(t)
	// As on Fedora (container-selinux) or Debian 13: a module named
	// container is already there, at the distribution's priority.
	dir := writeFiles(t, map[string]string{"container.cil": "(type distro_container_t)\n(roletype object_r distro_container_t)\n"})
	semoduleIn(t, root, "-X", "100", "-i", filepath.Join(dir, "container.cil"))
	theirs := testenv.Checksums(t, root)["100 container"]
	if theirs == "" {
		t.Fatal("the stand-in container module is not installed")
	}

	t.Run("the Debian 12 example", func(t *testing.T) {
		before := testenv.Snapshot(t, root)
		_, errs, code := seconf(t, "plan", "--root", root, "--var", "refpolicy_services="+testenv.RefpolicyServices(t), "../../examples/debian12-container-policy")
		if code != 1 {
			t.Fatalf("plan exited %d:\n%s", code, errs)
		}
		wantIn(t, "stderr", errs, "Module name already taken", "container is already installed at priority 100", "the distribution's policy packages", "leave this block out",
			"seconf did not install it", "override = true", "host.hcl line")
		if after := testenv.Snapshot(t, root); after != before {
			t.Errorf("a refused plan changed the root:\n%s", testenv.Diff(before, after))
		}
	})

	mod := func(extra string) string {
		return writeFiles(t, map[string]string{
			"host.hcl":      "selinux_module \"container\" {\n  source = \"container.cil\"\n" + extra + "}\n",
			"container.cil": "(type seconf_container_t)\n(roletype object_r seconf_container_t)\n",
		})
	}
	refusals := []struct {
		name, extra string
		want        []string
	}{
		{"override into the distribution's slot", "  priority = 100\n  override = true\n",
			[]string{"Priority slot not seconf's", "never installs into a (name, priority) slot it does not own", "priority = 101", "host.hcl line 3"}},
		{"override below it", "  priority = 50\n  override = true\n",
			[]string{"Override would stay hidden", "above this block's priority 50", "priority = 101"}},
		{"override that disables", "  override = true\n  enabled = false\n",
			[]string{"Would disable a module seconf does not own", "selinux_module \"container\" { enabled = false }"}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := seconf(t, "plan", "--root", root, mod(tc.extra))
			if code != 1 {
				t.Fatalf("plan exited %d:\n%s", code, errs)
			}
			wantIn(t, "stderr", errs, tc.want...)
		})
	}

	t.Run("override above it, then removed", func(t *testing.T) {
		cfg := mod("  override = true\n")
		out := mustSeconf(t, 0, "apply", "--root", root, cfg)
		wantIn(t, "apply", out, "+ create   selinux_module.container")
		if got := strings.Join(lfullOf(t, root, "container"), "\n"); got != "400 container cil\n100 container cil" {
			t.Errorf("semodule -lfull:\n%s", got)
		}
		mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
		os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# none\n"), 0o644)
		out = mustSeconf(t, 0, "apply", "--root", root, cfg)
		wantIn(t, "apply", out, "- delete   selinux_module.container", "the copy at priority 100, not seconf's, takes over again")
		if got := strings.Join(lfullOf(t, root, "container"), "\n"); got != "100 container cil" {
			t.Errorf("semodule -lfull after removal:\n%s", got)
		}
		if got := testenv.Checksums(t, root)["100 container"]; got != theirs {
			t.Errorf("the distribution's module changed: %s → %s", theirs, got)
		}
	})
}

// TestModuleRecordIsNoProof: a state record that names a module seconf did
// not install, or one replaced since, gets nothing removed or overwritten.
func TestModuleRecordIsNoProof(t *testing.T) {
	root := testenv.PolicyRoot(t)
	cfg := writeFiles(t, map[string]string{
		"host.hcl": "selinux_module \"mine\" {\n  source = \"mine.cil\"\n}\n",
		"mine.cil": "(type mine_t)\n",
	})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	// Replaced by hand at seconf's own slot (semodule names a CIL module
	// after its file).
	other := writeFiles(t, map[string]string{"mine.cil": "(type mine_t)\n(type mine_other_t)\n"})
	semoduleIn(t, root, "-X", "400", "-i", filepath.Join(other, "mine.cil"))
	replaced := testenv.Checksums(t, root)["400 mine"]

	_, errs, code := seconf(t, "plan", "--root", root, cfg)
	if code != 1 {
		t.Fatalf("plan over a replaced module exited %d:\n%s", code, errs)
	}
	wantIn(t, "stderr", errs, "mine is already installed at priority 400", "replaced outside seconf")

	// Lies: the distribution's bitlbee and apache as seconf's.
	editRecords(t, root, func(r map[string]map[string]any) {
		r["bitlbee"] = map[string]any{"priority": 100, "checksum": "sha256:0000"}
		r["apache"] = map[string]any{"priority": 100, "checksum": ""}
	})
	before := testenv.Checksums(t, root)
	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# none\n"), 0o644)
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	wantIn(t, "apply", out,
		"! forget   selinux_module.mine", "the module at priority 400 is not the one seconf installed",
		"! forget   selinux_module.bitlbee", "! forget   selinux_module.apache", "never recorded what it installed")
	if strings.Contains(out, "- delete") {
		t.Errorf("apply deletes something:\n%s", out)
	}
	after := testenv.Checksums(t, root)
	for _, key := range []string{"400 mine", "100 bitlbee", "100 apache"} {
		if after[key] == "" || after[key] != before[key] {
			t.Errorf("%s: %q → %q", key, before[key], after[key])
		}
	}
	if after["400 mine"] != replaced {
		t.Errorf("the replacement changed")
	}
	if n := len(moduleRecords(t, root)); n != 0 {
		t.Errorf("%d records left", n)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// TestDisableInstalledModule: a block without source disables a module
// someone else installed, records it, and removing the block enables it
// again; a module that was disabled before stays disabled.
func TestDisableInstalledModule(t *testing.T) {
	root := testenv.PolicyRoot(t)
	// amtu ships disabled on Debian 12; bitlbee enabled.
	if got := strings.Join(lfullOf(t, root, "amtu"), ""); !strings.HasSuffix(got, "disabled") {
		t.Skipf("amtu is not a disabled module here: %q", got)
	}
	cfg := writeFiles(t, map[string]string{"host.hcl": "selinux_module \"bitlbee\" {\n  enabled = false\n}\nselinux_module \"amtu\" {\n  enabled = false\n}\n"})
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	wantIn(t, "apply", out, "+ create   selinux_module.bitlbee", "disable the installed module, at priority 100 (where the distribution's policy packages install theirs)")
	if strings.Contains(out, "selinux_module.amtu") {
		t.Errorf("amtu, already disabled, is changed:\n%s", out)
	}
	if got := strings.Join(lfullOf(t, root, "bitlbee"), ""); got != "100 bitlbee pp disabled" {
		t.Errorf("bitlbee: %q", got)
	}
	recs := moduleRecords(t, root)
	if recs["bitlbee"]["disable_only"] != true || recs["bitlbee"]["was_enabled"] != true || recs["amtu"]["disable_only"] != true || recs["amtu"]["was_enabled"] == true {
		t.Errorf("records: %v", recs)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	os.WriteFile(filepath.Join(cfg, "host.hcl"), []byte("# none\n"), 0o644)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	wantIn(t, "apply", out, "~ update   selinux_module.bitlbee", "enable it again", "! forget   selinux_module.amtu", "left disabled")
	if got := strings.Join(lfullOf(t, root, "bitlbee"), ""); got != "100 bitlbee pp" {
		t.Errorf("bitlbee after the block went: %q", got)
	}
	if got := strings.Join(lfullOf(t, root, "amtu"), ""); got != "100 amtu pp disabled" {
		t.Errorf("amtu after the block went: %q", got)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	_, errs, code := seconf(t, "plan", "--root", root, writeFiles(t, map[string]string{"host.hcl": "selinux_module \"nosuch\" {\n  enabled = false\n}\n"}))
	if code != 1 {
		t.Fatalf("disabling a module that is not there: exit %d", code)
	}
	wantIn(t, "stderr", errs, "No such module", "host.hcl line 1")
}

// TestDisabledModuleNoChange: a .te and a .pp module disabled from their
// first apply (the store keeps no CIL for them) plan as no change, without
// running any tool.
func TestDisabledModuleNoChange(t *testing.T) {
	root := testenv.PolicyRoot(t)
	te := "policy_module(seconf_off, 1.0)\ntype seconf_off_t;\n"
	cfg := writeFiles(t, map[string]string{
		"host.hcl":      "selinux_module \"seconf_off\" {\n  source = \"seconf_off.te\"\n  enabled = false\n}\nselinux_module \"seconf_pp\" {\n  source = \"seconf_pp.pp\"\n  enabled = false\n}\n",
		"seconf_off.te": te,
	})
	// The .pp, built as a user would.
	work := writeFiles(t, map[string]string{"seconf_pp.te": "policy_module(seconf_pp, 1.0)\ntype seconf_pp_t;\n"})
	if _, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "make", Args: []string{"-f", host.DevelMakefile, "seconf_pp.pp"}, Dir: work}); err != nil {
		t.Fatal(err)
	}
	pp, _ := os.ReadFile(filepath.Join(work, "seconf_pp.pp"))
	os.WriteFile(filepath.Join(cfg, "seconf_pp.pp"), pp, 0o644)

	mustSeconf(t, 0, "apply", "--root", root, cfg)
	for _, name := range []string{"seconf_off", "seconf_pp"} {
		if got := strings.Join(lfullOf(t, root, name), ""); got != "400 "+name+" pp disabled" {
			t.Errorf("%s: %q", name, got)
		}
		if _, err := os.Stat(filepath.Join(root, "var/lib/selinux/default/active/modules/400", name, "cil")); err == nil {
			t.Errorf("%s: the store has a cil file, so this test proves nothing", name)
		}
	}
	_, errs, code := seconf(t, "-v", "plan", "--detailed-exitcode", "--root", root, cfg)
	if code != 0 {
		t.Fatalf("plan after disabling: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "run: ") {
		t.Errorf("the no-change plan ran a tool:\n%s", errs)
	}
	// A record from before seconf kept the package's hash: it converges
	// (the stored package is converted once) and is refreshed silently.
	editRecords(t, root, func(r map[string]map[string]any) {
		for _, rec := range r {
			delete(rec, "hll")
		}
	})
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
	commits := testenv.CommitNum(t, root)
	out := mustSeconf(t, 0, "apply", "--root", root, cfg)
	wantIn(t, "apply", out, "No changes")
	if testenv.CommitNum(t, root) != commits {
		t.Error("apply committed the policy")
	}
	if recs := moduleRecords(t, root); recs["seconf_pp"]["hll"] == nil {
		t.Errorf("record not refreshed: %v", recs)
	}
}

// TestSameCILIsNoChange: a comment-only edit of a .te compiles to the same
// CIL: no change, no commit, and the compile cache record is refreshed so
// that the next plan compiles nothing. The inline heredoc forms of the
// README need no format.
func TestSameCILIsNoChange(t *testing.T) {
	root := testenv.PolicyRoot(t)
	hcl := moduleHCL + `
selinux_module "inline_cil" {
  content = <<-EOT
    ; CIL, told by its first parenthesis
    (type inline_cil_t)
    (roletype object_r inline_cil_t)
  EOT
}
selinux_module "inline_te" {
  content = <<-EOT
    policy_module(inline_te, 1.0)
    type inline_te_t;
  EOT
}
`
	cfg := writeFiles(t, map[string]string{"host.hcl": hcl, "seconf_demo.te": moduleTE})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	mods := testenv.Modules(t, root)
	if !mods["inline_cil"] || !mods["inline_te"] {
		t.Fatalf("inline modules not installed: %v", mods)
	}
	key := moduleRecords(t, root)["seconf_demo"]["input_hash"]
	os.WriteFile(filepath.Join(cfg, "seconf_demo.te"), []byte("# a comment only\n"+moduleTE+"# and another\n"), 0o644)
	out := mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
	wantIn(t, "plan", out, "No changes")
	commits := testenv.CommitNum(t, root)
	out = mustSeconf(t, 0, "apply", "--root", root, cfg)
	wantIn(t, "apply", out, "No changes")
	if testenv.CommitNum(t, root) != commits {
		t.Error("apply committed the policy")
	}
	if got := moduleRecords(t, root)["seconf_demo"]["input_hash"]; got == key {
		t.Error("the compile cache record was not refreshed")
	}
	_, errs, _ := seconf(t, "-v", "plan", "--detailed-exitcode", "--root", root, cfg)
	if strings.Contains(errs, "run: ") {
		t.Errorf("the plan after the refresh still compiles:\n%s", errs)
	}
}
