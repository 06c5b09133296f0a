package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"seconf/engine"
	"seconf/host"
)

// Apply writes files and directories, and removes or restores those whose
// blocks left. Directories are made before the files in them and removed
// after; every write is atomic, with owner, mode and label set before the
// file appears.
func (p *Provider) Apply(_ context.Context, env *engine.Env, changes []*engine.Change) error {
	h := env.Host
	recs, err := Records(env.State)
	if err != nil {
		return err
	}
	save := func() error { return env.State.SetSection(Section, recs) }
	pl := &planner{env: env}
	for _, c := range changes {
		if ch := c.Data.(*change); ch.it != nil && ch.it.sensitive {
			if pl.key, err = h.HashKey(true); err != nil {
				return err
			}
			break
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return order(changes[i]) < order(changes[j]) })

	// Keep the originals, then claim: a kill after a write must leave what
	// was written owned, and what was replaced kept.
	for _, c := range changes {
		ch := c.Data.(*change)
		if ch.gone {
			continue
		}
		if ch.takeOver && ch.rec.Original.Kept != "" {
			cur, err := h.FS.ReadFile(ch.it.path)
			if err != nil {
				return fmt.Errorf("%s: keep the original: %w", c.ID, err)
			}
			if sha(cur) != ch.rec.Original.KeptSum {
				return fmt.Errorf("%s: %s changed since the plan; run apply again", c.ID, ch.it.path)
			}
			if err := h.FS.WriteFile(ch.rec.Original.Kept, cur, 0o600); err != nil {
				return fmt.Errorf("%s: keep the original: %w", c.ID, err)
			}
		}
		if !ch.it.dir {
			ch.rec.Sum = pl.sum(ch.it.content, ch.it.sensitive)
		}
		recs[c.ID] = ch.rec
		if ch.prevID != "" {
			delete(recs, ch.prevID)
		}
	}
	if err := save(); err != nil {
		return err
	}
	if err := env.Claim(); err != nil {
		return err
	}

	for _, c := range changes {
		ch := c.Data.(*change)
		var err error
		if ch.gone {
			err = p.applyGone(h, ch)
			if err == nil {
				delete(recs, c.ID)
			}
		} else {
			err = p.applyItem(h, ch)
		}
		if err != nil {
			save()
			return fmt.Errorf("%s: %w", c.ID, err)
		}
	}
	return save()
}

// order: directories (shallowest first), then files; then what leaves.
func order(c *engine.Change) int {
	ch := c.Data.(*change)
	if ch.gone {
		return 1 << 20
	}
	depth := strings.Count(ch.it.path, "/")
	if ch.it.dir {
		return depth
	}
	return 1<<10 + depth
}

func (p *Provider) applyItem(h *host.Host, ch *change) error {
	it := ch.it
	if !ch.existed && !ch.takeOver {
		// The plan saw nothing there; something that appeared since is
		// someone else's.
		if _, err := h.FS.Lstat(it.path); err == nil && ch.prevID == "" && ch.rec.Created {
			return fmt.Errorf("%s appeared since the plan; seconf did not write it and leaves it alone", it.path)
		}
	}
	switch {
	case it.dir && (ch.write || ch.attrs):
		if err := h.FS.Mkdir(it.path, it.attrs); err != nil {
			return err
		}
	case ch.write, ch.attrs && !it.dir:
		// Attributes too go on a new file renamed into place: the path may
		// now be a hard link to a file outside the root (an inode shared
		// with another path), and a chmod by path follows a symlink put
		// there after the check.
		if err := h.FS.WriteFileAttrs(it.path, it.content, it.attrs); err != nil {
			return err
		}
	case ch.attrs:
		if err := h.FS.SetAttrs(it.path, it.attrs); err != nil {
			return err
		}
	}
	if ch.stale != nil {
		// The block's earlier path, left as for a block that went.
		pl := &planner{env: &engine.Env{Host: h}}
		if key, err := h.HashKey(false); err == nil {
			pl.key = key
		}
		old := pl.planGone("", *ch.stale, nil).Data.(*change)
		if old.restore || old.remove {
			return p.applyGone(h, old)
		}
	}
	return nil
}

func (p *Provider) applyGone(h *host.Host, ch *change) error {
	r := ch.rec
	// Checked again: the host may have changed since the plan.
	if err := judge(h, r); err != nil {
		return nil
	}
	switch {
	case ch.restore && r.Original != nil:
		a := host.Attrs{Perm: fs.FileMode(r.Original.Mode & 0o777), UID: r.Original.UID, GID: r.Original.GID, Label: r.Original.Label}
		if r.Original.Mode&0o1000 != 0 {
			a.Perm |= fs.ModeSticky
		}
		if r.Dir {
			return h.FS.SetAttrs(r.Path, a)
		}
		kept, err := h.FS.ReadFile(r.Original.Kept)
		if err != nil || sha(kept) != r.Original.KeptSum {
			return fmt.Errorf("the original kept at %s is missing or changed; %s is left as it is", r.Original.Kept, r.Path)
		}
		if err := h.FS.WriteFileAttrs(r.Path, kept, a); err != nil {
			return err
		}
		return h.FS.Remove(r.Original.Kept)
	case ch.remove && r.Dir:
		// Something that appeared since the plan keeps the directory.
		if err := h.FS.Rmdir(r.Path); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case ch.remove:
		return h.FS.Remove(r.Path)
	}
	return nil
}
