package units

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// Section is the state record section of the configuration's units.
const Section = "units"

// Provider converges everything that becomes a systemd unit. It writes
// files, reloads systemd once, and starts, restarts and stops units;
// offline it enables with symlinks instead.
type Provider struct {
	name    string
	sources []Source
}

// New returns a provider over the given sources, keeping its records in the
// state record's section name. The kinds of its sources are the only
// records it prunes, so that two providers (the configuration's units, the
// convergence timer) can share a section.
func New(name string, sources ...Source) *Provider { return &Provider{name: name, sources: sources} }

// Name is the provider's name and state section.
func (p *Provider) Name() string { return p.name }

// UnitState is a unit seconf wrote, by resource ID.
type UnitState struct {
	Files     []string `json:"files"`
	Unit      string   `json:"unit"`
	Generated bool     `json:"generated,omitempty"`
	// Sums are the sha256 of each file as seconf wrote it: a file is only
	// removed while it still holds that.
	Sums map[string]string `json:"sums,omitempty"`
}

// Records reads the provider section of a state record.
func Records(st *engine.State, section string) (map[string]UnitState, error) {
	recs := map[string]UnitState{}
	err := st.Section(section, &recs)
	return recs, err
}

// change is the payload of a unit change.
type change struct {
	unit  *Unit
	write []File   // files to write
	stale []string // files seconf wrote before that the unit no longer has
	gone  *UnitState
	// forget: files of the record seconf will not touch (not its own now).
	forget []string
}

// Validate renders every block without a host and checks that no two
// resources want the same unit or file.
func (p *Provider) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var units []*Unit
	for _, s := range p.sources {
		diags = append(diags, s.Validate(cfg)...)
		if us, d := s.Units(context.Background(), cfg, nil); !d.HasErrors() {
			units = append(units, us...)
		}
	}
	return append(diags, clashes(units)...)
}

// clashes reports two units of the configuration with the same name or
// file: systemd would run one of them, and each apply would rewrite the
// file for the other.
func clashes(units []*Unit) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*Unit{}
	for _, u := range units {
		keys := []string{u.Name}
		for _, f := range u.Files {
			keys = append(keys, f.Path)
		}
		for _, k := range keys {
			if o := seen[k]; o != nil && o != u {
				rng := u.Range
				diags = append(diags, engine.Errorf(&rng, "Two resources write the same unit",
					"%s and %s (%s) would both be %s. Rename one of them.", u.ID, o.ID, o.Range, k))
				break
			}
			seen[k] = u
		}
	}
	return diags
}

// Plan renders every unit and compares it with the host.
func (p *Provider) Plan(ctx context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	var units []*Unit
	var diags hcl.Diagnostics
	for _, s := range p.sources {
		us, d := s.Units(ctx, env.Config, env.Host)
		diags = append(diags, d...)
		units = append(units, us...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	recs, err := Records(env.State, p.name)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	// Online, reach systemd before anything is decided, let alone written:
	// a host without a reachable systemd fails here with nothing changed.
	if !env.Host.Offline() && (len(units) > 0 || len(recs) > 0) {
		if _, err := env.Host.Systemd(ctx); err != nil {
			return nil, engine.FromError(nil, "Cannot reach systemd", err)
		}
	}
	taken := newNames(env.Host, recs)
	var changes []*engine.Change
	wanted := map[string]bool{}
	for _, un := range units {
		wanted[un.ID] = true
		if d := taken.check(un); d != nil {
			diags = append(diags, d)
			continue
		}
		c, err := p.planUnit(env, un, recs)
		if err != nil {
			rng := un.Range
			diags = append(diags, engine.FromError(&rng, "Cannot plan "+un.ID, err)...)
			continue
		}
		changes = append(changes, c)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	// Prune only the kinds this provider renders: another provider (the
	// convergence timer) owns its own.
	kinds := map[string]bool{}
	for _, s := range p.sources {
		kinds[s.Kind()] = true
	}
	var gone []string
	for id := range recs {
		kind, _, _ := strings.Cut(id, ".")
		if !wanted[id] && kinds[kind] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		changes = append(changes, planGone(env.Host, id, recs[id]))
	}
	if err := p.checkRunning(ctx, env, changes); err != nil {
		return nil, append(diags, engine.FromError(nil, "Cannot read the units' states", err)...)
	}
	return changes, diags
}

// unitDirs are the directories this provider writes files to; a recorded
// file anywhere else is not one seconf could have written.
var unitDirs = []string{host.UnitDir, host.QuadletDir, host.EnvDir}

// verdict says whether a file named by the record may be removed.
type verdict int

const (
	absent  verdict = iota // already gone
	ours                   // seconf's, as seconf wrote it
	notOurs                // anything else: leave it
)

// judge checks a recorded file against the host.
func judge(h *host.Host, file string, st UnitState) (verdict, string) {
	if path.Clean(file) != file || !inDirs(file, unitDirs) {
		return notOurs, "not a place seconf writes units to"
	}
	data, err := h.FS.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return absent, ""
	case err != nil:
		return notOurs, err.Error()
	case !Owned(data):
		return notOurs, "not written by seconf"
	}
	if sum, ok := st.Sums[file]; ok && sum != sha(data) {
		return notOurs, "changed since seconf wrote it"
	}
	return ours, ""
}

func inDirs(file string, dirs []string) bool {
	for _, d := range dirs {
		if path.Dir(file) == d {
			return true
		}
	}
	return false
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// planGone plans the removal of a unit that left the configuration: only
// what judge finds is seconf's goes; the rest is forgotten.
func planGone(h *host.Host, id string, st UnitState) *engine.Change {
	c := &engine.Change{ID: id, Action: engine.Delete, Reason: "not in config"}
	cg := &change{gone: &UnitState{Generated: st.Generated, Sums: st.Sums}}
	var why []string
	for _, f := range st.Files {
		switch v, reason := judge(h, f, st); v {
		case ours:
			data, _ := h.FS.ReadFile(f)
			if !strings.HasPrefix(f, host.EnvDir+"/") {
				c.Before = append(c.Before, data...)
			}
			cg.gone.Files = append(cg.gone.Files, f)
			if u := unitOf(f); u != "" {
				cg.gone.Unit = u
			}
		case notOurs:
			cg.forget = append(cg.forget, f)
			why = append(why, f+": "+reason)
		}
	}
	if len(cg.forget) > 0 {
		c.Reason = "not in config; left in place: " + strings.Join(why, "; ")
		if len(cg.gone.Files) == 0 {
			c.Action = engine.Forget
		}
	}
	c.Data = cg
	return c
}

// unitOf is the unit a file seconf writes defines: NAME.service for
// /etc/systemd/system/NAME.service and for the quadlet file NAME.container,
// NAME-volume.service for NAME.volume, and so on.
func unitOf(file string) string {
	base := path.Base(file)
	switch path.Dir(file) {
	case host.UnitDir:
		return base
	case host.QuadletDir:
		for _, q := range quadletKinds {
			if n, ok := strings.CutSuffix(base, q[0]); ok {
				return n + q[1] + ".service"
			}
		}
	}
	return ""
}

// quadletKinds are the quadlet file extensions seconf writes and the
// suffix quadlet gives the service it generates from each.
var quadletKinds = [][2]string{{".container", ""}, {".volume", "-volume"}, {".network", "-network"}}

// quadletSources are the quadlet files that would generate the service
// name: NAME.container for NAME.service, NAME.volume for
// NAME-volume.service, ...
func quadletSources(name string) []string {
	base, ok := strings.CutSuffix(name, ".service")
	if !ok {
		return nil
	}
	var out []string
	for _, q := range quadletKinds {
		if b, ok := strings.CutSuffix(base, q[1]); ok && b != "" {
			out = append(out, b+q[0])
		}
	}
	return out
}

func (p *Provider) planUnit(env *engine.Env, un *Unit, recs map[string]UnitState) (*engine.Change, error) {
	c := &engine.Change{ID: un.ID, Range: un.Range, Action: engine.NoOp, Needs: un.Needs, Restartable: un.Start}
	uc := &change{unit: un}
	c.Data = uc
	prev, known := recs[un.ID]
	created := true
	for _, f := range un.Files {
		cur, err := env.Host.FS.ReadFile(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		case !Owned(cur):
			advice := fmt.Sprintf("Move it away, or give the %s another name", strings.SplitN(un.ID, ".", 2)[0])
			if un.Range.Filename == "" {
				// No block: the name is seconf's own (the convergence
				// timer's), and cannot be changed.
				advice = "Move it away"
			}
			return nil, fmt.Errorf("%s exists and was not written by seconf; seconf will not overwrite it. %s", f.Path, advice)
		default:
			created = false
		}
		if f.Sensitive {
			c.Sensitive = true
		}
		if err != nil || !bytes.Equal(body(cur), body(f.Data)) {
			uc.write = append(uc.write, f)
			if !f.Sensitive {
				c.Before = append(c.Before, cur...)
				c.After = append(c.After, f.Data...)
			}
		}
	}
	if known {
		for _, old := range prev.Files {
			if hasFile(un.Files, old) {
				continue
			}
			switch v, reason := judge(env.Host, old, prev); v {
			case ours:
				uc.stale = append(uc.stale, old)
			case notOurs:
				uc.forget = append(uc.forget, old+": "+reason)
			}
		}
	}
	switch {
	case len(uc.write) > 0 && created && !known:
		c.Action, c.Reason = engine.Create, "new unit "+un.Name
	case len(uc.write) > 0 || len(uc.stale) > 0:
		c.Action, c.Reason = engine.Update, "unit file differs"
	case env.Host.Offline() && un.Enable && !un.Generated && !enabled(env.Host, un):
		c.Action, c.Reason = engine.Update, "not enabled"
	case len(uc.forget) > 0:
		c.Action, c.Reason = engine.Forget, "an earlier file is no longer seconf's; left in place"
	}
	if len(uc.forget) > 0 {
		c.Reason += " (left in place: " + strings.Join(uc.forget, "; ") + ")"
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
	return path.Join(host.UnitDir, target+".wants", name)
}

func enabled(h *host.Host, un *Unit) bool {
	for _, t := range un.WantedBy {
		if _, err := h.FS.Readlink(wantsLink(t, un.Name)); err != nil {
			return false
		}
	}
	return true
}

// checkRunning turns a no-op into a start for a unit that should run and
// does not (online only): convergence means running, not just written.
func (p *Provider) checkRunning(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	if env.Host.Offline() {
		return nil
	}
	var names []string
	byName := map[string]*engine.Change{}
	for _, c := range changes {
		uc := c.Data.(*change)
		if c.Action == engine.NoOp && uc.unit != nil && uc.unit.Start {
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
			c.Action, c.Reason = engine.Restart, "unit is "+s.ActiveState
		}
	}
	return nil
}

// Apply writes, reloads once, then starts, restarts and stops.
func (p *Provider) Apply(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	h := env.Host
	recs, err := Records(env.State, p.name)
	if err != nil {
		return err
	}
	save := func() error { return env.State.SetSection(p.name, recs) }
	var sd host.Systemd
	if !h.Offline() {
		if sd, err = h.Systemd(ctx); err != nil {
			return err
		}
	}
	// Claim first: a kill after a write must leave the file owned.
	for _, c := range changes {
		if uc := c.Data.(*change); uc.unit != nil && len(uc.write) > 0 {
			recs[c.ID] = claim(uc.unit, recs[c.ID])
		}
	}
	if err := save(); err != nil {
		return err
	}
	if err := env.Claim(); err != nil {
		return err
	}
	reload := false
	// Removals first: a unit that left the configuration stops before its
	// files go, and a renamed container frees its name.
	for _, c := range changes {
		uc := c.Data.(*change)
		if uc.gone == nil {
			continue
		}
		name := uc.gone.Unit
		if sd != nil && name != "" {
			if err := runJob(ctx, name, "stop", sd.StopUnitContext); err != nil && !strings.Contains(err.Error(), "not loaded") {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			if !uc.gone.Generated {
				if _, err := sd.DisableUnitFilesContext(ctx, []string{name}, false); err != nil {
					return fmt.Errorf("%s: disable %s: %w", c.ID, name, err)
				}
			}
		}
		for _, f := range uc.gone.Files {
			// Checked again: the host may have changed since the plan.
			if v, _ := judge(h, f, *uc.gone); v != ours {
				continue
			}
			if err := h.FS.Remove(f); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
		removeLinks(h, name)
		delete(recs, c.ID)
		reload = reload || name != ""
	}
	for _, c := range changes {
		uc := c.Data.(*change)
		if uc.unit == nil {
			continue
		}
		for _, f := range uc.write {
			// The plan saw no file or one of seconf's; a file that appeared
			// since is someone else's.
			if cur, err := h.FS.ReadFile(f.Path); err == nil && !Owned(cur) {
				return fmt.Errorf("%s: %s appeared since the plan and was not written by seconf; left alone", c.ID, f.Path)
			}
			if err := h.FS.WriteFile(f.Path, f.Data, f.Mode); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			reload = true
		}
		prev := recs[c.ID]
		for _, f := range uc.stale {
			if v, _ := judge(h, f, prev); v != ours {
				continue
			}
			if err := h.FS.Remove(f); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
		recs[c.ID] = record(uc.unit)
		if h.Offline() {
			if err := linkOffline(h, uc.unit); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
		}
	}
	if err := save(); err != nil {
		return err
	}
	if sd == nil {
		return nil
	}
	// Enable before the one reload: enabling after it leaves systemd 257
	// believing the units changed on disk (NeedDaemonReload=yes).
	for _, c := range changes {
		uc := c.Data.(*change)
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
		uc := c.Data.(*change)
		if uc.unit == nil {
			continue
		}
		un := uc.unit
		var err error
		switch {
		case !un.Start:
			if c.Action == engine.Update {
				err = runJob(ctx, un.Name, "stop", sd.StopUnitContext)
			}
		case c.Action == engine.Create:
			err = runJob(ctx, un.Name, "start", sd.StartUnitContext)
		case c.Action == engine.Update || c.Action == engine.Restart:
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

// claim is the record made before writing: the unit's new files, with
// their sums, and those of the earlier version still to be removed.
func claim(un *Unit, prev UnitState) UnitState {
	st := record(un)
	for _, f := range prev.Files {
		if !hasFile(un.Files, f) {
			st.Files = append(st.Files, f)
			if s, ok := prev.Sums[f]; ok {
				st.Sums[f] = s
			}
		}
	}
	return st
}

// record is what the state record keeps of a unit as written.
func record(un *Unit) UnitState {
	st := UnitState{Unit: un.Name, Generated: un.Generated, Sums: map[string]string{}}
	for _, f := range un.Files {
		st.Files = append(st.Files, f.Path)
		st.Sums[f.Path] = sha(f.Data)
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
func linkOffline(h *host.Host, un *Unit) error {
	if un.Generated {
		return nil
	}
	if !un.Enable {
		removeLinks(h, un.Name)
		return nil
	}
	for _, t := range un.WantedBy {
		if err := h.FS.Symlink(path.Join(host.UnitDir, un.Name), wantsLink(t, un.Name)); err != nil {
			return err
		}
	}
	return nil
}

// removeLinks drops the .wants symlinks that point at seconf's unit file;
// a link of that name to another file (a vendor unit) is not seconf's.
func removeLinks(h *host.Host, name string) {
	if name == "" {
		return
	}
	ents, _ := h.FS.ReadDir(host.UnitDir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".wants") {
			link := path.Join(host.UnitDir, e.Name(), name)
			if t, err := h.FS.Readlink(link); err == nil && t == path.Join(host.UnitDir, name) {
				h.FS.Remove(link)
			}
		}
	}
}
