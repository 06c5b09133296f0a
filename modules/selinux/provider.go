package selinux

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// Section is the provider's section of the state record.
const Section = "modules"

// ModuleState is an installed module seconf owns.
type ModuleState struct {
	Priority int    `json:"priority"`
	Checksum string `json:"checksum"`
	// InputHash keys the compile cache: the hash of the sources and of the
	// tool chain that turned them into Checksum.
	InputHash string `json:"input_hash,omitempty"`
	// Stored is the sha256 of the module's file in the store as it lies
	// there (compressed): equal, the module is the one seconf installed,
	// and the no-change path need not decompress it.
	Stored string `json:"stored,omitempty"`
	// Types are the SELinux types the module declares.
	Types []string `json:"types,omitempty"`
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
	removeAt []int // owned priorities to remove
	enable   *bool // enable (true) or disable (false) after installing
	install  bool
	key      string   // input hash, for the compile cache
	sum      string   // checksum of the module's CIL
	types    []string // types the module declares
}

// Validate checks the module blocks without the host.
func (p *Provider) Validate(cfg *config.Config) hcl.Diagnostics {
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

// Plan compiles every module and compares it with the store.
func (p *Provider) Plan(ctx context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	p.owned, p.typeOwners = map[string]ModuleState{}, map[string]string{}
	if err := env.State.Section(Section, &p.owned); err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	// A container with confine = true adds the module seconf generates for
	// it, owned and pruned like the configuration's own.
	gen, gdiags := Confined(env.Host, env.Config)
	if gdiags.HasErrors() {
		return nil, gdiags
	}
	p.confined = gdiags
	mods := env.Config.Modules
	for _, g := range gen {
		mods = append(mods[:len(mods):len(mods)], g.Module)
	}
	st := openStore(env.Host.FS)
	if len(mods) == 0 && len(p.owned) == 0 {
		// Nothing to install; still hold containers to existing types,
		// where there is a policy to look in.
		if !st.exists() {
			return nil, nil
		}
		diags := p.checkTypes(env, st)
		if diags.HasErrors() {
			return nil, diags
		}
		return nil, append(diags, p.checkAccess(ctx, env, st, nil)...)
	}
	if !st.exists() {
		return nil, engine.FromError(nil, "No SELinux policy store", fmt.Errorf("no SELinux policy store at %s under %s: install policycoreutils and selinux-policy-default, or (with --root) copy the host's /etc/selinux and /var/lib/selinux into the root", st.dir, env.Host.Root))
	}
	if p.work == "" {
		dir, err := os.MkdirTemp("", "seconf-policy-")
		if err != nil {
			return nil, engine.FromError(nil, "Cannot make a work directory", err)
		}
		p.work = dir
	}
	var changes []*engine.Change
	var diags hcl.Diagnostics
	wanted := map[string]bool{}
	for _, m := range mods {
		wanted[m.Name] = true
		c, err := p.planModule(ctx, env, st, m)
		if err != nil {
			rng := m.DeclRange
			diags = append(diags, engine.FromError(&rng, "Cannot plan "+m.ID(), err)...)
			continue
		}
		changes = append(changes, c)
		for _, t := range c.Data.(*planned).types {
			p.typeOwners[t] = m.ID()
			c.Provides = append(c.Provides, config.TypeKey(t))
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, p.checkTypes(env, st)...)
	if diags.HasErrors() {
		return nil, diags
	}
	pending := map[string]bool{}
	for _, c := range changes {
		pending[c.ID] = c.Action != engine.NoOp
	}
	diags = append(diags, p.checkAccess(ctx, env, st, pending)...)
	var gone []string
	for name := range p.owned {
		if !wanted[name] {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		own := p.owned[name]
		c := &engine.Change{ID: config.KindModule + "." + name, Action: engine.Delete, Reason: "not in config"}
		ins, err := st.lookup(name)
		if err != nil {
			return nil, engine.FromError(nil, "Cannot read the policy store", err)
		}
		pl := &planned{}
		for _, in := range ins {
			if in.Priority == own.Priority {
				pl.removeAt = []int{own.Priority}
				c.Before, _ = st.cil(in)
			}
		}
		if len(pl.removeAt) == 0 {
			c.Action, c.Reason = engine.Forget, "no longer installed; forget it"
		}
		c.Data = pl
		changes = append(changes, c)
	}
	return changes, diags
}

func (p *Provider) planModule(ctx context.Context, env *engine.Env, st store, m *config.Module) (*engine.Change, error) {
	c := &engine.Change{ID: m.ID(), Range: m.DeclRange}
	pl := &planned{module: m}
	c.Data = pl
	ins, err := st.lookup(m.Name)
	if err != nil {
		return nil, err
	}
	var at *installed
	for i := range ins {
		if ins[i].Priority == m.Priority {
			at = &ins[i]
		}
	}
	if pl.key, err = p.inputHash(m); err != nil {
		return nil, err
	}
	var raw, cur []byte
	if at != nil {
		if raw, err = st.raw(*at); err != nil {
			return nil, fmt.Errorf("read installed module: %w", err)
		}
	}
	// The compile cache: sources and tool chain unchanged since seconf
	// installed this very file, so compiling again would give the same CIL.
	// This keeps make, checkmodule and bzip2 off the no-change path.
	own, owned := p.owned[m.Name]
	if owned && own.Stored != "" && own.Stored == checksum(raw) && own.InputHash == pl.key && own.Priority == m.Priority {
		pl.sum, pl.types = own.Checksum, own.Types
	} else {
		if at != nil {
			if cur, err = decompress(raw); err != nil {
				return nil, fmt.Errorf("read installed module: %w", err)
			}
			c.Before = cur
		}
		if pl.comp, err = compile(ctx, env.Host.Runner, m, p.work); err != nil {
			return nil, err
		}
		pl.sum = pl.comp.sum
		pl.types = declaredTypes(pl.comp.cil)
		c.After = pl.comp.cil
	}
	// A copy seconf installed at another priority goes when the new one comes.
	if own, ok := p.owned[m.Name]; ok && own.Priority != m.Priority {
		for _, in := range ins {
			if in.Priority == own.Priority {
				pl.removeAt = append(pl.removeAt, own.Priority)
			}
		}
	}
	disabled := st.disabled(m.Name)
	switch {
	case at == nil:
		pl.install = true
		c.Action, c.Reason = engine.Create, fmt.Sprintf("not installed at priority %d", m.Priority)
		if len(pl.removeAt) > 0 {
			c.Action, c.Reason = engine.Update, fmt.Sprintf("priority %d → %d", pl.removeAt[0], m.Priority)
		}
	case pl.comp != nil && checksum(cur) != pl.sum:
		pl.install = true
		c.Action, c.Reason = engine.Update, "checksum differs"
	}
	if m.Enabled == disabled {
		e := m.Enabled
		pl.enable = &e
		if c.Action == "" {
			c.Action, c.Reason = engine.Update, map[bool]string{true: "enable", false: "disable"}[e]
		}
	}
	if c.Action == "" && len(pl.removeAt) > 0 {
		c.Action, c.Reason = engine.Update, "remove the copy at priority "+strconv.Itoa(pl.removeAt[0])
	}
	if c.Action == "" && owned && (own.Checksum != pl.sum || own.InputHash != pl.key || own.Stored != checksum(raw)) {
		// Installed as wanted, but the state record lags (an apply killed
		// after its commit): record it, so the compile cache works again.
		c.Action, c.Reason = engine.Update, "record the installed checksum"
	}
	if c.Action == "" {
		c.Action = engine.NoOp
	}
	return c, nil
}

// Apply runs one semodule transaction for all the changes.
func (p *Provider) Apply(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	var args []string
	if env.Host.Offline() {
		// -p keeps the whole transaction under the root; -S alone would still
		// write the built policy into the build machine's /etc/selinux.
		args = append(args, "-p", env.Host.Root, "-n")
	}
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
	if ops > 0 {
		for _, c := range changes {
			if pl, _ := c.Data.(*planned); pl != nil && pl.install {
				// Owned from now on; the checksum stays unknown until the
				// commit is done, so a kill in between plans an update.
				p.owned[nameOf(c.ID)] = ModuleState{Priority: pl.module.Priority}
			}
		}
		if err := env.State.SetSection(Section, p.owned); err != nil {
			return err
		}
		if err := env.Claim(); err != nil {
			return err
		}
		semodule, err := host.Tool("semodule")
		if err != nil {
			return err
		}
		if _, err := env.Host.Runner.Run(ctx, host.Cmd{Name: semodule, Args: args}); err != nil {
			return fmt.Errorf("%s: policy transaction failed, nothing was committed: %w", config.KindModule, err)
		}
	}
	st := openStore(env.Host.FS) // anew: the commit may have made a priority directory
	for _, c := range changes {
		pl, _ := c.Data.(*planned)
		if pl == nil {
			continue
		}
		name := nameOf(c.ID)
		if c.Action == engine.Delete || c.Action == engine.Forget {
			delete(p.owned, name)
			continue
		}
		ms := ModuleState{Priority: pl.module.Priority, Checksum: pl.sum, InputHash: pl.key, Types: pl.types}
		if ins, err := st.lookup(name); err == nil {
			for _, in := range ins {
				if raw, err := st.raw(in); err == nil && in.Priority == ms.Priority {
					ms.Stored = checksum(raw)
				}
			}
		}
		p.owned[name] = ms
	}
	return env.State.SetSection(Section, p.owned)
}

func nameOf(id string) string { return id[len(config.KindModule)+1:] }
