package selinux

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// templatesCIL is a template module in udica's shape (a concrete base block
// and an abstract addition), written for this machine's refpolicy store.
const templatesCIL = `; Templates in udica's shape: a concrete base, an abstract addition.
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
  (type port)
  (typeattributeset port_type (port))
  (allow process self (tcp_socket (create connect)))
)
`

// appCIL is a container module as udica writes one: a block inheriting
// the templates, here with a nested block too.
const appCIL = `(block seconf_app
  (blockinherit seconf_base)
  (blockinherit seconf_net)
  (allow process var_log_t (dir (search getattr)))
  (block inner (type t) (roletype object_r t))
)
`

func TestTypesOf(t *testing.T) {
	tmpl, err := parseCIL([]byte(templatesCIL))
	if err != nil {
		t.Fatal(err)
	}
	templates := blockIndex{}
	templates.add(tmpl)
	tests := []struct {
		name       string
		cil        string
		find       resolver
		want       []string
		unresolved []string
	}{
		{"flat", "(type a_t)\n(roletype object_r a_t)\n  ( type b_t ) ; (type c_t)\n(typealias d_t)\n", nil,
			[]string{"a_t", "b_t", "d_t"}, nil},
		{"nested blocks", "(block outer (type t) (block inner (type u)) (optional o (type v)))", nil,
			[]string{"outer.t", "outer.inner.u", "outer.v"}, nil},
		{"template module: abstract block's types are not real", templatesCIL, nil,
			[]string{"seconf_base.process", "seconf_base.tmpfs"}, nil},
		{"inherits from another module", appCIL, func(full string) *block { return templates[full] },
			[]string{"seconf_app.process", "seconf_app.tmpfs", "seconf_app.port", "seconf_app.inner.t"}, nil},
		{"template not found", appCIL, nil,
			[]string{"seconf_app.inner.t"}, []string{"seconf_base", "seconf_net"}},
		{"template in the same module, relative name", "(block ns (block tmpl (blockabstract tmpl) (type p)) (block app (blockinherit tmpl)))", nil,
			[]string{"ns.app.p"}, nil},
		{"template inheriting a template", "(block a (blockabstract a) (type x))\n(block b (blockabstract b) (blockinherit a) (type y))\n(block c (blockinherit b))", nil,
			[]string{"c.x", "c.y"}, nil},
		{"inheritance cycle ends", "(block a (blockinherit b) (type x))\n(block b (blockinherit a) (type y))", nil,
			[]string{"a.x", "a.y", "b.y", "b.x"}, nil},
		{"in adds to a block", "(block a (type x))\n(in a (type y))\n(in after a (type z))", nil,
			[]string{"a.x", "a.y", "a.z"}, nil},
		{"strings and macros declare nothing", "(filecon \"/srv/(x)\" file ())\n(macro m ((type t)) (type inside))\n(type real_t)", nil,
			[]string{"real_t"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stmts, err := parseCIL([]byte(tc.cil))
			if err != nil {
				t.Fatal(err)
			}
			tf := typesOf(stmts, tc.find)
			if d := cmp.Diff(tc.want, tf.out); d != "" {
				t.Errorf("types (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.unresolved, tf.unresolved); d != "" {
				t.Errorf("unresolved (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseCILErrors(t *testing.T) {
	for _, tc := range []struct{ name, cil string }{
		{"unclosed", "(type a_t)\n(block b\n(type c)"},
		{"extra close", "(type a_t))"},
		{"unterminated string", "(filecon \"/srv file ())"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseCIL([]byte(tc.cil)); err == nil {
				t.Error("no error")
			}
		})
	}
}
