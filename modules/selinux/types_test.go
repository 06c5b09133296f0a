package selinux

import (
	"os"
	"strings"
	"testing"

	"seconf/modules/selinux/policydb"
)

// TestTypeProblem judges types of this machine's real policy as a
// container's type: the policy's attributes decide, not a list of names.
func TestTypeProblem(t *testing.T) {
	data, err := os.ReadFile("/var/lib/selinux/default/active/policy.kern")
	if err != nil {
		t.Fatalf("%v: install selinux-policy-default (.ci/run does)", err)
	}
	pol, err := policydb.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"unconfined_t": "unconfined domain",
		"init_t":       "unconfined domain",
		"sshd_t":       "not a container domain",
		"kernel_t":     "unconfined domain",
		"httpd_t":      "not a container domain",
		"domain":       "attribute",
		"nope_t":       "no such type",
	} {
		if got := typeProblem(pol, name); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to say %q", name, got, want)
		}
	}
}

func TestCILUnconfining(t *testing.T) {
	for cil, want := range map[string]string{
		"(type a_t)\n(typepermissive a_t)\n":                                 "permissive",
		"(typeattributeset unconfined_domain_type (b_t a_t))\n":              "unconfined",
		"(typeattributeset files_unconfined_type (a_t))\n":                   "files_unconfined_type",
		"(typeattributeset can_setenforce (a_t b_t))\n":                      "can_setenforce",
		"(typeattributeset unconfined_domain_type (b_t))\n(type a_t)\n":      "",
		"(typeattributeset container_domain (a_t))\n(typepermissive ab_t)\n": "",
	} {
		if got := cilUnconfining([]byte(cil), "a_t"); !strings.Contains(got, want) || want == "" && got != "" {
			t.Errorf("%q: %q, want %q", cil, got, want)
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
