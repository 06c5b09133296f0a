package selinux

import (
	"fmt"
	"path"
	"regexp"
	"sort"
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

// unconfiningAttrs are the attributes by which refpolicy (and Fedora's
// policy) hand a domain one of the powers an unconfined domain has, each
// on its own: every file, device, file system or the kernel, SELinux's
// own switches, the shadow passwords. unconfined_domain_type is made of
// them; a container type with any one is as unconfined where it counts.
var unconfiningAttrs = []string{
	unconfinedAttr, "files_unconfined_type", "filesystem_unconfined_type", "devices_unconfined_type",
	"storage_unconfined_type", "kern_unconfined", "selinux_unconfined_type", "dbusd_unconfined",
	"can_load_policy", "can_setenforce", "can_setsecparam", "can_load_kernmodule", "can_dump_kernel",
	"can_relabelto_binary_policy", "can_read_shadow_passwords", "can_write_shadow_passwords",
	"can_relabelto_shadow_passwords",
}

// unconfinedProblem names the attribute by which t is given unconfined
// powers, as typeProblem says it.
func unconfinedProblem(attr string) string {
	if attr == unconfinedAttr {
		return "it is an unconfined domain (attribute " + unconfinedAttr + "): SELinux does not confine it"
	}
	return "it is given an unconfined domain's powers (attribute " + attr + "): SELinux does not confine it there"
}

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
		return unconfinedProblem(unconfinedAttr)
	case !attrs[containerAttr]:
		return "it is not a container domain (no attribute " + containerAttr + "): podman and docker start containers confined only in container domains"
	}
	for _, a := range unconfiningAttrs {
		if attrs[a] {
			return unconfinedProblem(a)
		}
	}
	return ""
}

// defaultProblem is what typeProblem says of the engines' default type
// that makes it unfit to run a container: permissive or unconfined. A policy
// without the type (Debian 12's without refpolicy's container module) is
// the engine's to report when it starts the container.
func defaultProblem(pol *policydb.Policy, t string) string {
	if !pol.HasType(t) || pol.IsAttribute(t) {
		return ""
	}
	pr := typeProblem(pol, t)
	if strings.HasPrefix(pr, "it is permissive") || strings.Contains(pr, "unconfined") {
		return pr
	}
	return ""
}

// defaultContainerType is the type podman and docker start a container in
// when it names none: the process context of the root's lxc_contexts, as
// go-selinux reads it; container_t without one.
func defaultContainerType(st store) string {
	data, err := st.fs.ReadFile(path.Join("/etc/selinux", st.name, "contexts/lxc_contexts"))
	if err != nil {
		return "container_t"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "process" {
			continue
		}
		parts := strings.Split(strings.Trim(strings.TrimSpace(v), `"`), ":")
		if len(parts) >= 3 && parts[2] != "" {
			return parts[2]
		}
	}
	return "container_t"
}

// containerType is the type c runs as, and whether it is the engines'
// default (c names none).
func containerType(st store, c *config.Container) (string, bool) {
	if c.SELinuxType != "" {
		return c.SELinuxType, false
	}
	return defaultContainerType(st), true
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
	var ids []string
	for id := range pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, c := range env.Config.Containers {
		if c.AllowUnconfined {
			continue
		}
		t, deflt := containerType(st, c)
		// Any module of this apply may make the type permissive or
		// unconfined, not only the one that declares it.
		found := false
		for _, id := range ids {
			if pl := pending[id]; pl.comp != nil {
				if pr := cilUnconfining(pl.comp.cil, t); pr != "" {
					diags = append(diags, typeDiag(c, t, deflt, pr+" ("+id+")"))
					found = true
					break
				}
			}
		}
		if found || pending[p.typeOwners[t]] != nil {
			continue
		}
		key := t
		if deflt {
			key = "default " + t
		}
		rng := c.AttrRange("selinux_type")
		if stamp == "" {
			var err error
			if stamp, err = policyStamp(env.Host, policyPath(st)); err != nil {
				if deflt {
					// Nothing named, nothing to hold to a policy that
					// cannot be read: the engine starts it as it can.
					stamp = ""
					continue
				}
				return append(diags, engine.Errorf(&rng, "Cannot read the policy", "Cannot read the store's policy to check selinux_type (%v).", err))
			}
		}
		v, ok := cache[key]
		if !ok || v.Policy != stamp {
			if pol == nil {
				data, err := env.Host.FS.ReadFile(policyPath(st))
				if err == nil {
					pol, err = policydb.Parse(data)
				}
				if err != nil {
					if deflt {
						pol = nil
						continue
					}
					return append(diags, engine.Errorf(&rng, "Cannot read the policy", "Cannot read the store's policy %s to check selinux_type (%v).", policyPath(st), err))
				}
			}
			pr := typeProblem(pol, t)
			if deflt {
				pr = defaultProblem(pol, t)
			}
			v = typeCheck{Policy: stamp, Problem: pr}
		}
		kept[key] = v
		if v.Problem != "" {
			diags = append(diags, typeDiag(c, t, deflt, v.Problem))
		}
	}
	if err := env.State.SetSection(typesSection, kept); err != nil {
		diags = append(diags, engine.FromError(nil, "Cannot record type checks", err)...)
	}
	return diags
}

func typeDiag(c *config.Container, t string, deflt bool, problem string) *hcl.Diagnostic {
	if deflt {
		rng := c.DeclRange
		return engine.Errorf(&rng, "SELinux type refused", "container %q names no selinux_type, so the engine runs it as its default type %s: %s. Remove what makes %s so, or give the container a confined type of its own (confine = true, or a selinux_module with container_domain_template); allow_unconfined = true opts out.",
			c.Name, t, problem, t)
	}
	rng := c.AttrRange("selinux_type")
	if strings.HasPrefix(problem, "the policy has no such type") {
		return engine.Errorf(&rng, "Unknown SELinux type", "container %q: selinux_type %q: %s, and no selinux_module of this configuration declares it. Declare it in a module (container_domain_template(%s) declares %s_t), or correct the name.",
			c.Name, c.SELinuxType, problem, trimT(c.SELinuxType), trimT(c.SELinuxType))
	}
	return engine.Errorf(&rng, "SELinux type refused", "container %q: selinux_type %q: %s. Give the container a confined type of its own (confine = true, or a selinux_module with container_domain_template); allow_unconfined = true opts out.",
		c.Name, c.SELinuxType, problem)
}

var unconfiningSetRe = lazyre.New(`\(\s*typeattributeset\s+(` + strings.Join(unconfiningAttrs, "|") + `)\s+\(([^()]*)\)`)

// cilUnconfining finds, in a module of the configuration, the statements
// that would make type t permissive or unconfined.
func cilUnconfining(cil []byte, t string) string {
	// Built per type, used once: compiled here, not registered with lazyre
	// (whose registry keeps every expression for the process's life).
	if regexp.MustCompile(`\(\s*typepermissive\s+` + regexp.QuoteMeta(t) + `\s*\)`).Match(cil) {
		return "its module makes it permissive (typepermissive)"
	}
	for _, m := range unconfiningSetRe.FindAllSubmatch(cil, -1) {
		for _, f := range strings.Fields(string(m[2])) {
			if f == t {
				if string(m[1]) == unconfinedAttr {
					return "its module makes it an unconfined domain (" + unconfinedAttr + ")"
				}
				return "its module gives it an unconfined domain's powers (" + string(m[1]) + ")"
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
	st := openStore(env.Host.FS)
	for _, c := range env.Config.Containers {
		// Every container: a module of this commit may have changed a type
		// it does not declare (container_t made permissive), the default
		// one included.
		if c.AllowUnconfined {
			continue
		}
		t, deflt := containerType(st, c)
		if pol == nil {
			data, err := env.Host.FS.ReadFile(policyPath(openStore(env.Host.FS)))
			if err == nil {
				pol, err = policydb.Parse(data)
			}
			if err != nil {
				return fmt.Errorf("cannot read the committed policy to check the containers' types: %w", err)
			}
		}
		pr, key := typeProblem(pol, t), t
		if deflt {
			pr, key = defaultProblem(pol, t), "default "+t
		}
		cache[key] = typeCheck{Policy: stamp, Problem: pr}
		switch {
		case pr == "":
		case deflt:
			problems = append(problems, fmt.Sprintf("container %q: the default type %s: %s", c.Name, t, pr))
		case p.typeOwners[t] != "":
			problems = append(problems, fmt.Sprintf("container %q: selinux_type %q (from %s): %s", c.Name, t, p.typeOwners[t], pr))
		default:
			problems = append(problems, fmt.Sprintf("container %q: selinux_type %q: %s", c.Name, t, pr))
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
