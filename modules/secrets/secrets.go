package secrets

import (
	"bytes"
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
	"seconf/internal/containerstore"
)

// Section is the state record section of secrets.
const Section = "secrets"

// Provider makes podman secrets, and docker's secret files.
type Provider struct{}

// New returns the secrets provider.
func New() *Provider { return &Provider{} }

// Name is the provider's name and state section.
func (*Provider) Name() string { return Section }

// Record is what the state record keeps of a secret: never the value, only
// a keyed hash of it (host.KeyedSum), and podman's ID for the secret it
// made (a secret removed and made again by hand has another).
type Record struct {
	Engine string `json:"engine"`
	Sum    string `json:"sum"`
	ID     string `json:"id,omitempty"`
}

// Records reads the secrets section of a state record.
func Records(st *engine.State) (map[string]Record, error) {
	recs := map[string]Record{}
	err := st.Section(Section, &recs)
	return recs, err
}

// File is where a docker container's secret NAME lives on the host.
func File(name string) string { return path.Join(host.SecretsDir, name) }

type change struct {
	s      *config.Secret
	gone   *Record
	name   string
	exists bool // podman has a secret of that name now
}

// Validate: config checks the block; nothing needs the host.
func (*Provider) Validate(*config.Config) hcl.Diagnostics { return nil }

// Plan compares each secret with what seconf made, by keyed hash: the
// value is never compared with anything but the engine's own copy (docker's
// file) and never leaves memory.
func (p *Provider) Plan(_ context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	h := env.Host
	recs, err := Records(env.State)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	if len(env.Config.Secrets) == 0 && len(recs) == 0 {
		return nil, nil
	}
	key, err := h.HashKey(false)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read seconf's hash key", err)
	}
	var podman map[string]string
	podmanKnown := false
	readPodman := func() {
		if podman == nil {
			podman, podmanKnown = containerstore.PodmanSecrets(h)
		}
	}
	var diags hcl.Diagnostics
	var changes []*engine.Change
	wanted := map[string]bool{}
	for _, s := range env.Config.Secrets {
		wanted[s.ID()] = true
		c := &engine.Change{ID: s.ID(), Range: s.DeclRange, Action: engine.NoOp, Sensitive: true}
		ch := &change{s: s, name: s.Name}
		c.Data = ch
		rec, known := recs[s.ID()]
		same := known && rec.Engine == s.Engine && key != nil && rec.Sum == host.KeyedSum(key, s.Value)
		if s.Engine == "docker" {
			cur, err := h.FS.ReadFile(File(s.Name))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				c.Action, c.Reason = engine.Create, "new secret file "+File(s.Name)
			case err != nil:
				return nil, engine.FromError(&s.DeclRange, "Cannot read "+File(s.Name), err)
			case !bytes.Equal(cur, s.Value) && same:
				c.Action, c.Reason = engine.Update, "changed on the host since seconf wrote it (drift): apply puts the value back"
			case !bytes.Equal(cur, s.Value):
				c.Action, c.Reason = engine.Update, "value changed"
			case !known:
				c.Action, c.Reason = engine.Update, "recorded"
			}
			if c.Action == engine.NoOp {
				if in, err := h.FS.Lstat(File(s.Name)); err == nil && (in.Mode.Perm() != 0o600 || in.UID != 0) {
					c.Action, c.Reason = engine.Update, "mode or owner changed on the host"
				}
			}
			changes = append(changes, c)
			continue
		}
		if h.Offline() {
			// podman keeps secrets in its own store: see the package doc.
			if env.Advise {
				diags = append(diags, engine.Warnf(&s.DeclRange, "Secret not made offline",
					"secret %q is a podman secret, which seconf makes online only (podman secret create on the host); under --root nothing is made, and the containers that use it fail to start until an online apply has run.", s.Name))
			}
			changes = append(changes, c)
			continue
		}
		readPodman()
		if !podmanKnown {
			return nil, engine.FromError(&s.DeclRange, "Cannot read podman's secrets", fmt.Errorf("%s is not readable as podman's secret index", path.Join(containerstore.PodmanGraphRoot(h), "secrets", "secrets.json")))
		}
		id, exists := podman[s.Name]
		ch.exists = exists
		switch {
		case !exists && known:
			c.Action, c.Reason = engine.Create, "removed on the host since seconf made it (drift): apply makes it again"
		case !exists:
			c.Action, c.Reason = engine.Create, "new podman secret"
		case !known:
			rng := s.DeclRange
			diags = append(diags, engine.Errorf(&rng, "Secret name taken",
				"podman already has a secret %q that seconf did not make; seconf will not replace it. Remove it (podman secret rm %s), or give the block another name.", s.Name, s.Name))
		case rec.ID != "" && id != rec.ID:
			c.Action, c.Reason = engine.Update, "made again on the host since seconf made it (drift): apply puts the configured value back"
		case !same:
			c.Action, c.Reason = engine.Update, "value changed"
		}
		changes = append(changes, c)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var gone []string
	for id := range recs {
		if !wanted[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		rec := recs[id]
		name := strings.TrimPrefix(id, config.KindSecret+".")
		c := &engine.Change{ID: id, Action: engine.Delete, Reason: "not in config", Sensitive: true, Data: &change{gone: &rec, name: name}}
		switch rec.Engine {
		case "docker":
			cur, err := h.FS.ReadFile(File(name))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				c.Reason = "not in config; already gone from the host"
			case err != nil || key == nil || host.KeyedSum(key, cur) != rec.Sum:
				c.Action, c.Reason = engine.Forget, "not in config; left in place: "+File(name)+" changed since seconf wrote it"
			}
		default:
			if h.Offline() {
				c.Action, c.Reason = engine.Forget, "not in config; a podman secret is removed online only"
				break
			}
			readPodman()
			id, exists := podman[name]
			switch {
			case !exists:
				c.Reason = "not in config; already gone from the host"
			case id != rec.ID:
				c.Action, c.Reason = engine.Forget, "not in config; left in place: podman's secret "+name+" is no longer the one seconf made"
			default:
				c.Data.(*change).exists = true
			}
		}
		changes = append(changes, c)
	}
	return changes, diags
}

// Apply makes, replaces and removes secrets. A podman secret is made from
// standard input (podman secret create NAME -), so that the value is on no
// command line, in no log and in no file outside podman's store.
func (p *Provider) Apply(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	h := env.Host
	recs, err := Records(env.State)
	if err != nil {
		return err
	}
	key, err := h.HashKey(true)
	if err != nil {
		return err
	}
	save := func() error { return env.State.SetSection(Section, recs) }
	for _, c := range changes {
		ch := c.Data.(*change)
		var err error
		switch {
		case ch.gone != nil:
			err = remove(ctx, h, ch)
			if err == nil {
				delete(recs, c.ID)
			}
		case ch.s.Engine == "docker":
			// Claimed first: a kill after the write leaves it seconf's.
			recs[c.ID] = Record{Engine: "docker", Sum: host.KeyedSum(key, ch.s.Value)}
			if err = save(); err == nil {
				if err = env.Claim(); err == nil {
					err = h.FS.WriteFileAttrs(File(ch.name), ch.s.Value, host.Attrs{Perm: 0o600})
				}
			}
		case !h.Offline():
			var id string
			id, err = create(ctx, h, ch)
			if err == nil {
				recs[c.ID] = Record{Engine: "podman", Sum: host.KeyedSum(key, ch.s.Value), ID: id}
			}
		}
		if err != nil {
			save()
			return fmt.Errorf("%s: %w", c.ID, err)
		}
	}
	return save()
}

func create(ctx context.Context, h *host.Host, ch *change) (string, error) {
	podman, err := host.Tool("podman")
	if err != nil {
		return "", err
	}
	if ch.exists {
		// podman 4.3 has no create --replace. A running container keeps its
		// copy; the restart that follows runs a new container, which looks
		// the secret up by name.
		if _, err := h.Runner.Run(ctx, host.Cmd{Name: podman, Args: []string{"secret", "rm", ch.name}}); err != nil {
			return "", err
		}
	}
	res, err := h.Runner.Run(ctx, host.Cmd{Name: podman, Args: []string{"secret", "create", ch.name, "-"}, Stdin: ch.s.Value})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func remove(ctx context.Context, h *host.Host, ch *change) error {
	if ch.gone.Engine == "docker" {
		return h.FS.Remove(File(ch.name))
	}
	if !ch.exists {
		return nil
	}
	podman, err := host.Tool("podman")
	if err != nil {
		return err
	}
	_, err = h.Runner.Run(ctx, host.Cmd{Name: podman, Args: []string{"secret", "rm", ch.name}})
	return err
}
