package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// Templates and a container module in udica's shape (a template block the
// container's block inherits), using only names this machine's refpolicy
// has: Debian 12 lacks container-selinux's svirt_sandbox_domain.
const (
	udicaTemplates = `; Templates: a concrete base, like udica's "container", and an abstract one.
(block seconf_base
  (type process)
  (type tmpfs)
  (roletype system_r process)
  (typeattributeset domain (process))
  (typeattributeset file_type (tmpfs))
  (allow process tmpfs (file (create open read write getattr unlink)))
)
(block seconf_net
  (blockabstract seconf_net)
  (allow process self (tcp_socket (create connect)))
)
`
	udicaApp = `(block seconf_app
  (blockinherit seconf_base)
  (blockinherit seconf_net)
  (allow process var_log_t (dir (search getattr)))
)
`
	udicaHCL = `
selinux_module "seconf_app" {
  source = "seconf_app.cil"
}
container "app" {
  image        = "localhost/app:1"
  selinux_type = "seconf_app.process"
  quadlet      = false
}
`
)

// TestTypesInCILBlocks: a container whose type a CIL block declares through
// a template (udica's my_container.process) is accepted and restarts when
// that module changes, whether the template is a module of the
// configuration or one already installed in the store.
func TestTypesInCILBlocks(t *testing.T) {
	cases := []struct {
		name string
		// files of the configuration; in the store beforehand, when set
		files, installed map[string]string
	}{
		{"template in the configuration", map[string]string{
			"host.hcl":             udicaHCL + "selinux_module \"seconf_templates\" {\n  source = \"seconf_templates.cil\"\n}\n",
			"seconf_templates.cil": udicaTemplates, "seconf_app.cil": udicaApp}, nil},
		{"template in the store", map[string]string{"host.hcl": udicaHCL, "seconf_app.cil": udicaApp},
			map[string]string{"seconf_templates.cil": udicaTemplates}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := testenv.PolicyRoot(t)
			if tc.installed != nil {
				dir := writeFiles(t, tc.installed)
				semoduleIn(t, root, "-i", filepath.Join(dir, "seconf_templates.cil"))
			}
			cfg := writeFiles(t, tc.files)
			out := mustSeconf(t, 0, "apply", "--root", root, cfg)
			wantIn(t, "apply", out, "selinux_module.seconf_app: create done", "container.app: create done")
			// The type is real: seinfo finds it in the built policy.
			pol := filepath.Join(root, "var/lib/selinux/default/active/policy.kern")
			res, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "seinfo", Args: []string{pol, "-t", "seconf_app.process"}})
			if err != nil || !strings.Contains(string(res.Stdout), "Types: 1") {
				t.Fatalf("seinfo does not find seconf_app.process: %v\n%s", err, res.Stdout)
			}
			types, _ := moduleRecords(t, root)["seconf_app"]["types"].([]any)
			if len(types) == 0 || types[0] != "seconf_app.process" {
				t.Errorf("recorded types: %v", types)
			}
			mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

			os.WriteFile(filepath.Join(cfg, "seconf_app.cil"), []byte(strings.Replace(udicaApp, "(search getattr)", "(search getattr open)", 1)), 0o644)
			out = mustSeconf(t, 0, "plan", "--root", root, cfg)
			wantIn(t, "plan", out, "~ update   selinux_module.seconf_app", "~ restart  container.app", "selinux_module.seconf_app updates")
		})
	}
}
