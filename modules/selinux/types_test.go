package selinux

import (
	"context"
	"os"
	"strings"
	"testing"

	"seconf/host"
)

// TestPolicyHasTypeAgreesWithSeinfo checks the byte scan against setools'
// seinfo on the machine's real policy: types and aliases are found,
// attributes and unknown names are not.
func TestPolicyHasTypeAgreesWithSeinfo(t *testing.T) {
	const pol = "/var/lib/selinux/default/active/policy.kern"
	data, err := os.ReadFile(pol)
	if err != nil {
		t.Fatalf("%v: install selinux-policy-default (.ci/run does)", err)
	}
	names := []string{"var_log_t", "init_t", "httpd_t", "logrotate_t", "unconfined_t", "domain", "logfile",
		"file_type", "container_logger_t", "nope_t", "var_log", "log_t", "_t"}
	for _, n := range names {
		res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: "seinfo", Args: []string{pol, "-t", n}})
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Contains(string(res.Stdout), "Types: 1")
		if got := policyHasType(data, n); got != want {
			t.Errorf("%s: policyHasType %v, seinfo says %v:\n%s", n, got, want, res.Stdout)
		}
	}
}

func TestDeclaredTypes(t *testing.T) {
	cil := "(type container_logger_t)\n(roletype object_r container_logger_t)\n  (type other_t )\n(typeattributeset domain (x_t))\n"
	got := declaredTypes([]byte(cil))
	if strings.Join(got, ",") != "container_logger_t,other_t" {
		t.Errorf("got %v", got)
	}
}
