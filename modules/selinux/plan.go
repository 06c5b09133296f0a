package selinux

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// planModules compiles every module and compares it with the store.
func (p *Provider) planModules(ctx context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	p.owned, p.typeOwners, p.storeBlocks = map[string]ModuleState{}, map[string]string{}, nil
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
	if st.err != nil {
		return nil, storeError(st)
	}
	if len(mods) == 0 && len(p.owned) == 0 {
		// Nothing to install; still hold containers to existing types,
		// where there is a policy to look in.
		if !st.exists() {
			return nil, nil
		}
		diags := p.judgeTypes(env, st, nil)
		if diags.HasErrors() {
			return nil, diags
		}
		return nil, append(diags, p.checkAccess(ctx, env, st, nil)...)
	}
	if !st.exists() {
		return nil, engine.FromError(nil, "No SELinux policy store", fmt.Errorf("no SELinux policy store at %s under %s: install policycoreutils and selinux-policy-default, or (with --root) copy the host's /etc/selinux and /var/lib/selinux into the root", st.dir, env.Host.Root))
	}
	var changes []*engine.Change
	var diags hcl.Diagnostics
	wanted := map[string]bool{}
	for _, m := range mods {
		wanted[m.Name] = true
		plan := p.planModule
		if m.Existing {
			plan = p.planExisting
		}
		c, d := plan(ctx, env, st, m)
		diags = append(diags, d...)
		if c != nil {
			changes = append(changes, c)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, p.resolveTypes(st, changes)...)
	if diags.HasErrors() {
		return nil, diags
	}
	refresh := false
	for _, c := range changes {
		pl := c.Data.(*planned)
		for _, t := range pl.types {
			p.typeOwners[t] = c.ID
			c.Provides = append(c.Provides, config.TypeKey(t))
		}
		if pl.record == nil {
			continue
		}
		if !pl.record.DisableOnly {
			pl.record.Types = pl.types
		}
		// Nothing to do on the host, but the record lags (sources edited
		// to the same CIL, an apply killed after its commit): bring it up
		// to date now, silently; apply saves it.
		name := nameOf(c.ID)
		if old, ok := p.owned[name]; c.Action == engine.NoOp && (!ok || !reflect.DeepEqual(old, *pl.record)) {
			p.owned[name] = *pl.record
			refresh = true
		}
	}
	if refresh {
		if err := env.State.SetSection(Section, p.owned); err != nil {
			return nil, engine.FromError(nil, "Cannot update the state record", err)
		}
	}
	pending := map[string]bool{}
	changing := map[string]*planned{}
	for _, c := range changes {
		pending[c.ID] = c.Action != engine.NoOp
		if c.Action != engine.NoOp {
			changing[c.ID] = c.Data.(*planned)
		}
	}
	diags = append(diags, p.judgeTypes(env, st, changing)...)
	if diags.HasErrors() {
		return nil, diags
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
		changes = append(changes, p.planGone(ctx, env, st, name, p.owned[name]))
	}
	return changes, diags
}

// storeError says why the store could not be read; an unprivileged user
// cannot read it at all (its directories are root's, mode 0700).
func storeError(st store) hcl.Diagnostics {
	if errors.Is(st.err, fs.ErrPermission) {
		return engine.FromError(nil, "seconf needs root", fmt.Errorf(
			"cannot read the SELinux policy store (%v): only root can read it. Run seconf plan and apply as root (sudo seconf ...)", st.err))
	}
	return engine.FromError(nil, "Cannot read the policy store", st.err)
}

// ownCopy finds, among the installed copies of m's module, the one seconf
// installed: at the recorded priority, and the very module recorded there.
// The record alone proves nothing: a module replaced by hand, or a record
// that names a module seconf never installed, is someone else's. A claim
// (an apply interrupted between its claim and its record) also owns the
// copy it replaced (Was), where the commit never happened.
func (p *Provider) ownCopy(ctx context.Context, env *engine.Env, st store, m *config.Module, pl *planned, ins []installed) (mine *installed, cur []byte, fast bool, foreign []installed, err error) {
	own, owned := p.owned[m.Name]
	if !owned {
		return nil, nil, false, ins, nil
	}
	for rec, first := &own, true; rec != nil; rec, first = rec.Was, false {
		mine, cur, fast, foreign, err = p.ownCopyOf(ctx, env, st, m, pl, *rec, ins)
		if err != nil || mine != nil || rec.Checksum != "" {
			// Fast only from the record itself: the claim's fields are
			// not those of the copy it replaced.
			return mine, cur, fast && first, foreign, err
		}
	}
	return mine, cur, fast, foreign, err
}

// ownCopyOf is ownCopy against one record.
func (p *Provider) ownCopyOf(ctx context.Context, env *engine.Env, st store, m *config.Module, pl *planned, own ModuleState, ins []installed) (mine *installed, cur []byte, fast bool, foreign []installed, err error) {
	for i := range ins {
		in := ins[i]
		if in.Priority != own.Priority {
			foreign = append(foreign, in)
			continue
		}
		// The CIL file alone first: the one recorded, it is the module
		// seconf installed, and its package is the one recorded with it.
		// That is every module of a no-change run, one read each.
		if own.Stored != "" {
			data, err := st.raw(in)
			if err != nil {
				return nil, nil, false, nil, fmt.Errorf("read installed module: %w", err)
			}
			if data != nil && checksum(data) == own.Stored {
				ins[i].sums = &[2]string{own.Stored, own.HLL}
				mine, fast = &ins[i], true
				continue
			}
		}
		cilSum, hllSum, err := st.fingerprint(in)
		if err != nil {
			return nil, nil, false, nil, fmt.Errorf("read installed module: %w", err)
		}
		ins[i].sums = &[2]string{cilSum, hllSum}
		if own.Stored != "" && cilSum == own.Stored || own.HLL != "" && hllSum == own.HLL {
			mine, fast = &ins[i], true
			continue
		}
		// Not the file recorded: the CIL may still be the same (a store
		// that recompressed it, a record from before HLL was kept).
		c, err := st.cil(ctx, env.Host.Runner, in)
		if err != nil {
			return nil, nil, false, nil, fmt.Errorf("read installed module: %w", err)
		}
		ok := own.Checksum != "" && checksum(c) == own.Checksum
		switch {
		case ok, own.Checksum != "":
		case own.Installing != "":
			// An apply interrupted between its claim and its record: the
			// module there is seconf's if it is what that apply installed.
			ok = checksum(c) == own.Installing
		default:
			// A claim from before claims named what they installed: the
			// configuration's CIL stands for it.
			if err := p.compile(ctx, env, m, pl); err != nil {
				return nil, nil, false, nil, err
			}
			ok = checksum(c) == pl.sum
		}
		if ok {
			mine, cur = &ins[i], c
			continue
		}
		foreign = append(foreign, in)
	}
	return mine, cur, fast, foreign, nil
}

// compile builds m once per plan, the tool chain checked first so that a
// missing tool is named with its package.
func (p *Provider) compile(ctx context.Context, env *engine.Env, m *config.Module, pl *planned) error {
	if pl.comp != nil {
		return nil
	}
	if err := toolchainReady(m.Format); err != nil {
		return err
	}
	if p.work == "" { // made when first needed: a no-change run compiles nothing
		dir, err := os.MkdirTemp("", "seconf-policy-")
		if err != nil {
			return fmt.Errorf("cannot make a work directory: %w", err)
		}
		p.work = dir
	}
	comp, err := compile(ctx, env.Host.Runner, m, p.work)
	if err != nil {
		return err
	}
	pl.comp, pl.sum = comp, comp.sum
	return nil
}

func (p *Provider) planModule(ctx context.Context, env *engine.Env, st store, m *config.Module) (*engine.Change, hcl.Diagnostics) {
	c := &engine.Change{ID: m.ID(), Range: m.DeclRange}
	pl := &planned{module: m}
	c.Data = pl
	rng := m.DeclRange
	fail := func(err error) (*engine.Change, hcl.Diagnostics) {
		return nil, engine.FromError(&rng, "Cannot plan "+m.ID(), err)
	}
	own, owned := p.owned[m.Name]
	ins, err := st.lookup(m.Name)
	if err != nil {
		return fail(err)
	}
	if owned && own.DisableOnly && len(ins) > 0 {
		return nil, hcl.Diagnostics{engine.Errorf(&rng, "Module seconf only disabled",
			"seconf disabled the installed module %s (an earlier selinux_module %q without source) and did not install it; this block now gives it a source. "+
				"Apply the configuration without this block first (which enables %s again, as it was), then add the block.", m.Name, m.Name, m.Name)}
	}
	if pl.key, err = p.inputHash(m); err != nil {
		return fail(err)
	}
	mine, cur, fast, foreign, err := p.ownCopy(ctx, env, st, m, pl, ins)
	if err != nil {
		return fail(err)
	}
	if d := checkForeign(st, m, p.owned, foreign, ins); d.HasErrors() {
		return nil, d
	}
	var at *installed
	if mine != nil {
		if mine.Priority == m.Priority {
			at = mine
		} else {
			// seconf's copy at another priority goes when the new one comes.
			pl.removeAt = []int{mine.Priority}
		}
	}
	// The compile cache: sources and tool chain unchanged since seconf
	// installed this very file, so compiling again would give the same CIL.
	// This keeps make, checkmodule and bzip2 off the no-change path.
	if at != nil && fast && own.Checksum != "" && own.InputHash == pl.key {
		pl.sum, pl.types = own.Checksum, own.Types
	} else {
		if err := p.compile(ctx, env, m, pl); err != nil {
			return fail(err)
		}
		if at != nil {
			if cur == nil {
				if cur, err = st.cil(ctx, env.Host.Runner, *at); err != nil {
					return fail(fmt.Errorf("read installed module: %w", err))
				}
			}
			c.Before = cur
			// Equal CIL (a comment-only edit of a .te) is no change.
			pl.install = checksum(cur) != pl.sum
		}
		c.After = pl.comp.cil
	}
	disabled := st.disabled(m.Name)
	switch {
	case at == nil:
		pl.install = true
		c.Action, c.Reason = engine.Create, fmt.Sprintf("not installed at priority %d", m.Priority)
		if len(pl.removeAt) > 0 {
			c.Action, c.Reason = engine.Update, fmt.Sprintf("priority %d → %d", pl.removeAt[0], m.Priority)
		}
	case pl.install:
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
		c.Action, c.Reason = engine.Update, fmt.Sprintf("remove the copy at priority %d", pl.removeAt[0])
	}
	rec := &ModuleState{Priority: m.Priority, Checksum: pl.sum, InputHash: pl.key}
	if c.Action == "" {
		c.Action = engine.NoOp
		if at.sums != nil { // read by ownCopy
			rec.Stored, rec.HLL = at.sums[0], at.sums[1]
		} else if rec.Stored, rec.HLL, err = st.fingerprint(*at); err != nil {
			return fail(fmt.Errorf("read installed module: %w", err))
		}
	}
	pl.record = rec
	return c, nil
}

// planExisting plans a block without source: disable the module of that
// name that someone else installed, and record that seconf did, and
// whether it was enabled before.
func (p *Provider) planExisting(_ context.Context, _ *engine.Env, st store, m *config.Module) (*engine.Change, hcl.Diagnostics) {
	rng := m.DeclRange
	ins, err := st.lookup(m.Name)
	if err != nil {
		return nil, engine.FromError(&rng, "Cannot plan "+m.ID(), err)
	}
	if len(ins) == 0 {
		return nil, hcl.Diagnostics{engine.Errorf(&rng, "No such module",
			"selinux_module %q has no source, which means: disable the installed module %s. No module of that name is installed (semodule -l does not list it). "+
				"Give its source to install it, or correct the name.", m.Name, m.Name)}
	}
	own, owned := p.owned[m.Name]
	if owned && !own.DisableOnly {
		for _, in := range ins {
			if in.Priority == own.Priority {
				return nil, hcl.Diagnostics{engine.Errorf(&rng, "Module seconf installed",
					"seconf installed %s (at priority %d), and a block without source disables a module someone else installed. "+
						"To disable seconf's module, keep its source and set enabled = false; to remove it, remove the block.", m.Name, own.Priority)}
			}
		}
		owned = false // the record names a module no longer there
	}
	disabled := st.disabled(m.Name)
	rec := &ModuleState{DisableOnly: true, WasEnabled: !disabled, Priority: ins[0].Priority}
	if owned {
		rec.WasEnabled = own.WasEnabled
	}
	c := &engine.Change{ID: m.ID(), Range: rng, Action: engine.NoOp}
	pl := &planned{module: m, record: rec}
	c.Data = pl
	if !disabled {
		off := false
		pl.enable = &off
		c.Action, c.Reason = engine.Create, "disable the installed module, at "+st.describe(m.Name, ins[0].Priority)
		if owned {
			c.Action, c.Reason = engine.Update, "enabled again outside seconf; disable it"
		}
	}
	return c, nil
}

// planGone plans a recorded module whose block left the configuration. It
// is removed only at the priority seconf recorded, and only while the
// module there is the one seconf installed; otherwise only the record goes.
func (p *Provider) planGone(ctx context.Context, env *engine.Env, st store, name string, own ModuleState) *engine.Change {
	c := &engine.Change{ID: config.KindModule + "." + name, Action: engine.Forget}
	pl := &planned{}
	c.Data = pl
	ins, _ := st.lookup(name)
	if own.DisableOnly {
		switch {
		case len(ins) == 0:
			c.Reason = "not in config; no longer installed, nothing to enable again"
		case !st.disabled(name):
			c.Reason = "not in config; enabled already, outside seconf: left as it is"
		case !own.WasEnabled:
			c.Reason = "not in config; it was disabled before seconf disabled it: left disabled"
		default:
			on := true
			pl.enable = &on
			c.Action, c.Reason = engine.Update, "not in config: enable it again, as it was before seconf disabled it"
		}
		return c
	}
	var at *installed
	var others []int
	for i := range ins {
		if ins[i].Priority == own.Priority {
			at = &ins[i]
		} else {
			others = append(others, ins[i].Priority)
		}
	}
	if at == nil {
		c.Reason = fmt.Sprintf("not in config; no longer installed at priority %d, nothing to remove", own.Priority)
		return c
	}
	if own.Checksum == "" && own.Stored == "" && own.HLL == "" && own.Installing != "" {
		// A claim: the copy there is seconf's if it is what the interrupted
		// apply installed, or (no commit) the copy it was replacing.
		claimed := own
		claimed.Checksum, claimed.Was = own.Installing, nil
		if g := p.planGone(ctx, env, st, name, claimed); g.Action == engine.Delete {
			return g
		}
		if own.Was != nil {
			if g := p.planGone(ctx, env, st, name, *own.Was); g.Action == engine.Delete {
				return g
			}
		}
	} else if own.Checksum == "" && own.Stored == "" && own.HLL == "" && own.Was != nil {
		if g := p.planGone(ctx, env, st, name, *own.Was); g.Action == engine.Delete {
			return g
		}
	}
	if own.Checksum == "" && own.Stored == "" && own.HLL == "" {
		c.Reason = fmt.Sprintf("not in config; left in place: an interrupted apply claimed it at priority %d but never recorded what it installed, so seconf cannot tell it from another's (semodule -X %d -r %s removes it)", own.Priority, own.Priority, name)
		return c
	}
	cilSum, hllSum, err := st.fingerprint(*at)
	ours := err == nil && (own.Stored != "" && cilSum == own.Stored || own.HLL != "" && hllSum == own.HLL)
	cur, cerr := st.cil(ctx, env.Host.Runner, *at)
	if !ours && cerr == nil && own.Checksum != "" && checksum(cur) == own.Checksum {
		ours = true
	}
	if !ours {
		why := fmt.Sprintf("its checksum is %s, seconf installed %s", checksum(cur), own.Checksum)
		if cerr != nil {
			why = fmt.Sprintf("it cannot be read: %v", cerr)
		} else if err != nil {
			why = fmt.Sprintf("it cannot be read: %v", err)
		}
		c.Reason = fmt.Sprintf("not in config; left in place: the module at priority %d is not the one seconf installed (%s), so it was replaced outside seconf", own.Priority, why)
		return c
	}
	c.Action, c.Reason, c.Before = engine.Delete, "not in config", cur
	if len(others) > 0 {
		c.Reason = fmt.Sprintf("not in config; the copy at priority %d, not seconf's, takes over again", others[0])
	}
	pl.removeAt = []int{own.Priority}
	return c
}

// resolveTypes finds the types each compiled module declares, templates
// (blockinherit) looked up in the configuration's modules, then in the
// store's. A module taken from the compile cache keeps its recorded types,
// so none of this runs when nothing changed.
func (p *Provider) resolveTypes(st store, changes []*engine.Change) hcl.Diagnostics {
	var diags hcl.Diagnostics
	idx := blockIndex{}
	for _, c := range changes {
		pl := c.Data.(*planned)
		if pl.comp == nil {
			continue
		}
		stmts, err := parseCIL(pl.comp.cil)
		if err != nil && pl.module.Format == config.FormatCIL {
			rng := pl.module.AttrRange("source")
			if pl.module.Source == "" {
				rng = pl.module.AttrRange("content")
			}
			diags = append(diags, engine.Errorf(&rng, "Not valid CIL", "%s: %v.", source(pl.module), err))
		}
		pl.stmts = stmts
		idx.add(stmts)
	}
	find := func(full string) *block {
		if b := idx[full]; b != nil {
			return b
		}
		if p.storeBlocks == nil {
			p.storeBlocks = readStoreBlocks(st)
		}
		return p.storeBlocks[full]
	}
	for _, c := range changes {
		pl := c.Data.(*planned)
		if pl.comp == nil {
			continue
		}
		tf := typesOf(pl.stmts, find)
		pl.types = tf.out
		seen := map[string]bool{}
		for _, u := range tf.unresolved {
			if seen[u] {
				continue
			}
			seen[u] = true
			rng := pl.module.DeclRange
			diags = append(diags, engine.Warnf(&rng, "Template not found",
				"%s inherits the block %s (blockinherit), which no module of this configuration or of the store declares: semodule will refuse the module unless a module declaring it is installed with it.", c.ID, u))
		}
	}
	return diags
}

// readStoreBlocks indexes the blocks of the store's active CIL modules
// (udica's templates, container-selinux's): a .pp module's CIL has none.
func readStoreBlocks(st store) blockIndex {
	idx := blockIndex{}
	for name := range st.at {
		if st.disabled(name) {
			continue
		}
		ins, _ := st.lookup(name)
		if len(ins) == 0 {
			continue
		}
		if lang, _ := st.file(ins[0], "lang_ext"); string(lang) != "cil" {
			continue
		}
		raw, err := st.raw(ins[0])
		if err != nil || raw == nil {
			continue
		}
		cil, err := decompress(raw)
		if err != nil {
			continue
		}
		if stmts, err := parseCIL(cil); err == nil {
			idx.add(stmts)
		}
	}
	return idx
}

// source names a module's policy text for messages: its file, or the block.
func source(m *config.Module) string {
	if m.Source != "" {
		return m.Source
	}
	rng := m.AttrRange("content")
	return fmt.Sprintf("content at %s:%d", rng.Filename, rng.Start.Line)
}

// toolchainReady checks, before compiling, the tools a format needs, so
// that a missing one is named with the package that provides it rather
// than as make's "No such file or directory".
func toolchainReady(format string) error {
	var tools []string
	switch format {
	case config.FormatTE:
		// The devel Makefile runs m4, checkmodule and semodule_package.
		tools = []string{"make", "m4", "checkmodule", "semodule_package"}
		if _, err := os.Stat(host.DevelMakefile); err != nil {
			return fmt.Errorf("the policy devel Makefile %s is missing, which builds .te modules: install selinux-policy-dev (Fedora: selinux-policy-devel)", host.DevelMakefile)
		}
	case config.FormatPP:
	default:
		return nil
	}
	for _, t := range tools {
		if _, err := host.Tool(t); err != nil {
			return err
		}
	}
	if st, err := os.Stat(host.PPToCIL); err != nil || st.Mode()&0o111 == 0 {
		return fmt.Errorf("semodule's pp-to-CIL converter %s is missing: install policycoreutils", host.PPToCIL)
	}
	return nil
}
