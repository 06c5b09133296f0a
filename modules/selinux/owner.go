package selinux

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
)

// checkForeign refuses a block whose module name the store already has in
// copies seconf did not install (foreign, highest priority first): seconf
// would otherwise replace the distribution's module, or hide it, without
// anyone saying so. With override = true seconf installs its own copy above
// them, but never into a (name, priority) slot it does not own, and never
// disables or enables them (semodule does both by name, for every copy).
func checkForeign(st store, m *config.Module, owned map[string]ModuleState, foreign, all []installed) hcl.Diagnostics {
	if len(foreign) == 0 {
		return nil
	}
	var where []string
	for _, f := range foreign {
		where = append(where, st.describe(m.Name, f.Priority))
	}
	at := strings.Join(where, "; and at ")
	stale := ""
	if own, ok := owned[m.Name]; ok {
		for _, f := range foreign {
			if f.Priority == own.Priority {
				stale = fmt.Sprintf(" (The state record says seconf installed %s at priority %d, but the module there is not the one it installed: it was replaced outside seconf.)", m.Name, own.Priority)
			}
		}
	}
	taken := map[int]bool{}
	for _, in := range all {
		taken[in.Priority] = true
	}
	top := foreign[0].Priority
	suggest := m.Priority
	if suggest <= top || taken[suggest] {
		suggest = freePriority(taken, top)
	}
	rng := m.DeclRange
	if !m.Override {
		return hcl.Diagnostics{engine.Errorf(&rng, "Module name already taken",
			"A module named %s is already installed at %s, and seconf did not install it.%s seconf will not replace or hide a module it does not own. "+
				"If the installed module does this one's job, leave this block out; otherwise rename this module (and the module statement in its source), or, to put seconf's copy above the installed one, set override = true with a priority of its own "+
				"(e.g. priority = %d): the installed module stays, and takes over again when this block goes.",
			m.Name, at, stale, suggest)}
	}
	prng := m.AttrRange("priority")
	for _, f := range foreign {
		if f.Priority == m.Priority {
			return hcl.Diagnostics{engine.Errorf(&prng, "Priority slot not seconf's",
				"The slot (%s, priority %d) holds a module seconf did not install: %s is at %s.%s Even with override, seconf never installs into a (name, priority) slot it does not own: choose a free priority above it, e.g. priority = %d.",
				m.Name, m.Priority, m.Name, st.describe(m.Name, f.Priority), stale, freePriority(taken, top))}
		}
	}
	if top > m.Priority {
		return hcl.Diagnostics{engine.Errorf(&prng, "Override would stay hidden",
			"%s is installed at %s, above this block's priority %d: seconf's copy would be installed and never used. Choose a priority above %d, e.g. priority = %d.",
			m.Name, st.describe(m.Name, top), m.Priority, top, freePriority(taken, top))}
	}
	if !m.Enabled {
		erng := m.AttrRange("enabled")
		return hcl.Diagnostics{engine.Errorf(&erng, "Would disable a module seconf does not own",
			"semodule disables a module by name, every priority at once: disabling seconf's %s would disable the one at %s too. "+
				"To disable the installed module, write a block without source or override: selinux_module %q { enabled = false }.", m.Name, at, m.Name)}
	}
	if st.disabled(m.Name) {
		return hcl.Diagnostics{engine.Errorf(&rng, "Would enable a module seconf does not own",
			"%s is disabled on this host, and semodule enables a module by name, every priority at once: enabling seconf's copy would enable the one at %s too. "+
				"Enable it first (semodule -e %s) if it should run, or leave this block out.", m.Name, at, m.Name)}
	}
	return nil
}

// freePriority suggests a priority no copy of the module has, above the
// given one, where seconf's copy would take precedence.
func freePriority(taken map[int]bool, above int) int {
	for p := above + 1; p <= 999; p++ {
		if !taken[p] {
			return p
		}
	}
	for p := 999; p >= 1; p-- {
		if !taken[p] {
			return p
		}
	}
	return 999
}
