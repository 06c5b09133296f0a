package selinux

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
)

// Section is the provider's section of the state record.
const Section = "modules"

// ModuleState is a module seconf owns, or one it only disabled. It is a
// claim, not a proof: Plan holds it against the store before it replaces
// or removes anything.
type ModuleState struct {
	Priority int    `json:"priority"`
	Checksum string `json:"checksum"`
	// InputHash keys the compile cache: the hash of the sources and of the
	// tool chain that turned them into Checksum.
	InputHash string `json:"input_hash,omitempty"`
	// Stored and HLL are the sha256 of the module's cil and hll files in
	// the store as they lie there (compressed): equal, the module is the
	// one seconf installed, known without decompressing it or running a
	// tool. A .pp module that is disabled has no cil, only its hll.
	Stored string `json:"stored,omitempty"`
	HLL    string `json:"hll,omitempty"`
	// Types are the SELinux types the module declares, templates resolved.
	Types []string `json:"types,omitempty"`
	// DisableOnly: seconf did not install this module, it only disabled it
	// (a selinux_module block without source); WasEnabled says whether it
	// was enabled before, so that removing the block enables it again.
	DisableOnly bool `json:"disable_only,omitempty"`
	WasEnabled  bool `json:"was_enabled,omitempty"`
	// A claim (Checksum still empty: an apply between its claim and its
	// record) names what it installs (Installing, the sha256 of its CIL)
	// and the record it replaces (Was), so that a kill on either side of
	// the commit leaves a copy the next plan knows as seconf's.
	Installing string       `json:"installing,omitempty"`
	Was        *ModuleState `json:"was,omitempty"`
}

// Provider plans and applies selinux_module blocks.
type Provider struct {
	work      string // temporary directory for compiled modules
	toolchain string // fingerprint of the compilers, computed once
	// owned is the state record's section, read by Plan, kept by Apply.
	owned map[string]ModuleState
	// typeOwners maps an SELinux type declared by a selinux_module of the
	// configuration to that module's ID.
	typeOwners map[string]string
	// storeBlocks indexes the CIL blocks of the store's modules, read only
	// when a module inherits a template the configuration does not declare.
	storeBlocks blockIndex
	// confined holds the warnings of the modules generated for confined
	// containers, which plan prints with the access checks.
	confined hcl.Diagnostics
}

// New returns a provider; Close removes what it compiled.
func New() *Provider { return &Provider{} }

// Name is the resource kind.
func (p *Provider) Name() string { return config.KindModule }

// Close removes the compiled modules.
func (p *Provider) Close() error {
	if p.work == "" {
		return nil
	}
	return os.RemoveAll(p.work)
}

// planned is the payload of a module change.
type planned struct {
	module   *config.Module
	comp     *compiled
	stmts    []*node // comp's CIL, parsed
	removeAt []int   // owned priorities to remove
	enable   *bool   // enable (true) or disable (false) after installing
	install  bool
	key      string   // input hash, for the compile cache
	sum      string   // checksum of the module's CIL
	types    []string // types the module declares
	// record is what the state record will say once applied; nil removes
	// the entry (a module removed or forgotten).
	record *ModuleState
}

// validateModules checks the module blocks without the host.
func (p *Provider) validateModules(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range cfg.Modules {
		if !moduleName(m.Name) {
			rng := m.DeclRange
			diags = append(diags, engine.Errorf(&rng, "Invalid module name",
				"semodule takes module names that start with a letter and hold only letters, digits, '_', '-' and single dots between them; %q is not one. Rename the selinux_module (and the module inside its source).", m.Name))
		}
	}
	return diags
}

// moduleName is libsemanage's rule for module names.
func moduleName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	valid := func(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' || c == '_' || c == '-' }
	for i := 1; i < len(s); i++ {
		if valid(s[i]) || s[i] == '.' && i+1 < len(s) && valid(s[i+1]) {
			continue
		}
		return false
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Apply runs one semodule transaction for all the changes.
func (p *Provider) Apply(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	var args []string
	committed := false
	ops := 0
	for _, c := range changes {
		pl, _ := c.Data.(*planned)
		if pl == nil {
			continue
		}
		name := nameOf(c.ID)
		if pl.install {
			args = append(args, "-X", strconv.Itoa(pl.module.Priority), "-i", pl.comp.file)
			ops++
		}
		for _, prio := range pl.removeAt {
			args = append(args, "-X", strconv.Itoa(prio), "-r", name)
			ops++
		}
		if pl.enable != nil {
			args = append(args, map[bool]string{true: "-e", false: "-d"}[*pl.enable], name)
			ops++
		}
	}
	if ops > 0 || hasSettings(changes) { // settings: see settings_apply.go
		txn, err := p.preparePolicy(env, changes)
		if err != nil {
			return fmt.Errorf("%s: %w", config.KindModule, err)
		}
		defer txn.Close()
		for _, c := range changes {
			pl, _ := c.Data.(*planned)
			switch {
			case pl == nil:
			case pl.install:
				// Owned from now on; the checksum stays unknown until the
				// commit is done, so a kill in between plans an update. The
				// claim keeps the record of the copy being replaced: if the
				// commit never happens, that copy is still seconf's.
				claim := ModuleState{Priority: pl.module.Priority, Installing: pl.sum}
				if prev, ok := p.owned[nameOf(c.ID)]; ok && !prev.DisableOnly {
					// A claim already (an apply interrupted before): its
					// own copy or the one it replaced, no further back.
					if prev.Was != nil {
						was := *prev.Was
						was.Was = nil
						prev.Was = &was
					}
					claim.Was = &prev
				}
				p.owned[nameOf(c.ID)] = claim
			case pl.record != nil && pl.record.DisableOnly:
				// Recorded before, with whether it was enabled: a kill after
				// the commit must not lose what to restore.
				p.owned[nameOf(c.ID)] = *pl.record
			}
		}
		if err := env.State.SetSection(Section, p.owned); err != nil {
			return err
		}
		if err := env.Claim(); err != nil {
			return err
		}
		if err := txn.Run(ctx, args); err != nil {
			return transactionError(env, changes, err)
		}
		committed = true
	}
	st := openStore(env.Host.FS) // anew: the commit may have made a priority directory
	for _, c := range changes {
		pl, _ := c.Data.(*planned)
		if pl == nil {
			continue
		}
		name := nameOf(c.ID)
		switch {
		case pl.record == nil:
			delete(p.owned, name)
		case pl.record.DisableOnly:
			p.owned[name] = *pl.record
		default:
			ms := *pl.record
			if ins, err := st.lookup(name); err == nil {
				for _, in := range ins {
					if in.Priority == ms.Priority {
						ms.Stored, ms.HLL, _ = st.fingerprint(in)
					}
				}
			}
			p.owned[name] = ms
		}
	}
	if err := env.State.SetSection(Section, p.owned); err != nil {
		return err
	}
	if committed {
		if err := p.checkCommitted(env); err != nil {
			// The policy is in: its changes are done, and what refused
			// them keeps every unit from being written.
			return &engine.AppliedThenFailed{Applied: changes, Err: err}
		}
	}
	return nil
}

func nameOf(id string) string { return id[len(config.KindModule)+1:] }
