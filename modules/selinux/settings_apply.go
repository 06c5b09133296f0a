package selinux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"seconf/engine"
	"seconf/host"
)

// policyCommit is the policy step of one apply: modules and settings, in
// as few commits as the tools allow.
//
//   - Modules only: one semodule run, as ever.
//   - Settings (with or without modules): one semanage import, which takes
//     module records too (module -a FILE -P PRIO, -r, -e, -d) and commits
//     everything at once.
//   - Settings that use a boolean or type a module of this apply brings:
//     semanage checks each record against the policy as it is before the
//     commit ("Boolean X is not defined"), so the modules go first in a
//     semodule run, then the settings in an import: two commits.
//
// semanage has no root option. Offline it runs in a private mount
// namespace in which ROOT/etc/selinux and ROOT/var/lib/selinux are bound
// over the machine's, after the same checks as semodule's transaction (no
// symlinks on the way to or in the store, a sanitised semanage.conf), with
// -N (no policy load), and with an empty directory over /sys/fs/selinux:
// on a build machine running SELinux, semanage boolean -m would otherwise
// also set the machine's own running boolean.
type policyCommit struct {
	p        *Provider
	env      *engine.Env
	changes  []*engine.Change
	modules  *transaction // semodule, prepared
	store    string
	semanage string
	sandbox  *host.Sandbox
	tmp      string
}

// preparePolicy checks the store and readies the tools for changes.
func (p *Provider) preparePolicy(env *engine.Env, changes []*engine.Change) (*policyCommit, error) {
	txn, err := prepareTransaction(env.Host)
	if err != nil {
		return nil, err
	}
	pc := &policyCommit{p: p, env: env, changes: changes, modules: txn}
	if !hasSettings(changes) {
		return pc, nil
	}
	if pc.store, err = storeName(env.Host.FS); err != nil {
		txn.Close()
		return nil, err
	}
	if len(importLines(changes)) == 0 {
		return pc, nil // running values only
	}
	if pc.semanage, err = host.Tool("semanage"); err != nil {
		txn.Close()
		return nil, err
	}
	if !env.Host.Offline() {
		return pc, nil
	}
	root := env.Host.Root
	sb := &host.Sandbox{Binds: []host.Bind{
		{Src: filepath.Join(root, host.SELinuxDir), Dst: host.SELinuxDir},
		{Src: filepath.Join(root, host.PolicyStores), Dst: host.PolicyStores},
	}}
	if txn.sandbox != nil {
		// The root's semanage.conf, sanitised; it lies at the same path
		// once the root's /etc/selinux is in place.
		sb.Binds = append(sb.Binds, host.Bind{Src: txn.sandbox.Binds[0].Src, Dst: filepath.Join(host.SELinuxDir, "semanage.conf"), ReadOnly: true})
	}
	if st, err := os.Stat(host.SELinuxFS); err == nil && st.IsDir() {
		if pc.tmp, err = os.MkdirTemp("", "seconf-selinuxfs-"); err != nil {
			txn.Close()
			return nil, err
		}
		sb.Binds = append(sb.Binds, host.Bind{Src: pc.tmp, Dst: host.SELinuxFS, ReadOnly: true})
	}
	pc.sandbox = sb
	return pc, nil
}

// Close removes what preparePolicy wrote.
func (pc *policyCommit) Close() {
	pc.modules.Close()
	if pc.tmp != "" {
		os.RemoveAll(pc.tmp)
	}
}

// partialCommit is a failure after the modules were committed.
type partialCommit struct{ err error }

func (e *partialCommit) Error() string {
	return "the modules were committed, but the settings' transaction failed and none of the settings were: " + e.err.Error()
}
func (e *partialCommit) Unwrap() error { return e.err }

// commitError says what a failed policy step left.
func commitError(err error) error {
	var pe *partialCommit
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("policy transaction failed, nothing was committed: %w", err)
}

// Run commits the module operations (semodule's -X/-i/-r/-e/-d arguments)
// and the settings of the apply, then brings the running system along.
func (pc *policyCommit) Run(ctx context.Context, args []string) error {
	ops := settingOps(pc.changes)
	if len(ops) == 0 {
		return pc.modules.Run(ctx, args)
	}
	h := pc.env.Host
	var own settingsState
	if err := pc.env.State.Section(SettingsSection, &own); err != nil {
		return err
	}
	for _, op := range ops {
		if op.claim != nil {
			op.claim(&own)
		}
	}
	if err := pc.env.State.SetSection(SettingsSection, own); err != nil {
		return err
	}
	if err := pc.env.Claim(); err != nil {
		return err
	}
	lines := importLines(pc.changes)
	modLines, inline := moduleLines(args)
	after := false
	for _, op := range ops {
		after = after || op.afterModules
	}
	subs := subsPath(pc.store)
	subsBefore, subsErr := h.FS.ReadFile(subs)
	var err error
	switch {
	case len(args) > 0 && (after || !inline):
		fmt.Fprintf(h.Log, "policy: modules first, then %d setting records (they use what the modules bring)\n", len(lines))
		if err = pc.modules.Run(ctx, args); err == nil && len(lines) > 0 {
			if err = pc.importRecords(ctx, lines); err != nil {
				err = &partialCommit{err}
			}
		}
	case len(args) > 0:
		if err = pc.importRecords(ctx, append(modLines, lines...)); err == nil {
			err = pc.p.verifyInstalls(ctx, h, pc.changes)
		}
	case len(lines) > 0:
		err = pc.importRecords(ctx, lines)
	}
	if err != nil {
		// semanage writes equivalences into file_contexts.subs before it
		// commits, and leaves them there when the commit fails.
		if now, nowErr := h.FS.ReadFile(subs); (nowErr == nil) != (subsErr == nil) || !bytes.Equal(now, subsBefore) {
			if errors.Is(subsErr, fs.ErrNotExist) {
				h.FS.Remove(subs)
			} else if subsErr == nil {
				h.FS.WriteFile(subs, subsBefore, 0o644)
			}
		}
		return err
	}
	for _, op := range ops {
		if op.record != nil {
			op.record(&own)
		}
	}
	if err := pc.env.State.SetSection(SettingsSection, own); err != nil {
		return err
	}
	if h.Offline() {
		return nil
	}
	if err := pc.followRunning(ctx, ops); err != nil {
		return err
	}
	return pc.relabel(ctx, ops)
}

// importRecords runs one semanage import of lines: one commit.
func (pc *policyCommit) importRecords(ctx context.Context, lines []string) error {
	h := pc.env.Host
	args := []string{"import", "-S", pc.store}
	if h.Offline() {
		args = append(args, "-N")
	}
	fmt.Fprintf(h.Log, "semanage import, %d records:\n  %s\n", len(lines), strings.Join(lines, "\n  "))
	_, err := h.Runner.Run(ctx, host.Cmd{Name: pc.semanage, Args: args, Stdin: []byte(strings.Join(lines, "\n") + "\n"), Sandbox: pc.sandbox})
	return err
}

// moduleLines turns semodule's arguments into semanage import records.
// inline is false when a file name would not survive semanage import's
// line splitting (white space, quotes): then semodule takes the modules.
func moduleLines(args []string) (lines []string, inline bool) {
	prio := "400"
	inline = true
	for i := 0; i+1 < len(args); i += 2 {
		v := args[i+1]
		if strings.ContainsAny(v, " \t\n\"'") {
			inline = false
		}
		switch args[i] {
		case "-X":
			prio = v
		case "-i":
			lines = append(lines, "module -a "+v+" -P "+prio)
		case "-r":
			lines = append(lines, "module -r "+v+" -P "+prio)
		case "-e":
			lines = append(lines, "module -e "+v)
		case "-d":
			lines = append(lines, "module -d "+v)
		default:
			inline = false
		}
	}
	return lines, inline
}

// verifyInstalls checks that every module the import installed is in the
// store as compiled: semanage's module -a ignores a failed install of the
// file and commits the rest.
func (p *Provider) verifyInstalls(ctx context.Context, h *host.Host, changes []*engine.Change) error {
	st := openStore(h.FS)
	for _, c := range changes {
		pl, _ := c.Data.(*planned)
		if pl == nil || !pl.install {
			continue
		}
		ins, _ := st.lookup(nameOf(c.ID))
		found := false
		for _, in := range ins {
			if in.Priority == pl.module.Priority {
				if cil, err := st.cil(ctx, h.Runner, in); err == nil && checksum(cil) == pl.sum {
					found = true
				}
			}
		}
		if !found {
			return fmt.Errorf("%s: semanage import committed, but the store does not hold the module as compiled at priority %d; run the apply again with -v to see semanage's output", c.ID, pl.module.Priority)
		}
	}
	return nil
}

// followRunning sets the running value of each boolean whose persistent
// value changed when it differs: semanage boolean -m sets both only when
// SELinux is on and the store is the running policy's, and a policy reload
// keeps the running values.
func (pc *policyCommit) followRunning(ctx context.Context, ops []*settingOp) error {
	h := pc.env.Host
	var pairs []string
	for _, op := range ops {
		for _, name := range sortedKeys(op.running) {
			data, err := h.FS.ReadFile(filepath.Join(host.SELinuxFS, "booleans", name))
			if err != nil || len(data) == 0 {
				continue // SELinux off, or a boolean the running policy lacks
			}
			if (data[0] == '1') != op.running[name] {
				pairs = append(pairs, name+"="+strconv.Itoa(map[bool]int{false: 0, true: 1}[op.running[name]]))
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	bin, err := host.Tool("setsebool")
	if err != nil {
		return err
	}
	_, err = h.Runner.Run(ctx, host.Cmd{Name: bin, Args: pairs})
	return err
}

// relabel restores the labels of the files that exist under the changed
// rules' paths, and only those (see relabelTargets).
func (pc *policyCommit) relabel(ctx context.Context, ops []*settingOp) error {
	var exprs []string
	for _, op := range ops {
		exprs = append(exprs, op.relabel...)
	}
	if len(exprs) == 0 {
		return nil
	}
	bin, err := host.Tool("restorecon")
	if err != nil {
		return err
	}
	for _, c := range relabelCommands(bin, relabelTargets(pc.env.Host.FS, exprs)) {
		if _, err := pc.env.Host.Runner.Run(ctx, c); err != nil {
			return fmt.Errorf("relabel: %w", err)
		}
	}
	return nil
}

// equivalenceExpr is the path expression of everything an equivalence
// relabels: its path and what lies under it.
func equivalenceExpr(p string) string { return regexp.QuoteMeta(p) + "(/.*)?" }
