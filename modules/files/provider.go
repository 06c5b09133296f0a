package files

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

// Section is the state record section of files and directories.
const Section = "files"

// Provider writes file blocks and manages directory blocks.
type Provider struct{}

// New returns the files provider.
func New() *Provider { return &Provider{} }

// Name is the provider's name and state section.
func (*Provider) Name() string { return Section }

// Record is what the state record keeps of a file or directory seconf
// manages, by resource ID.
type Record struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir,omitempty"`
	// Sum is the sha256 of the content seconf wrote (a keyed hash,
	// "hmac-sha256:...", for sensitive content): a file is only removed or
	// restored while it still holds that, and one that no longer does was
	// changed by hand.
	Sum string `json:"sum,omitempty"`
	// Created: nothing was there before seconf; removal deletes it.
	Created bool `json:"created,omitempty"`
	// Original is what a take-over replaced, put back on removal.
	Original *Original `json:"original,omitempty"`
}

// Original is a file or directory as it was before seconf took it over.
type Original struct {
	// Kept is where the file's bytes are kept (under host.OriginalsDir),
	// and KeptSum their sha256; none for a directory.
	Kept    string `json:"kept,omitempty"`
	KeptSum string `json:"kept_sum,omitempty"`
	Mode    uint32 `json:"mode"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
	Label   string `json:"label,omitempty"`
}

// Records reads the files section of a state record.
func Records(st *engine.State) (map[string]Record, error) {
	recs := map[string]Record{}
	err := st.Section(Section, &recs)
	return recs, err
}

// item is a file or directory block with its owner resolved.
type item struct {
	id        string
	rng       hcl.Range
	block     *config.Block
	path      string
	dir       bool
	content   []byte
	sensitive bool
	attrs     host.Attrs
	takeOver  bool
	typ       string
}

// change is the payload of a files change.
type change struct {
	it  *item
	rec Record // the record once applied (for a gone record: as it was)
	// prevID is a record of another ID for the same path (a renamed
	// block), which this change takes.
	prevID string
	// stale is the record's earlier path when the block's path changed.
	stale    *Record
	existed  bool // the path existed at plan time
	takeOver bool // keep the original before writing
	write    bool // write the content (file) or make the directory
	attrs    bool // set owner, mode and label
	// For a record whose block left: restore the original, or remove.
	gone    bool
	restore bool
	remove  bool
}

// Validate has nothing to add to config's checks, which need no host.
func (*Provider) Validate(*config.Config) hcl.Diagnostics { return nil }

// Plan compares every file and directory block with the host, and plans the
// removal of recorded ones that left the configuration.
func (p *Provider) Plan(_ context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	cfg, h := env.Config, env.Host
	recs, err := Records(env.State)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	if len(cfg.Files)+len(cfg.Directories) == 0 && len(recs) == 0 {
		return nil, nil
	}
	var diags hcl.Diagnostics
	var items []*item
	if len(cfg.Files)+len(cfg.Directories) > 0 {
		acc, err := readAccounts(h)
		if err != nil {
			return nil, engine.FromError(nil, "Cannot read the root's accounts", err)
		}
		add := func(b *config.Block, p string, dir bool, at config.Attrs, takeOver bool) *item {
			uid, gid, attr, err := acc.owner(at.Owner, at.Group)
			if err != nil {
				rng := b.AttrRange(attr)
				diags = append(diags, engine.Errorf(&rng, "Unknown "+attr, "%s: %v.", b.ID(), err))
				return nil
			}
			perm := fs.FileMode(at.Mode & 0o777)
			if at.Mode&0o1000 != 0 {
				perm |= fs.ModeSticky
			}
			it := &item{id: b.ID(), rng: b.DeclRange, block: b, path: p, dir: dir, takeOver: takeOver, typ: at.SELinuxType,
				attrs: host.Attrs{Perm: perm, UID: uid, GID: gid}}
			items = append(items, it)
			return it
		}
		for _, d := range cfg.Directories {
			add(&d.Block, d.Path, true, d.Attrs, d.TakeOver)
		}
		for _, f := range cfg.Files {
			if it := add(&f.Block, f.Path, false, f.Attrs, f.TakeOver); it != nil {
				it.content, it.sensitive = f.Content, f.Sensitive
			}
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	key, err := h.HashKey(false)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read seconf's hash key", err)
	}
	pl := &planner{env: env, recs: recs, key: key, lab: newLabeller(h, cfg), wanted: map[string]bool{}, taken: map[string]bool{}}
	for _, it := range items {
		pl.wanted[it.id] = true
	}
	byPath := map[string]string{}
	for _, id := range sortedIDs(recs) {
		if _, dup := byPath[recs[id].Path]; !dup {
			byPath[recs[id].Path] = id
		}
	}
	var changes []*engine.Change
	for _, it := range items {
		c, d := pl.planItem(it, byPath)
		diags = append(diags, d...)
		if c != nil {
			changes = append(changes, c)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var gone []string
	for _, id := range sortedIDs(recs) {
		if !pl.wanted[id] && !pl.taken[id] {
			gone = append(gone, id)
		}
	}
	// Files before directories, deepest first: a directory seconf made is
	// empty once seconf's files in it are gone.
	sort.SliceStable(gone, func(i, j int) bool {
		a, b := recs[gone[i]], recs[gone[j]]
		if a.Dir != b.Dir {
			return !a.Dir
		}
		return strings.Count(a.Path, "/") > strings.Count(b.Path, "/")
	})
	leaving := map[string]bool{}
	for _, id := range gone {
		c := pl.planGone(id, recs[id], leaving)
		if cg := c.Data.(*change); cg.remove {
			leaving[recs[id].Path] = true
		}
		changes = append(changes, c)
	}
	return changes, diags
}

type planner struct {
	env    *engine.Env
	recs   map[string]Record
	key    []byte
	lab    *labeller
	wanted map[string]bool // IDs of blocks in the configuration
	taken  map[string]bool // IDs of records a renamed block takes over
}

// sum is what the record keeps of content: sha256, or a keyed hash of
// sensitive content ("" without a key yet: compares unequal).
func (pl *planner) sum(data []byte, sensitive bool) string {
	if sensitive {
		return host.KeyedSum(pl.key, data)
	}
	return sha(data)
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// sameSum compares content with a recorded sum of either kind.
func (pl *planner) sameSum(data []byte, recorded string) bool {
	if strings.HasPrefix(recorded, "hmac-sha256:") {
		return pl.key != nil && host.KeyedSum(pl.key, data) == recorded
	}
	return recorded != "" && sha(data) == recorded
}

func kindWord(dir bool) string {
	if dir {
		return "directory"
	}
	return "file"
}

// provides are the keys a change to p offers: p and every directory above
// it (a container that mounts /etc/app restarts when /etc/app/app.conf
// changes), and its file context when it has an SELinux type.
func provides(it *item) []string {
	var keys []string
	for d := it.path; d != "/"; d = path.Dir(d) {
		keys = append(keys, config.PathKey(d))
	}
	if it.typ != "" {
		keys = append(keys, config.FileContextKey(it.path))
	}
	return keys
}

// checkPath refuses a path that leads, through a symlink on its way, into a
// tree seconf does not write, or that is itself a symlink.
func checkPath(h *host.Host, p string) error {
	real, err := h.FS.Resolve(p)
	if err != nil {
		return err
	}
	if in, err := h.FS.Lstat(p); err == nil && in.Mode&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link (to %s); seconf writes files and directories, not through links: point path at the target, or remove the link", p, real)
	}
	if real != p {
		if why, bad := config.WriteRefused(real); bad {
			return fmt.Errorf("%s leads through a symbolic link to %s, and %s", p, real, why)
		}
	}
	return nil
}

func (pl *planner) planItem(it *item, byPath map[string]string) (*engine.Change, hcl.Diagnostics) {
	h := pl.env.Host
	rng := it.block.AttrRange("path")
	fail := func(format string, args ...any) (*engine.Change, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{engine.Errorf(&rng, "Cannot manage "+it.id, format, args...)}
	}
	if err := checkPath(h, it.path); err != nil {
		return fail("%v.", err)
	}
	c := &engine.Change{ID: it.id, Range: it.rng, Action: engine.NoOp, Provides: provides(it), Sensitive: it.sensitive}
	ch := &change{it: it}
	c.Data = ch
	var diags hcl.Diagnostics

	var rec *Record
	if r, ok := pl.recs[it.id]; ok && r.Path == it.path && r.Dir == it.dir {
		rec = &r
	} else if ok {
		ch.stale = &r
	}
	if id, ok := byPath[it.path]; rec == nil && ok && !pl.wanted[id] && pl.recs[id].Dir == it.dir {
		// A renamed block: the file is the same, and so is its owner.
		r := pl.recs[id]
		rec, ch.prevID = &r, id
		pl.taken[id] = true
	}
	if rec != nil {
		ch.rec = *rec
	}

	info, err := h.FS.Lstat(it.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fail("%v.", err)
	case it.dir && !info.Mode.IsDir(), !it.dir && !info.Mode.IsRegular():
		return fail("%s exists and is not a %s (%v); seconf will not replace it. Move it away, or correct path.", it.path, kindWord(it.dir), info.Mode.Type())
	default:
		ch.existed = true
	}

	var reasons []string
	var cur []byte
	switch {
	case !ch.existed:
		ch.write, ch.attrs = true, true
		if rec == nil {
			ch.rec = Record{Path: it.path, Dir: it.dir, Created: true}
			c.Action, c.Reason = engine.Create, "new "+kindWord(it.dir)
		} else {
			c.Action, c.Reason = engine.Create, "deleted on the host since seconf wrote it (drift): apply makes it again"
		}
	case rec == nil && !it.takeOver:
		return fail("%s exists and seconf did not write it; seconf will not overwrite or change what it does not own. Set take_over = true to let seconf manage it: the original is kept and put back when the block goes.", it.path)
	case rec == nil:
		ch.takeOver = true
		orig := &Original{Mode: uint32(info.Mode.Perm()), UID: info.UID, GID: info.GID}
		if info.Mode&fs.ModeSticky != 0 {
			orig.Mode |= 0o1000
		}
		orig.Label, _ = h.FS.Label(it.path)
		if !it.dir {
			orig.Kept = path.Join(host.OriginalsDir, sha([]byte(it.path)))
		}
		ch.rec = Record{Path: it.path, Dir: it.dir, Original: orig}
		reasons = append(reasons, "take over the "+kindWord(it.dir)+" seconf did not write (the original is kept and put back when the block goes)")
	}
	if !it.dir {
		if ch.existed {
			if cur, err = h.FS.ReadFile(it.path); err != nil {
				return fail("%v.", err)
			}
		}
		if !bytes.Equal(cur, it.content) {
			ch.write = true
			if ch.existed {
				if rec != nil && !pl.sameSum(cur, rec.Sum) {
					reasons = append(reasons, "changed on the host since seconf wrote it (drift): apply puts back the configured content")
				} else {
					reasons = append(reasons, "content differs")
				}
			}
			if !it.sensitive {
				c.Before, c.After = cur, it.content
			}
		}
		if ch.takeOver {
			ch.rec.Original.KeptSum = sha(cur)
		}
	}

	// The label, when the block asks for a type.
	if it.typ != "" {
		want, kept, policy := pl.lab.label(it.path, it.dir, it.typ)
		it.attrs.Label = want
		if !kept && pl.env.Advise {
			trng := it.block.AttrRange("selinux_type")
			gives := "no label"
			if policy != "" {
				gives = policy
			}
			diags = append(diags, engine.Warnf(&trng, "A relabel would not keep this type",
				"%s: seconf labels %s %s itself, but the policy's file contexts give it %s, which restorecon or an autorelabel would put back. Until seconf writes file contexts for file and directory blocks, add %s.",
				it.id, it.path, it.typ, gives, fcontextAdvice(it.path, it.dir, it.typ)))
		}
		if want == "" && pl.env.Advise {
			trng := it.block.AttrRange("selinux_type")
			diags = append(diags, engine.Warnf(&trng, "Not labelled",
				"%s: the tree at %s carries no SELinux labels (a root never labelled, or SELinux off), so seconf sets none; a relabel gives it what the file contexts say.", it.id, it.path))
		}
	}
	if ch.existed {
		have := info.Mode.Perm() | (info.Mode & fs.ModeSticky)
		if have != it.attrs.Perm {
			reasons = append(reasons, fmt.Sprintf("mode %04o, want %04o", modeBits(have), modeBits(it.attrs.Perm)))
		}
		if info.UID != it.attrs.UID || info.GID != it.attrs.GID {
			reasons = append(reasons, fmt.Sprintf("owner %d:%d, want %d:%d", info.UID, info.GID, it.attrs.UID, it.attrs.GID))
		}
		if it.attrs.Label != "" {
			if l, _ := h.FS.Label(it.path); l != it.attrs.Label {
				reasons = append(reasons, fmt.Sprintf("label %s, want %s", orNone(l), it.attrs.Label))
			}
		}
		if len(reasons) > 0 {
			ch.attrs = true
		}
	}
	if ch.stale != nil {
		reasons = append(reasons, "path was "+ch.stale.Path)
	}
	if c.Action == engine.NoOp && (len(reasons) > 0 || ch.write) {
		c.Action = engine.Update
		c.Reason = strings.Join(reasons, "; ")
	}
	if ch.prevID != "" && c.Action == engine.NoOp {
		// Only the record moves: no change to the host, but the record must.
		c.Action, c.Reason = engine.Update, "was "+ch.prevID
	}
	if !it.dir {
		ch.rec.Sum = pl.sum(it.content, it.sensitive)
	}
	return c, diags
}

func modeBits(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// judge checks a recorded path before seconf removes or restores anything
// there: a record that names a refused tree, or a path that became a
// symlink, is no longer seconf's to touch.
func judge(h *host.Host, r Record) error {
	if !path.IsAbs(r.Path) || path.Clean(r.Path) != r.Path {
		return fmt.Errorf("not a clean absolute path")
	}
	if why, bad := config.WriteRefused(r.Path); bad {
		return errors.New(why)
	}
	return checkPath(h, r.Path)
}

// planGone plans what happens to a file or directory whose block left the
// configuration: seconf's own is removed, a taken-over one is put back as
// it was; anything changed since, or not seconf's, is forgotten.
func (pl *planner) planGone(id string, r Record, leaving map[string]bool) *engine.Change {
	h := pl.env.Host
	c := &engine.Change{ID: id, Action: engine.Delete, Reason: "not in config"}
	ch := &change{rec: r, gone: true}
	c.Data = ch
	forget := func(why string) *engine.Change {
		c.Action, c.Reason = engine.Forget, "not in config; left in place: "+why
		if r.Original != nil && r.Original.Kept != "" {
			c.Reason += " (the original seconf replaced is kept at " + r.Original.Kept + ")"
		}
		return c
	}
	if err := judge(h, r); err != nil {
		return forget(r.Path + ": " + err.Error())
	}
	info, err := h.FS.Lstat(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Reason = "not in config; already gone from the host"
		return c
	case err != nil:
		return forget(err.Error())
	case r.Dir && !info.Mode.IsDir(), !r.Dir && !info.Mode.IsRegular():
		return forget(r.Path + " is no longer a " + kindWord(r.Dir))
	}
	if !r.Dir {
		cur, err := h.FS.ReadFile(r.Path)
		if err != nil {
			return forget(err.Error())
		}
		if !pl.sameSum(cur, r.Sum) {
			return forget(r.Path + " changed since seconf wrote it")
		}
		if !strings.HasPrefix(r.Sum, "hmac-sha256:") {
			c.Before = cur
		} else {
			c.Sensitive = true
		}
	}
	switch {
	case r.Original != nil:
		if r.Original.Kept != "" {
			kept, err := h.FS.ReadFile(r.Original.Kept)
			if err != nil || sha(kept) != r.Original.KeptSum {
				return forget("the original seconf kept is missing or changed at " + r.Original.Kept)
			}
			c.After = kept
		}
		ch.restore = true
		c.Reason = "not in config: the " + kindWord(r.Dir) + " as it was before seconf took it over is put back"
	case !r.Created:
		return forget("seconf did not create it")
	case r.Dir:
		ents, err := h.FS.ReadDir(r.Path)
		if err != nil {
			return forget(err.Error())
		}
		for _, e := range ents {
			if !leaving[path.Join(r.Path, e.Name())] {
				return forget(r.Path + " holds files seconf did not write")
			}
		}
		ch.remove = true
	default:
		ch.remove = true
	}
	return c
}

func sortedIDs(recs map[string]Record) []string {
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
