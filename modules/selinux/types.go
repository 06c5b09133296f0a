package selinux

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"

	"github.com/hashicorp/hcl/v2"

	"seconf/engine"
)

// policyHasType reports whether a binary policy (policy.kern, version 24 or
// later) declares name as a type or alias, not an attribute. A type datum is
// written as: name length, value, properties, bounds, then the name; so the
// length sits 16 bytes before the name and the properties 8 bytes before.
// Scanning the file costs a millisecond where seinfo costs a quarter second,
// and a test checks it against seinfo.
func policyHasType(pol []byte, name string) bool { return scanTypes(pol, name, false) }

// policyHasSymbol is policyHasType that counts attributes too: what a
// rule may name.
func policyHasSymbol(pol []byte, name string) bool { return scanTypes(pol, name, true) }

func scanTypes(pol []byte, name string, attributes bool) bool {
	const attribute = 0x2
	want := []byte(name)
	for off := 0; ; {
		i := bytes.Index(pol[off:], want)
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if i < 16 {
			continue
		}
		if binary.LittleEndian.Uint32(pol[i-16:]) == uint32(len(want)) &&
			(attributes || binary.LittleEndian.Uint32(pol[i-8:])&attribute == 0) {
			return true
		}
	}
}

// checkTypes holds every container's selinux_type to a type that will exist
// once the policy is committed: declared by a module of the config, or in
// the store's current policy. A container started under a missing type
// fails at run time with a message far from its cause.
func (p *Provider) checkTypes(env *engine.Env, st store) hcl.Diagnostics {
	var pol []byte
	var diags hcl.Diagnostics
	for _, c := range env.Config.Containers {
		t := c.SELinuxType
		if t == "" || p.typeOwners[t] != "" {
			continue
		}
		if pol == nil {
			var err error
			pol, err = env.Host.FS.ReadFile(path.Join(path.Dir(st.dir), "policy.kern"))
			if err != nil {
				rng := c.AttrRange("selinux_type")
				return append(diags, engine.Warnf(&rng, "SELinux types not checked", "Cannot read the store's policy (%v): the containers' selinux_type are not checked.", err))
			}
		}
		if !policyHasType(pol, t) {
			rng := c.AttrRange("selinux_type")
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown SELinux type",
				Detail: fmt.Sprintf("container %q asks for selinux_type %q, but no selinux_module of this configuration declares it and the policy in the store has no such type. "+
					"Declare it in a module (container_domain_template(%s) declares %s_t), or correct the name.", c.Name, t, trimT(t), trimT(t)),
				Subject: &rng,
			})
		}
	}
	return diags
}

func trimT(t string) string {
	if len(t) > 2 && t[len(t)-2:] == "_t" {
		return t[:len(t)-2]
	}
	return t
}
