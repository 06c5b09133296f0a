package selinux

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
	"seconf/modules/selinux/policydb"
)

// A container's type is held to what the policy itself says, not to a list
// of names: it must be a type (not an attribute), not permissive, not an
// unconfined domain, and a container domain, which is what podman and docker
// start containers in with MCS separation. These are the policy's own words
// for it on refpolicy and on Fedora's container-selinux alike.
const (
	unconfinedAttr = "unconfined_domain_type"
	containerAttr  = "container_domain"
)

// typeProblem says why type t of pol may not run a container, or "".
func typeProblem(pol *policydb.Policy, t string) string {
	switch {
	case pol.IsAttribute(t):
		return "it is an attribute, not a type"
	case !pol.HasType(t):
		return "the policy has no such type"
	}
	prim, _ := pol.PrimaryType(t)
	if pol.IsPermissive(prim) {
		return "it is permissive: SELinux logs what it does and denies nothing"
	}
	attrs := map[string]bool{}
	for _, a := range pol.TypeAttributes(prim) {
		attrs[a] = true
	}
	switch {
	case attrs[unconfinedAttr]:
		return "it is an unconfined domain (attribute " + unconfinedAttr + "): SELinux does not confine it"
	case !attrs[containerAttr]:
		return "it is not a container domain (no attribute " + containerAttr + "): podman and docker start containers confined only in container domains"
	}
	return ""
}

// policyPath is the store's current binary policy.
func policyPath(st store) string { return path.Join(path.Dir(st.dir), "policy.kern") }

// typeCheck is a verdict kept in the state record, keyed by the policy file
// it was made from: the no-change path does not parse the policy again.
type typeCheck struct {
	Policy  string `json:"policy"`
	Problem string `json:"problem,omitempty"`
}

// typesSection is the state record section of the type verdicts.
const typesSection = "selinux_types"

// policyStamp identifies a policy file's version without reading it.
func policyStamp(h *host.Host, p string) (string, error) {
	real, err := h.FS.Path(p)
	if err != nil {
		return "", err
	}
	return host.Stamp(real)
}

// judgeTypes checks each container's type against the policy in the store.
// A type whose module this apply installs or changes is checked from the
// module's CIL here, and from the committed policy by checkCommitted.
func (p *Provider) judgeTypes(env *engine.Env, st store, pending map[string]*planned) hcl.Diagnostics {
	cache := map[string]typeCheck{}
	env.State.Section(typesSection, &cache)
	kept := map[string]typeCheck{}
	var diags hcl.Diagnostics
	var pol *policydb.Policy
	stamp := ""
	for _, c := range env.Config.Containers {
		t := c.SELinuxType
		if t == "" || c.AllowUnconfined {
			continue
		}
		if pl := pending[p.typeOwners[t]]; pl != nil {
			if pl.comp != nil {
				if pr := cilUnconfining(pl.comp.cil, t); pr != "" {
					diags = append(diags, typeDiag(c, pr))
				}
			}
			continue
		}
		rng := c.AttrRange("selinux_type")
		if stamp == "" {
			var err error
			if stamp, err = policyStamp(env.Host, policyPath(st)); err != nil {
				return append(diags, engine.Errorf(&rng, "Cannot read the policy", "Cannot read the store's policy to check selinux_type (%v).", err))
			}
		}
		v, ok := cache[t]
		if !ok || v.Policy != stamp {
			if pol == nil {
				data, err := env.Host.FS.ReadFile(policyPath(st))
				if err == nil {
					pol, err = policydb.Parse(data)
				}
				if err != nil {
					return append(diags, engine.Errorf(&rng, "Cannot read the policy", "Cannot read the store's policy %s to check selinux_type (%v).", policyPath(st), err))
				}
			}
			v = typeCheck{Policy: stamp, Problem: typeProblem(pol, t)}
		}
		kept[t] = v
		if v.Problem != "" {
			diags = append(diags, typeDiag(c, v.Problem))
		}
	}
	if err := env.State.SetSection(typesSection, kept); err != nil {
		diags = append(diags, engine.FromError(nil, "Cannot record type checks", err)...)
	}
	return diags
}

func typeDiag(c *config.Container, problem string) *hcl.Diagnostic {
	rng := c.AttrRange("selinux_type")
	if strings.HasPrefix(problem, "the policy has no such type") {
		return engine.Errorf(&rng, "Unknown SELinux type", "container %q: selinux_type %q: %s, and no selinux_module of this configuration declares it. Declare it in a module (container_domain_template(%s) declares %s_t), or correct the name.",
			c.Name, c.SELinuxType, problem, trimT(c.SELinuxType), trimT(c.SELinuxType))
	}
	return engine.Errorf(&rng, "SELinux type refused", "container %q: selinux_type %q: %s. Give the container a confined type of its own (confine = true, or a selinux_module with container_domain_template); allow_unconfined = true opts out.",
		c.Name, c.SELinuxType, problem)
}

var unconfiningSetRe = lazyre.New(`\(\s*typeattributeset\s+` + unconfinedAttr + `\s+\(([^()]*)\)`)

// cilUnconfining finds, in a module of the configuration, the statements
// that would make type t permissive or unconfined.
func cilUnconfining(cil []byte, t string) string {
	// Built per type, used once: compiled here, not registered with lazyre
	// (whose registry keeps every expression for the process's life).
	if regexp.MustCompile(`\(\s*typepermissive\s+` + regexp.QuoteMeta(t) + `\s*\)`).Match(cil) {
		return "its module makes it permissive (typepermissive)"
	}
	for _, m := range unconfiningSetRe.FindAllSubmatch(cil, -1) {
		for _, f := range strings.Fields(string(m[1])) {
			if f == t {
				return "its module makes it an unconfined domain (" + unconfinedAttr + ")"
			}
		}
	}
	return ""
}

// checkCommitted holds the containers whose types the configuration's
// modules declare to the policy just committed, before any unit is written
// or started: what a module makes of a type (through attributes, templates
// or blocks) is only certain once it is linked.
func (p *Provider) checkCommitted(env *engine.Env) error {
	var pol *policydb.Policy
	var problems []string
	// The verdicts are kept against the new policy, so that the next plan
	// (the timer's no-change run) need not parse it again.
	cache := map[string]typeCheck{}
	env.State.Section(typesSection, &cache)
	stamp, err := policyStamp(env.Host, policyPath(openStore(env.Host.FS)))
	if err != nil {
		return fmt.Errorf("cannot read the committed policy to check the containers' types: %w", err)
	}
	for _, c := range env.Config.Containers {
		t := c.SELinuxType
		if t == "" || c.AllowUnconfined || p.typeOwners[t] == "" {
			continue
		}
		if pol == nil {
			data, err := env.Host.FS.ReadFile(policyPath(openStore(env.Host.FS)))
			if err == nil {
				pol, err = policydb.Parse(data)
			}
			if err != nil {
				return fmt.Errorf("cannot read the committed policy to check the containers' types: %w", err)
			}
		}
		pr := typeProblem(pol, t)
		cache[t] = typeCheck{Policy: stamp, Problem: pr}
		if pr != "" {
			problems = append(problems, fmt.Sprintf("container %q: selinux_type %q (from %s): %s", c.Name, t, p.typeOwners[t], pr))
		}
	}
	if err := env.State.SetSection(typesSection, cache); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the committed policy leaves a container unconfined, so no unit is written or started: %s. Fix the module, or set allow_unconfined = true on the container", strings.Join(problems, "; "))
	}
	return nil
}
