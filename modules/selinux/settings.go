package selinux

import (
	"context"
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
	"seconf/internal/lazyre"
	"seconf/modules/selinux/filecontexts"
	"seconf/modules/selinux/policydb"
)

// SettingsSection is the state record's section for booleans, file
// contexts and ports.
const SettingsSection = "settings"

// settingsState is what seconf owns of the local customizations: for each
// record it made, the value it set and the one that was there before, so
// that removing the block restores it. Keys are the records' identities in
// libsemanage (a boolean's name, "FILETYPE PATH", "PROTO/RANGE"), not block
// names: renaming a block changes nothing on the host.
type settingsState struct {
	Booleans  map[string]*ownedBool    `json:"booleans,omitempty"`
	FContexts map[string]*ownedSetting `json:"fcontexts,omitempty"`
	Ports     map[string]*ownedSetting `json:"ports,omitempty"`
}

// ownedBool is a boolean seconf set.
type ownedBool struct {
	ID    string `json:"id"`
	Value bool   `json:"value"`
	// Before is the local record someone else had made (setsebool -P,
	// semanage boolean -m), nil when there was none; Was is the persistent
	// value then. semanage 3.4 cannot delete one boolean's local record, so
	// a removal sets the value back to Before, or else Was.
	Before *bool `json:"before,omitempty"`
	Was    bool  `json:"was"`
}

// ownedSetting is a file context, equivalence or port seconf set.
type ownedSetting struct {
	ID       string `json:"id"`
	Path     string `json:"path,omitempty"`
	FileType string `json:"file_type,omitempty"` // config.FileTypes or "equal"
	Proto    string `json:"protocol,omitempty"`
	Low      int    `json:"low,omitempty"`
	High     int    `json:"high,omitempty"`
	Value    string `json:"value"`            // the type, or the equivalence's equal path
	Before   string `json:"before,omitempty"` // the local value someone else had set; "" none
}

func (o *ownedSetting) fcKey() fcKey     { return fcKey{o.Path, o.FileType} }
func (o *ownedSetting) portKey() portKey { return portKey{o.Proto, o.Low, o.High} }

// settingOp is the payload of a setting's change: the semanage import
// lines that make it, what to record once committed, and what the running
// system then needs.
type settingOp struct {
	lines []string
	// afterModules: the setting uses a boolean or type that a module of
	// this apply brings; semanage checks each record against the policy as
	// it is before the commit, so the modules must be committed first.
	afterModules bool
	record       func(*settingsState) // nil: drop nothing, add nothing
	claim        func(*settingsState) // before the commit: ownership
	// online follow-ups
	running map[string]bool // boolean → running value
	relabel []string        // path expressions (or equivalence paths) whose files to relabel
}

// settingsPlan is the state of the host's settings as one plan reads it.
type settingsPlan struct {
	p       *Provider
	env     *engine.Env
	store   string // policy store name
	local   *localRecords
	dist    map[fcKey]string // file_contexts.subs_dist
	mls     bool
	own     settingsState
	diags   hcl.Diagnostics
	changes []*engine.Change

	// The policy, read at most once and only for settings that change.
	pol     *policydb.Policy
	polErr  error
	polRead bool
	// What the configuration's modules bring: types and booleans (with
	// their default value), and which of those are pending in this apply.
	modTypes, modBools map[string]string // name → module ID
	modBoolDefault     map[string]bool
	pendingMod         map[string]bool // module ID → pending
	fcPolicy           map[fcKey]bool  // rules of the policy's own file_contexts, read once
}

// Plan plans the modules, then the settings beside them.
func (p *Provider) Plan(ctx context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	changes, diags := p.planModules(ctx, env)
	if diags.HasErrors() {
		return nil, diags
	}
	sc, sd := p.planSettings(env, changes)
	diags = append(diags, sd...)
	if diags.HasErrors() {
		return nil, diags
	}
	return append(changes, sc...), diags
}

// Validate checks the module and setting blocks without the host.
func (p *Provider) Validate(cfg *config.Config) hcl.Diagnostics {
	return append(p.validateModules(cfg), validateSettings(cfg)...)
}

// containerContentTypes are the labels container engines give the content
// they relabel (:z, :Z) and their read-only content, by refpolicy's and
// container-selinux's names.
var containerContentTypes = map[string]bool{
	"container_file_t": true, "container_ro_file_t": true, "svirt_sandbox_file_t": true, "svirt_lxc_file_t": true,
}

// validateSettings checks what config cannot (it knows no file-context
// syntax): each path expression is one libselinux compiles.
func validateSettings(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, f := range cfg.FContexts {
		if f.Equal != "" || f.Path == "" {
			continue
		}
		rng := f.AttrRange("path")
		if err := filecontexts.ValidRegex(f.Path); err != nil {
			diags = append(diags, engine.Errorf(&rng, "Invalid path expression", "%v. Write an absolute path or a regular expression over whole paths, such as \"/srv/data(/.*)?\".", err))
			continue
		}
		prefix, _, _ := filecontexts.FixedPrefix(f.Path)
		if prefix == "" {
			// libselinux anchors ^...$ around the whole expression, so a
			// top-level | leaves each side anchored at one end only.
			diags = append(diags, engine.Errorf(&rng, "Invalid path expression",
				"%q has a | outside any group: libselinux would match paths that start with the left side or end with the right one. Group it: \"/srv/(a|b)(/.*)?\".", f.Path))
			continue
		}
		// The engines' content labels on a system directory are what :z
		// and :Z would give it, for every container at once and through
		// every relabel: refused as the relabelling volume is.
		if containerContentTypes[f.Type] {
			if d, sys := config.SystemPath(prefix); sys {
				trng := f.AttrRange("type")
				diags = append(diags, engine.Errorf(&trng, "Relabelling a system directory refused",
					"selinux_fcontext %q would label what %q matches (under %s, in the system directory %s) %s, the engines' label for container content: every container could then use it, and the host services that use it would lose it. Give the container's data a directory of its own (/srv/NAME, /var/lib/NAME).", f.Name, f.Path, prefix, d, f.Type))
			}
		}
	}
	return diags
}

func (p *Provider) planSettings(env *engine.Env, modChanges []*engine.Change) ([]*engine.Change, hcl.Diagnostics) {
	cfg := env.Config
	sp := &settingsPlan{p: p, env: env}
	if err := env.State.Section(SettingsSection, &sp.own); err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	if len(cfg.Booleans)+len(cfg.FContexts)+len(cfg.Ports) == 0 && len(sp.own.Booleans)+len(sp.own.FContexts)+len(sp.own.Ports) == 0 {
		return nil, nil
	}
	var err error
	if sp.store, err = storeName(env.Host.FS); err != nil {
		return nil, engine.FromError(nil, "Cannot read the SELinux configuration", err)
	}
	if !env.Host.FS.Exists(sp.activeDir()) {
		return nil, engine.FromError(nil, "No SELinux policy store", fmt.Errorf("no SELinux policy store at %s under %s: install policycoreutils and selinux-policy-default, or (with --root) copy the host's /etc/selinux and /var/lib/selinux into the root", sp.activeDir(), env.Host.Root))
	}
	if sp.local, err = readLocalRecords(env.Host.FS, sp.store); err != nil {
		return nil, engine.FromError(nil, "Cannot read the local SELinux settings", err)
	}
	sp.modulesBring(modChanges)
	for _, b := range cfg.Booleans {
		sp.planBoolean(b)
	}
	for _, f := range cfg.FContexts {
		sp.planFContext(f)
	}
	for _, pt := range cfg.Ports {
		sp.planPort(pt)
	}
	sp.planRemovals()
	if sp.diags.HasErrors() {
		return nil, sp.diags
	}
	return sp.changes, sp.diags
}

func (sp *settingsPlan) activeDir() string {
	return path.Join(host.PolicyStores, sp.store, "active")
}

// subsPath is where semanage keeps equivalences: in the policy's
// directory, not the store.
func subsPath(store string) string {
	return filecontexts.PolicyFile(store) + ".subs"
}

// readLocalRecords reads the four small files that hold the local
// customizations: the whole of the no-change path, no command run.
func readLocalRecords(fsys host.FS, store string) (*localRecords, error) {
	l := newLocalRecords()
	active := path.Join(host.PolicyStores, store, "active")
	for _, f := range []struct {
		name  string
		parse func([]byte) error
	}{
		{path.Join(active, booleansLocal), func(d []byte) error { return parseBooleansLocal(d, l.Booleans) }},
		{path.Join(active, portsLocal), func(d []byte) error { return parsePortsLocal(d, l.Ports) }},
		{path.Join(active, fcLocal), func(d []byte) error { return parseFContextsLocal(d, l.FContexts) }},
		{subsPath(store), func(d []byte) error { return parseSubs(d, l.FContexts) }},
	} {
		data, err := fsys.ReadFile(f.name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := f.parse(data); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return l, nil
}

var cilBoolRe = lazyre.New(`(?m)^\s*\(boolean\s+([^\s()]+)\s+(true|false)\s*\)`)

// modulesBring records the types and booleans the configuration's modules
// declare, and which modules change in this apply.
func (sp *settingsPlan) modulesBring(changes []*engine.Change) {
	sp.modTypes, sp.modBools = map[string]string{}, map[string]string{}
	sp.modBoolDefault, sp.pendingMod = map[string]bool{}, map[string]bool{}
	for t, id := range sp.p.typeOwners {
		sp.modTypes[t] = id
	}
	for _, c := range changes {
		pl, _ := c.Data.(*planned)
		if pl == nil || pl.module == nil {
			continue
		}
		sp.pendingMod[c.ID] = c.Pending()
		for _, t := range pl.types {
			sp.modTypes[t] = c.ID
		}
		if pl.comp != nil {
			for _, m := range cilBoolRe.FindAllSubmatch(pl.comp.cil, -1) {
				sp.modBools[string(m[1])] = c.ID
				sp.modBoolDefault[string(m[1])] = string(m[2]) == "true"
			}
		}
	}
}

// policy reads the store's kernel policy, once, for the settings that
// change: validating them needs its booleans, types, attributes and ports.
func (sp *settingsPlan) policy() (*policydb.Policy, error) {
	if !sp.polRead {
		sp.polRead = true
		file := path.Join(sp.activeDir(), "policy.kern")
		data, err := sp.env.Host.FS.ReadFile(file)
		if err == nil {
			sp.pol, err = policydb.Parse(data)
		}
		if err != nil {
			sp.polErr = fmt.Errorf("read the store's policy %s: %w", file, err)
		} else {
			sp.mls = sp.pol.Header().MLS
		}
	}
	return sp.pol, sp.polErr
}

// uses says where a name a setting uses comes from: the policy as it is, or
// a module of the configuration (pending: committed in this apply). ok is
// false when neither has it.
func (sp *settingsPlan) uses(name string, inPolicy bool, owners map[string]string) (afterModules, ok bool) {
	if inPolicy {
		return false, true
	}
	if id, found := owners[name]; found {
		return sp.pendingMod[id], true
	}
	return false, false
}

func onOff(v bool) string { return map[bool]string{true: "on", false: "off"}[v] }

func (sp *settingsPlan) add(c *engine.Change) { sp.changes = append(sp.changes, c) }

func (sp *settingsPlan) errorf(rng hcl.Range, summary, format string, args ...any) {
	sp.diags = append(sp.diags, engine.Errorf(&rng, summary, format, args...))
}

// runningBool reads a boolean's running value from selinuxfs (online).
func (sp *settingsPlan) runningBool(name string) (value, ok bool) {
	if sp.env.Host.Offline() {
		return false, false
	}
	data, err := sp.env.Host.FS.ReadFile(path.Join(host.SELinuxFS, "booleans", name))
	if err != nil || len(data) == 0 {
		return false, false
	}
	return data[0] == '1', true
}

func (sp *settingsPlan) planBoolean(b *config.Boolean) {
	c := &engine.Change{ID: b.ID(), Range: b.DeclRange, Action: engine.NoOp, After: []byte(b.Name + " = " + onOff(b.Value) + "\n")}
	cur, hasLocal := sp.local.Booleans[b.Name]
	own := sp.own.Booleans[b.Name]
	if hasLocal && cur == b.Value {
		c.Before = c.After
		if run, ok := sp.runningBool(b.Name); ok && run != b.Value {
			// Persistent as wanted, running not (setsebool without -P).
			c.Action, c.Reason = engine.Update, fmt.Sprintf("running value %s, persistent %s: set the running value", onOff(run), onOff(b.Value))
			c.Data = &settingOp{running: map[string]bool{b.Name: b.Value}}
		}
		sp.add(c)
		return
	}
	pol, err := sp.policy()
	if err != nil {
		sp.errorf(b.DeclRange, "Cannot check SELinux booleans", "%v.", err)
		return
	}
	was, inPolicy := pol.Boolean(b.Name)
	after, ok := sp.uses(b.Name, inPolicy, sp.modBools)
	if !ok {
		sp.errorf(b.DeclRange, "Unknown SELinux boolean",
			"The policy in the store has no boolean %q and no selinux_module of this configuration declares one. Correct the name (seinfo -b lists them), or add the module that declares it.", b.Name)
		return
	}
	if !inPolicy {
		was = sp.modBoolDefault[b.Name]
	}
	if hasLocal {
		was = cur
	}
	c.Before = []byte(b.Name + " = " + onOff(was) + "\n")
	rec := &ownedBool{ID: b.ID(), Value: b.Value, Was: was}
	switch {
	case own != nil:
		rec.Before, rec.Was = own.Before, own.Was
		c.Action = engine.Update
		c.Reason = fmt.Sprintf("%s → %s (changed outside seconf)", onOff(was), onOff(b.Value))
		if !hasLocal {
			c.Reason = fmt.Sprintf("%s → %s (its local setting was removed outside seconf)", onOff(was), onOff(b.Value))
		}
	case hasLocal:
		v := cur
		rec.Before = &v
		c.Action, c.Reason = engine.Create, fmt.Sprintf("%s → %s (takes over the local setting; restored on removal)", onOff(was), onOff(b.Value))
	default:
		c.Action, c.Reason = engine.Create, fmt.Sprintf("%s → %s", onOff(was), onOff(b.Value))
		if was == b.Value {
			c.Reason = fmt.Sprintf("%s by the policy's default; pinned as a local setting", onOff(was))
		}
	}
	if after {
		c.Reason += "; after " + sp.modBools[b.Name]
		c.Needs = append(c.Needs, sp.modBools[b.Name])
	}
	name := b.Name
	c.Data = &settingOp{
		lines:        []string{fmt.Sprintf("boolean -m %s %s", map[bool]string{true: "-1", false: "-0"}[b.Value], name)},
		afterModules: after,
		claim:        func(s *settingsState) { setOwned(&s.Booleans, name, rec) },
		running:      map[string]bool{name: b.Value},
	}
	sp.add(c)
}

func setOwned[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

// fcDesc describes a file-context value for a person.
func fcDesc(k fcKey, v string) string {
	if k.FileType == "equal" {
		return fmt.Sprintf("%s labelled as %s\n", k.Path, v)
	}
	return fmt.Sprintf("%s (%s) %s\n", k.Path, k.FileType, v)
}

func (sp *settingsPlan) planFContext(f *config.FContext) {
	key, want := fcKey{f.Path, f.FileType}, f.Type
	if f.Equal != "" {
		key, want = fcKey{f.Path, "equal"}, f.Equal
	}
	c := &engine.Change{ID: f.ID(), Range: f.DeclRange, Action: engine.NoOp, After: []byte(fcDesc(key, want))}
	cur, hasLocal := sp.local.FContexts[key]
	own := sp.own.FContexts[key.String()]
	if hasLocal && cur == want {
		c.Before = c.After
		sp.add(c)
		return
	}
	after := false
	if f.Equal == "" {
		pol, err := sp.policy()
		if err != nil {
			sp.errorf(f.DeclRange, "Cannot check SELinux types", "%v.", err)
			return
		}
		var ok bool
		if after, ok = sp.uses(f.Type, pol.HasType(f.Type) && !pol.IsAttribute(f.Type), sp.modTypes); !ok {
			sp.errorf(f.AttrRange("type"), "Unknown SELinux type",
				"The policy in the store has no type %q and no selinux_module of this configuration declares one. Correct the name (seinfo -t lists them), or add the module that declares it.", f.Type)
			return
		}
		if !after && !hasAttr(pol, f.Type, "file_type", "device_node") {
			sp.errorf(f.AttrRange("type"), "Not a file type",
				"%q is a type of the policy, but not a file or device type (neither file_type nor device_node holds it): semanage refuses it as a file's label. Use a type declared with files_type() or similar.", f.Type)
			return
		}
		if !sp.checkFCConflicts(f, key) {
			return
		}
	} else if !sp.checkEquivalence(f) {
		return
	}
	c.Before = []byte("(none)\n")
	if hasLocal {
		c.Before = []byte(fcDesc(key, cur))
	}
	rec := &ownedSetting{ID: f.ID(), Path: key.Path, FileType: key.FileType, Value: want}
	what := "type " + want
	if f.Equal != "" {
		what = "labelled as " + want
	}
	switch {
	case own != nil:
		rec.Before = own.Before
		c.Action, c.Reason = engine.Update, fmt.Sprintf("%s → %s (changed outside seconf)", orNone(cur, hasLocal), what)
		if !hasLocal {
			c.Reason = fmt.Sprintf("%s (removed outside seconf)", what)
		}
	case hasLocal:
		rec.Before = cur
		c.Action, c.Reason = engine.Create, fmt.Sprintf("%s → %s (takes over the local rule; restored on removal)", cur, what)
	default:
		c.Action, c.Reason = engine.Create, what
	}
	if after {
		c.Reason += "; after " + sp.modTypes[f.Type]
		c.Needs = append(c.Needs, sp.modTypes[f.Type])
	}
	var lines []string
	if f.Equal != "" {
		if hasLocal {
			// semanage 3.4's fcontext -m -e adds, and fails on an
			// existing equivalence: delete it first, in the same commit.
			lines = append(lines, fmt.Sprintf("fcontext -d -e %s %s", cur, f.Path))
		}
		lines = append(lines, fmt.Sprintf("fcontext -a -e %s %s", f.Equal, f.Path))
	} else {
		verb := "-a"
		if hasLocal || sp.inPolicyFC(key) {
			verb = "-m" // a rule of that key exists: semanage -a would refuse it
		}
		lines = append(lines, fmt.Sprintf("fcontext %s -f %s -t %s %s", verb, fileTypeFields[key.FileType][1], f.Type, f.Path))
	}
	k := key.String()
	c.Data = &settingOp{
		lines:        lines,
		afterModules: after,
		claim:        func(s *settingsState) { setOwned(&s.FContexts, k, rec) },
		relabel:      []string{relabelExpr(key)},
	}
	sp.add(c)
}

// relabelExpr is the path expression whose files a changed rule relabels.
func relabelExpr(k fcKey) string {
	if k.FileType == "equal" {
		return equivalenceExpr(k.Path)
	}
	return k.Path
}

func orNone(v string, ok bool) string {
	if !ok {
		return "(none)"
	}
	return v
}

// hasAttr reports whether type t has one of attrs; a policy without any
// of those attributes (a minimal test policy) accepts every type.
func hasAttr(pol *policydb.Policy, t string, attrs ...string) bool {
	known := false
	for _, a := range attrs {
		known = known || pol.IsAttribute(a)
	}
	if !known {
		return true
	}
	for _, a := range pol.TypeAttributes(t) {
		for _, want := range attrs {
			if a == want {
				return true
			}
		}
	}
	return false
}

// checkFCConflicts refuses a rule that libselinux or semanage would refuse
// at commit: another local rule for the same expression whose file type
// overlaps (not one seconf owns and drops in this apply), or a rule under
// an equivalence's path.
func (sp *settingsPlan) checkFCConflicts(f *config.FContext, key fcKey) bool {
	for k, v := range sp.local.FContexts {
		if k == key || k.Path != key.Path || k.FileType == "equal" {
			continue
		}
		if k.FileType != "all" && key.FileType != "all" {
			continue
		}
		if o := sp.own.FContexts[k.String()]; o != nil && !sp.wanted(k) {
			continue // seconf's own, removed in this apply
		}
		sp.errorf(f.AttrRange("file_type"), "Conflicting local file context",
			"file_contexts.local already has %q for file type %s (type %s), which overlaps file type %s: libselinux refuses two labels for one path. "+
				"Give this block file_type = %q to take that rule over, or remove it (semanage fcontext -d -f %s '%s').",
			k.Path, k.FileType, v, key.FileType, k.FileType, fileTypeFields[k.FileType][1], k.Path)
		return false
	}
	for _, m := range []map[fcKey]string{sp.local.FContexts, sp.subsDist()} {
		for k, to := range m {
			if k.FileType == "equal" && strings.HasPrefix(f.Path, k.Path+"/") && !sp.ownedDropped(k) {
				sp.errorf(f.AttrRange("path"), "File context under an equivalence",
					"Paths under %s are labelled as under %s (an equivalence on this host), so a rule for %q would never apply and semanage refuses it. Write it for %q instead.",
					k.Path, to, f.Path, to+strings.TrimPrefix(f.Path, k.Path))
				return false
			}
		}
	}
	return true
}

// checkEquivalence refuses what semanage fcontext -a -e refuses: a path
// under another equivalence's path, or one with an equivalence under it.
func (sp *settingsPlan) checkEquivalence(f *config.FContext) bool {
	for _, m := range []map[fcKey]string{sp.local.FContexts, sp.subsDist()} {
		for k, to := range m {
			if k.FileType != "equal" || k.Path == f.Path || sp.ownedDropped(k) {
				continue
			}
			if strings.HasPrefix(f.Path, k.Path+"/") || strings.HasPrefix(k.Path, f.Path+"/") {
				sp.errorf(f.AttrRange("path"), "Conflicting equivalence",
					"%s is already labelled as %s on this host, and equivalences cannot nest: semanage refuses %q. Remove one of them.", k.Path, to, f.Path)
				return false
			}
		}
	}
	return true
}

// ownedDropped reports whether a local record is seconf's and leaves in
// this apply.
func (sp *settingsPlan) ownedDropped(k fcKey) bool {
	return sp.own.FContexts[k.String()] != nil && !sp.wanted(k)
}

func (sp *settingsPlan) wanted(k fcKey) bool {
	for _, f := range sp.env.Config.FContexts {
		if (f.Equal != "" && k == fcKey{f.Path, "equal"}) || (f.Equal == "" && k == fcKey{f.Path, f.FileType}) {
			return true
		}
	}
	return false
}

// subsDist reads the distribution's equivalences (once).
func (sp *settingsPlan) subsDist() map[fcKey]string {
	if sp.dist == nil {
		sp.dist = map[fcKey]string{}
		if data, err := sp.env.Host.FS.ReadFile(filecontexts.PolicyFile(sp.store) + ".subs_dist"); err == nil {
			parseSubs(data, sp.dist)
		}
	}
	return sp.dist
}

// inPolicyFC reports whether the policy's own file_contexts has a rule of
// this key: semanage then takes -m (a local override), not -a.
func (sp *settingsPlan) inPolicyFC(key fcKey) bool {
	if sp.fcPolicy == nil {
		sp.fcPolicy = map[fcKey]bool{}
		if data, err := sp.env.Host.FS.ReadFile(path.Join(sp.activeDir(), "file_contexts")); err == nil {
			m := map[fcKey]string{}
			eachLine(data, func(_ int, line string) error {
				f := asciiFields(line)
				if len(f) == 3 {
					if ft, ok := fileTypeOfField(f[1]); ok {
						m[fcKey{f[0], ft}] = f[2]
					}
				} else if len(f) == 2 {
					m[fcKey{f[0], "all"}] = f[1]
				}
				return nil
			})
			for k := range m {
				sp.fcPolicy[k] = true
			}
		}
	}
	return sp.fcPolicy[key]
}

func portDesc(k portKey, t string) string { return k.String() + " " + t + "\n" }

func (sp *settingsPlan) planPort(pt *config.Port) {
	key := portKey{pt.Protocol, pt.Low, pt.High}
	c := &engine.Change{ID: pt.ID(), Range: pt.DeclRange, Action: engine.NoOp, After: []byte(portDesc(key, pt.Type))}
	cur, hasLocal := sp.local.Ports[key]
	own := sp.own.Ports[key.String()]
	if hasLocal && cur == pt.Type {
		c.Before = c.After
		sp.add(c)
		return
	}
	pol, err := sp.policy()
	if err != nil {
		sp.errorf(pt.DeclRange, "Cannot check SELinux ports", "%v.", err)
		return
	}
	after, ok := sp.uses(pt.Type, pol.HasType(pt.Type) && !pol.IsAttribute(pt.Type), sp.modTypes)
	if !ok {
		sp.errorf(pt.AttrRange("type"), "Unknown SELinux type",
			"The policy in the store has no type %q and no selinux_module of this configuration declares one. Correct the name (seinfo -t lists them), or add the module that declares it.", pt.Type)
		return
	}
	if !after && !hasAttr(pol, pt.Type, "port_type") {
		sp.errorf(pt.AttrRange("type"), "Not a port type",
			"%q is a type of the policy, but not a port type (port_type does not hold it): semanage refuses it for a port. Use a type declared with corenet_port() or similar.", pt.Type)
		return
	}
	// The policy's own definitions: portcons of the kernel policy that no
	// local record made.
	policyType := ""
	for _, pc := range pol.PortCons() {
		if pc.Protocol != pt.Protocol {
			continue
		}
		if _, local := sp.local.Ports[portKey{pc.Protocol, pc.Low, pc.High}]; local {
			continue
		}
		switch {
		case pc.Low == pt.Low && pc.High == pt.High:
			policyType = pc.Context.Type
		case pc.Low >= pt.Low && pc.High <= pt.High && (pc.Low != pt.Low || pc.High != pt.High) && pc.Context.Type != pt.Type:
			rng := pt.AttrRange("port")
			sp.diags = append(sp.diags, engine.Warnf(&rng, "Part of the range keeps its type",
				"The policy defines %s/%s as %s; a narrower definition wins, so those ports stay %s.",
				pc.Protocol, config.PortRange(pc.Low, pc.High), pc.Context.Type, pc.Context.Type))
		}
	}
	if !hasLocal && policyType != "" && policyType != pt.Type {
		sp.errorf(pt.AttrRange("port"), "Port already defined by the policy",
			"The policy defines %s as %s. seconf does not retype a port the policy itself defines (every service the policy allows on %s would lose it); choose another port, or use %s.",
			key, policyType, policyType, policyType)
		return
	}
	c.Before = []byte("(none)\n")
	if hasLocal {
		c.Before = []byte(portDesc(key, cur))
	} else if policyType != "" {
		c.Before = []byte(portDesc(key, policyType))
	}
	rec := &ownedSetting{ID: pt.ID(), Proto: key.Proto, Low: key.Low, High: key.High, Value: pt.Type}
	switch {
	case own != nil:
		rec.Before = own.Before
		c.Action, c.Reason = engine.Update, fmt.Sprintf("%s → %s (changed outside seconf)", orNone(cur, hasLocal), pt.Type)
		if !hasLocal {
			c.Reason = fmt.Sprintf("type %s (removed outside seconf)", pt.Type)
		}
	case hasLocal:
		rec.Before = cur
		c.Action, c.Reason = engine.Create, fmt.Sprintf("%s → %s (takes over the local record; restored on removal)", cur, pt.Type)
	case policyType != "":
		c.Action, c.Reason = engine.Create, fmt.Sprintf("%s by the policy; pinned as a local record", pt.Type)
	default:
		c.Action, c.Reason = engine.Create, "type "+pt.Type
	}
	if after {
		c.Reason += "; after " + sp.modTypes[pt.Type]
		c.Needs = append(c.Needs, sp.modTypes[pt.Type])
	}
	verb := "-a"
	if hasLocal || policyType != "" {
		verb = "-m"
	}
	k := key.String()
	c.Data = &settingOp{
		lines:        []string{fmt.Sprintf("port %s -t %s -p %s %s", verb, pt.Type, pt.Protocol, pt.Range())},
		afterModules: after,
		claim:        func(s *settingsState) { setOwned(&s.Ports, k, rec) },
	}
	sp.add(c)
}

// planRemovals restores what seconf set and the configuration no longer
// asks for, when the host still holds what seconf set; anything changed
// since is someone else's now, and is left as it is (forget).
func (sp *settingsPlan) planRemovals() {
	cfg := sp.env.Config
	wantB := map[string]bool{}
	for _, b := range cfg.Booleans {
		wantB[b.Name] = true
	}
	for _, name := range sortedKeys(sp.own.Booleans) {
		if wantB[name] {
			continue
		}
		o := sp.own.Booleans[name]
		c := &engine.Change{ID: config.KindBoolean + "." + name, Action: engine.Delete}
		cur, hasLocal := sp.local.Booleans[name]
		drop := func(s *settingsState) { delete(s.Booleans, name) }
		target := o.Was
		if o.Before != nil {
			target = *o.Before
		}
		switch {
		case !hasLocal || cur != o.Value:
			c.Action, c.Reason = engine.Forget, "changed outside seconf since; left as it is"
			c.Data = &settingOp{record: drop}
		case target == o.Value:
			c.Action, c.Reason = engine.Forget, fmt.Sprintf("was %s before seconf too; left as it is", onOff(target))
			c.Data = &settingOp{record: drop}
		default:
			c.Reason = fmt.Sprintf("not in config: back to %s, its value before seconf", onOff(target))
			c.Before, c.After = []byte(name+" = "+onOff(cur)+"\n"), []byte(name+" = "+onOff(target)+"\n")
			c.Data = &settingOp{
				lines:   []string{fmt.Sprintf("boolean -m %s %s", map[bool]string{true: "-1", false: "-0"}[target], name)},
				record:  drop,
				running: map[string]bool{name: target},
			}
		}
		sp.add(c)
	}
	wantF := map[string]bool{}
	for _, f := range cfg.FContexts {
		k := fcKey{f.Path, f.FileType}
		if f.Equal != "" {
			k = fcKey{f.Path, "equal"}
		}
		wantF[k.String()] = true
	}
	for _, ks := range sortedKeys(sp.own.FContexts) {
		if wantF[ks] {
			continue
		}
		o := sp.own.FContexts[ks]
		key := o.fcKey()
		c := &engine.Change{ID: o.ID, Action: engine.Delete}
		cur, hasLocal := sp.local.FContexts[key]
		drop := func(s *settingsState) { delete(s.FContexts, ks) }
		if !hasLocal || cur != o.Value {
			c.Action, c.Reason = engine.Forget, "changed outside seconf since; left as it is"
			c.Data = &settingOp{record: drop}
			sp.add(c)
			continue
		}
		var lines []string
		switch {
		case key.FileType == "equal":
			lines = append(lines, fmt.Sprintf("fcontext -d -e %s %s", cur, key.Path))
			if o.Before != "" {
				lines = append(lines, fmt.Sprintf("fcontext -a -e %s %s", o.Before, key.Path))
			}
		case o.Before != "":
			lines = append(lines, fmt.Sprintf("fcontext -m -f %s -t %s %s", fileTypeFields[key.FileType][1], o.Before, key.Path))
		default:
			lines = append(lines, fmt.Sprintf("fcontext -d -f %s %s", fileTypeFields[key.FileType][1], key.Path))
		}
		c.Reason = "not in config: remove the rule"
		c.Before, c.After = []byte(fcDesc(key, cur)), []byte("(none)\n")
		if o.Before != "" {
			c.Reason = "not in config: back to " + o.Before + ", the local rule before seconf"
			c.After = []byte(fcDesc(key, o.Before))
		}
		c.Data = &settingOp{lines: lines, record: drop, relabel: []string{relabelExpr(key)}}
		sp.add(c)
	}
	wantP := map[string]bool{}
	for _, pt := range cfg.Ports {
		wantP[portKey{pt.Protocol, pt.Low, pt.High}.String()] = true
	}
	for _, ks := range sortedKeys(sp.own.Ports) {
		if wantP[ks] {
			continue
		}
		o := sp.own.Ports[ks]
		key := o.portKey()
		c := &engine.Change{ID: o.ID, Action: engine.Delete}
		cur, hasLocal := sp.local.Ports[key]
		drop := func(s *settingsState) { delete(s.Ports, ks) }
		rng := config.PortRange(key.Low, key.High)
		switch {
		case !hasLocal || cur != o.Value:
			c.Action, c.Reason = engine.Forget, "changed outside seconf since; left as it is"
			c.Data = &settingOp{record: drop}
		case o.Before != "":
			c.Reason = "not in config: back to " + o.Before + ", the local record before seconf"
			c.Before, c.After = []byte(portDesc(key, cur)), []byte(portDesc(key, o.Before))
			c.Data = &settingOp{lines: []string{fmt.Sprintf("port -m -t %s -p %s %s", o.Before, key.Proto, rng)}, record: drop}
		default:
			c.Reason = "not in config: remove the record"
			c.Before, c.After = []byte(portDesc(key, cur)), []byte("(none)\n")
			c.Data = &settingOp{lines: []string{fmt.Sprintf("port -d -p %s %s", key.Proto, rng)}, record: drop}
		}
		sp.add(c)
	}
}

// settingOps returns the settings' payloads among changes, pending only.
func settingOps(changes []*engine.Change) []*settingOp {
	var out []*settingOp
	for _, c := range changes {
		if op, ok := c.Data.(*settingOp); ok && c.Pending() {
			out = append(out, op)
		}
	}
	return out
}

// hasSettings reports whether changes hold a pending setting: the policy
// step must run even without a module operation.
func hasSettings(changes []*engine.Change) bool { return len(settingOps(changes)) > 0 }

// importLines orders the settings' lines for one semanage import:
// removals and restorations first (a rule seconf drops may overlap one it
// adds), then the rest, each group in plan order.
func importLines(changes []*engine.Change) []string {
	var first, rest []string
	for _, c := range changes {
		op, ok := c.Data.(*settingOp)
		if !ok || !c.Pending() {
			continue
		}
		if c.Action == engine.Delete {
			first = append(first, op.lines...)
		} else {
			rest = append(rest, op.lines...)
		}
	}
	return append(first, rest...)
}

// sortedSettingIDs is for messages.
func sortedSettingIDs(changes []*engine.Change) []string {
	var ids []string
	for _, c := range changes {
		if _, ok := c.Data.(*settingOp); ok && c.Pending() {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}
