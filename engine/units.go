package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"seconf/host"
)

// Units is the provider for everything that becomes a systemd unit
// (containers, mounts). It writes files, reloads systemd once, and starts,
// restarts and stops units; offline it enables with symlinks instead.
type Units struct {
	Sources []UnitSource
}

// NewUnits returns the units provider over the given sources.
func NewUnits(sources ...UnitSource) *Units { return &Units{Sources: sources} }

// Name is the provider's name.
func (u *Units) Name() string { return "units" }

// unitChange is the payload of a unit change.
type unitChange struct {
	unit  *Unit
	write []File   // files to write
	stale []string // files seconf wrote before that the unit no longer has
	gone  *UnitState
}

// Plan renders every unit and compares it byte for byte with the host.
func (u *Units) Plan(ctx context.Context, env *Env) ([]*Change, error) {
	var units []*Unit
	for _, s := range u.Sources {
		us, err := s.Units(env.Config, env.Host)
		if err != nil {
			return nil, err
		}
		units = append(units, us...)
	}
	// Online, reach systemd before anything is decided, let alone written:
	// a host without a reachable systemd fails here with nothing changed.
	if !env.Host.Offline() && (len(units) > 0 || len(env.State.Units) > 0) {
		if _, err := env.Host.Systemd(ctx); err != nil {
			return nil, err
		}
	}
	changed := map[string]string{}
	for _, c := range env.Prior {
		if c.Action != NoOp {
			changed[c.ID] = string(c.Action)
		}
	}
	var changes []*Change
	wanted := map[string]bool{}
	for _, un := range units {
		wanted[un.ID] = true
		c, err := u.planUnit(env, un, changed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", un.ID, err)
		}
		changes = append(changes, c)
	}
	// Prune only the kinds this provider renders: another units provider
	// (the convergence timer) owns its own.
	kinds := map[string]bool{}
	for _, s := range u.Sources {
		kinds[s.Kind()] = true
	}
	var gone []string
	for id := range env.State.Units {
		kind, _, _ := strings.Cut(id, ".")
		if !wanted[id] && kinds[kind] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		st := env.State.Units[id]
		c := &Change{ID: id, Action: Delete, Reason: "not in config", Data: &unitChange{gone: &st}}
		for _, f := range st.Files {
			if data, err := env.Host.FS.ReadFile(f); err == nil && owned(data) {
				c.Before = append(c.Before, data...)
			}
		}
		changes = append(changes, c)
	}
	if err := u.checkRunning(ctx, env, changes); err != nil {
		return nil, err
	}
	return changes, nil
}

// owned reports whether a file on the host was written by seconf.
func owned(data []byte) bool { return bytes.HasPrefix(data, []byte(Header)) }

func (u *Units) planUnit(env *Env, un *Unit, changed map[string]string) (*Change, error) {
	c := &Change{ID: un.ID, Range: un.Range, Action: NoOp}
	uc := &unitChange{unit: un}
	c.Data = uc
	prev, known := env.State.Units[un.ID]
	created := true
	for _, f := range un.Files {
		cur, err := env.Host.FS.ReadFile(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		case !owned(cur):
			return nil, fmt.Errorf("%s exists and was not written by seconf; seconf will not overwrite it. Move it away, or give the %s another name", f.Path, strings.SplitN(un.ID, ".", 2)[0])
		default:
			created = false
		}
		if f.Sensitive {
			c.Sensitive = true
		}
		if !bytes.Equal(cur, f.Data) || err != nil {
			uc.write = append(uc.write, f)
			if !f.Sensitive {
				c.Before = append(c.Before, cur...)
				c.After = append(c.After, f.Data...)
			}
		}
	}
	if known {
		for _, old := range prev.Files {
			if !hasFile(un.Files, old) {
				uc.stale = append(uc.stale, old)
			}
		}
	}
	switch {
	case len(uc.write) > 0 && created && !known:
		c.Action, c.Reason = Create, "new unit "+un.Name
	case len(uc.write) > 0 || len(uc.stale) > 0:
		c.Action, c.Reason = Update, "unit file differs"
	case env.Host.Offline() && un.Enable && !un.Generated && !u.enabled(env.Host, un):
		c.Action, c.Reason = Update, "not enabled"
	default:
		deps := un.Deps
		if owner := env.TypeOwners[un.SELinuxType]; owner != "" {
			deps = append([]string{owner}, deps...)
		}
		for _, d := range deps {
			if a, ok := changed[d]; ok && un.Start {
				c.Action, c.Reason = Restart, d+" "+a+"s"
				break
			}
		}
	}
	return c, nil
}

func hasFile(files []File, p string) bool {
	for _, f := range files {
		if f.Path == p {
			return true
		}
	}
	return false
}

func wantsLink(target, name string) string {
	return path.Join("/etc/systemd/system", target+".wants", name)
}

func (u *Units) enabled(h *host.Host, un *Unit) bool {
	for _, t := range un.WantedBy {
		if _, err := h.FS.Readlink(wantsLink(t, un.Name)); err != nil {
			return false
		}
	}
	return true
}

// checkRunning turns a no-op into a start for a unit that should run and
// does not (online only): convergence means running, not just written.
func (u *Units) checkRunning(ctx context.Context, env *Env, changes []*Change) error {
	if env.Host.Offline() {
		return nil
	}
	var names []string
	byName := map[string]*Change{}
	for _, c := range changes {
		uc := c.Data.(*unitChange)
		if c.Action == NoOp && uc.unit != nil && uc.unit.Start {
			names = append(names, uc.unit.Name)
			byName[uc.unit.Name] = c
		}
	}
	if len(names) == 0 {
		return nil
	}
	sd, err := env.Host.Systemd(ctx)
	if err != nil {
		return err
	}
	st, err := sd.ListUnitsByNamesContext(ctx, names)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	for _, s := range st {
		if c := byName[s.Name]; c != nil && s.ActiveState != "active" && s.ActiveState != "activating" && s.ActiveState != "reloading" {
			c.Action, c.Reason = Restart, "unit is "+s.ActiveState
		}
	}
	return nil
}

// Apply writes, reloads once, then starts, restarts and stops.
func (u *Units) Apply(ctx context.Context, env *Env, changes []*Change) error {
	h := env.Host
	var sd host.Systemd
	if !h.Offline() {
		var err error
		if sd, err = h.Systemd(ctx); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if uc := c.Data.(*unitChange); uc.unit != nil {
			env.State.Units[c.ID] = unitState(uc.unit, env.State.Units[c.ID])
		}
	}
	if err := env.Claim(); err != nil {
		return err
	}
	reload := false
	// Stop what leaves first, so that nothing runs from a deleted file.
	for _, c := range changes {
		uc := c.Data.(*unitChange)
		if uc.gone == nil {
			continue
		}
		if sd != nil && uc.gone.Unit != "" {
			if err := runJob(ctx, uc.gone.Unit, "stop", sd.StopUnitContext); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			// A generated (quadlet) unit has no enablement of its own to undo.
			if !uc.gone.Generated {
				if _, err := sd.DisableUnitFilesContext(ctx, []string{uc.gone.Unit}, false); err != nil {
					return fmt.Errorf("%s: disable %s: %w", c.ID, uc.gone.Unit, err)
				}
			}
		}
		for _, f := range uc.gone.Files {
			if data, err := h.FS.ReadFile(f); err == nil && !owned(data) {
				continue // replaced by someone else since: theirs now
			}
			if err := h.FS.Remove(f); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
		u.removeLinks(h, uc.gone.Unit)
		delete(env.State.Units, c.ID)
		reload = true
	}
	for _, c := range changes {
		uc := c.Data.(*unitChange)
		if uc.unit == nil {
			continue
		}
		for _, f := range uc.write {
			if err := h.FS.WriteFile(f.Path, f.Data, f.Mode); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			reload = true
		}
		for _, f := range uc.stale {
			if err := h.FS.Remove(f); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
		env.State.Units[c.ID] = unitState(uc.unit, UnitState{})
		if h.Offline() {
			if err := u.linkOffline(h, uc.unit); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
	}
	if sd == nil {
		return nil
	}
	// Enable before the one reload: enabling after it leaves systemd 257
	// believing the units changed on disk (NeedDaemonReload=yes).
	for _, c := range changes {
		uc := c.Data.(*unitChange)
		if uc.unit == nil || uc.unit.Generated || len(uc.write) == 0 {
			continue
		}
		un := uc.unit
		if un.Enable {
			if _, _, err := sd.EnableUnitFilesContext(ctx, []string{un.Name}, false, true); err != nil {
				return fmt.Errorf("%s: enable %s: %w", c.ID, un.Name, err)
			}
		} else if _, err := sd.DisableUnitFilesContext(ctx, []string{un.Name}, false); err != nil {
			return fmt.Errorf("%s: disable %s: %w", c.ID, un.Name, err)
		}
		reload = true
	}
	if reload {
		if err := sd.ReloadContext(ctx); err != nil {
			return fmt.Errorf("systemd daemon-reload: %w", err)
		}
	}
	var failed []string
	for _, c := range changes {
		uc := c.Data.(*unitChange)
		if uc.unit == nil {
			continue
		}
		un := uc.unit
		var err error
		switch {
		case !un.Start:
			if c.Action == Update {
				err = runJob(ctx, un.Name, "stop", sd.StopUnitContext)
			}
		case c.Action == Create:
			err = runJob(ctx, un.Name, "start", sd.StartUnitContext)
		case c.Action == Update || c.Action == Restart:
			err = runJob(ctx, un.Name, "restart", sd.RestartUnitContext)
		}
		if err != nil {
			failed = append(failed, c.ID+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// unitState is what the state record keeps of a unit: its files, and
// those of an earlier version that are still to be removed.
func unitState(un *Unit, prev UnitState) UnitState {
	st := UnitState{Unit: un.Name, Generated: un.Generated}
	for _, f := range un.Files {
		st.Files = append(st.Files, f.Path)
	}
	for _, f := range prev.Files {
		if !hasFile(un.Files, f) {
			st.Files = append(st.Files, f)
		}
	}
	return st
}

type jobFunc func(ctx context.Context, name, mode string, ch chan<- string) (int, error)

// runJob queues a job and waits for its result, so that a unit that fails
// to start is reported with its name rather than discovered later.
func runJob(ctx context.Context, name, verb string, f jobFunc) error {
	ch := make(chan string, 1)
	if _, err := f(ctx, name, "replace", ch); err != nil {
		return fmt.Errorf("%s %s: %w", verb, name, err)
	}
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("%s %s: job %s (see journalctl -u %s)", verb, name, res, name)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s %s: %w", verb, name, ctx.Err())
	}
}

// linkOffline enables or disables a unit as systemctl --root does: the
// [Install] section's WantedBy= symlinks. Generated (quadlet) units get
// theirs from the generator at boot.
func (u *Units) linkOffline(h *host.Host, un *Unit) error {
	if un.Generated {
		return nil
	}
	if !un.Enable {
		u.removeLinks(h, un.Name)
		return nil
	}
	for _, t := range un.WantedBy {
		if err := h.FS.Symlink(path.Join("/etc/systemd/system", un.Name), wantsLink(t, un.Name)); err != nil {
			return err
		}
	}
	return nil
}

// removeLinks drops the .wants symlinks that point at the unit.
func (u *Units) removeLinks(h *host.Host, name string) {
	if name == "" {
		return
	}
	ents, _ := h.FS.ReadDir("/etc/systemd/system")
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".wants") {
			link := path.Join("/etc/systemd/system", e.Name(), name)
			if _, err := h.FS.Readlink(link); err == nil {
				h.FS.Remove(link)
			}
		}
	}
}
