package images

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/containerstore"
)

// Section is the state record section of pulled images.
const Section = "images"

// Provider pulls the images of the configuration's containers before the
// units provider starts them.
type Provider struct{}

// New returns the images provider.
func New() *Provider { return &Provider{} }

// Name is the provider's name and state section.
func (*Provider) Name() string { return Section }

// Record is what seconf pulled for one image reference of one engine.
type Record struct {
	Engine string    `json:"engine"`
	Ref    string    `json:"ref"`
	ID     string    `json:"id,omitempty"`
	Digest string    `json:"digest,omitempty"`
	Pulled time.Time `json:"pulled"`
}

// Pull policies, as quadlet's Pull key and podman's --pull name them.
const (
	PullAlways  = "always"
	PullMissing = "missing"
	PullNever   = "never"
	PullNewer   = "newer"
)

// strength orders policies: the strongest asked by any container using an
// image wins.
var strength = map[string]int{PullNever: 0, PullMissing: 1, PullNewer: 2, PullAlways: 3}

// image is one (engine, reference) the configuration's containers run.
type image struct {
	engine, ref string
	parsed      containerstore.Ref
	policy      string
	users       []*config.Container
}

// id is the change ID of an image: image:REF (docker-image:REF).
func (im *image) id() string {
	if im.engine == "docker" {
		return "docker-image:" + im.ref
	}
	return "image:" + im.ref
}

func (im *image) recKey() string { return im.engine + " " + im.ref }

// Policy is the pull policy of a container: its pull attribute, else
// missing (quadlet's and podman's default).
func Policy(c *config.Container) string {
	if v, ok := c.Options["pull"]; ok && v.Str != "" {
		return v.Str
	}
	return PullMissing
}

// Validate checks image references with a digest (a pin): the digest must
// be one podman and docker pull by.
func (*Provider) Validate(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, c := range cfg.Containers {
		if strings.Contains(c.Image, "@") {
			if _, err := containerstore.ParseRef(c.Image); err != nil {
				rng := c.AttrRange("image")
				diags = append(diags, engine.Errorf(&rng, "Invalid image digest", "container %q: %v. Pin an image as REPOSITORY:TAG@sha256:DIGEST (podman push --digestfile, or skopeo inspect, gives the digest).", c.Name, err))
			}
		}
		if p := Policy(c); strength[p] == 0 && p != PullNever {
			rng := c.AttrRange("pull")
			diags = append(diags, engine.Errorf(&rng, "Invalid value for pull", "container %q: pull %q is not one of always, missing, never, newer.", c.Name, p))
		}
	}
	return diags
}

func collect(cfg *config.Config) []*image {
	by := map[string]*image{}
	var out []*image
	for _, c := range cfg.Containers {
		if !c.Enabled {
			continue // apply does not start it: nothing waits on its image
		}
		r, err := containerstore.ParseRef(c.Image)
		if err != nil {
			continue // a name seconf cannot read is left to the engine
		}
		k := c.Engine + " " + c.Image
		im := by[k]
		if im == nil {
			im = &image{engine: c.Engine, ref: c.Image, parsed: r, policy: PullNever}
			by[k] = im
			out = append(out, im)
		}
		if p := Policy(c); strength[p] > strength[im.policy] {
			im.policy = p
		}
		im.users = append(im.users, c)
	}
	return out
}

func userIDs(im *image) []string {
	var ids []string
	for _, c := range im.users {
		ids = append(ids, c.ID())
	}
	return ids
}

// Records reads the images section of a state record.
func Records(st *engine.State) (map[string]Record, error) {
	recs := map[string]Record{}
	err := st.Section(Section, &recs)
	return recs, err
}

// pull is a change's payload.
type pull struct{ im *image }

// Plan finds the images that are not in the engine's store. It reads the
// store's index from disk and asks no registry: a plan with nothing to pull
// runs no command.
func (p *Provider) Plan(ctx context.Context, env *engine.Env) ([]*engine.Change, hcl.Diagnostics) {
	h := env.Host
	recs, err := Records(env.State)
	if err != nil {
		return nil, engine.FromError(nil, "Cannot read the state record", err)
	}
	imgs := collect(env.Config)
	// Records of images no container runs any more go; the images stay
	// (other containers, or the operator, may use them).
	live := map[string]bool{}
	for _, im := range imgs {
		live[im.recKey()] = true
	}
	pruned := false
	for k := range recs {
		if !live[k] {
			delete(recs, k)
			pruned = true
		}
	}
	if pruned {
		if err := env.State.SetSection(Section, recs); err != nil {
			return nil, engine.FromError(nil, "Cannot update the state record", err)
		}
	}
	if len(imgs) == 0 {
		return nil, nil
	}
	indexes := map[string]*containerstore.Index{}
	var diags hcl.Diagnostics
	var notPulled []string
	var changes []*engine.Change
	for _, im := range imgs {
		ix := indexes[im.engine]
		if ix == nil {
			read := containerstore.PodmanImages
			if im.engine == "docker" {
				read = containerstore.DockerImages
			}
			if ix, err = read(h); err != nil {
				rng := im.users[0].AttrRange("image")
				return nil, engine.FromError(&rng, "Cannot read the image store", err)
			}
			indexes[im.engine] = ix
		}
		rec, pulled := recs[im.recKey()]
		_, found := ix.Find(im.parsed)
		if !found && pulled && rec.ID != "" {
			_, found = ix.ByID(rec.ID)
		}
		// An index seconf cannot read: what seconf pulled is taken as there.
		present := found || (!ix.Known && pulled)
		rng := im.users[0].AttrRange("image")
		c := &engine.Change{ID: im.id(), Range: im.users[0].DeclRange, Action: engine.NoOp,
			Provides: []string{config.ImageKey(im.engine, im.ref)}, Data: &pull{im}}
		users := strings.Join(userIDs(im), ", ")
		switch {
		case h.Offline():
			// Offline nothing is pulled (see the package doc); said once,
			// below, when a unit would pull at its first start.
			if !present && im.policy != PullNever {
				notPulled = append(notPulled, im.ref)
			}
		case im.policy == PullNever:
			if !present {
				diags = append(diags, engine.Warnf(&rng, "Image missing",
					"%s is not in %s's store and pull = \"never\": %s will fail to start until it is loaded.", im.ref, im.engine, users))
			}
		case !present:
			c.Action, c.Reason = engine.Create, "not in "+im.engine+"'s image store: pulled before "+users+" starts"
		case !pulled && (im.policy == PullAlways || im.policy == PullNewer):
			c.Action, c.Reason = engine.Update, "new in the configuration, pull = "+im.policy+": fetches the current image"
		case im.policy == PullAlways || im.policy == PullNewer:
			// Pulled again whenever apply (re)starts a container that runs it.
			c.Restartable, c.Needs = true, userIDs(im)
		}
		if im.parsed.Digest != "" && c.Action != engine.NoOp {
			c.Reason += " (pinned " + short(im.parsed.Digest) + ")"
		}
		if env.Refresh {
			local, _ := ix.Find(im.parsed)
			diags = append(diags, refresh(ctx, h, im, local)...)
		}
		changes = append(changes, c)
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].ID < changes[j].ID })
	if len(notPulled) > 0 && env.Advise {
		diags = append(diags, engine.Warnf(nil, "Images not pulled offline",
			"The root's image store lacks %s, and seconf does not pull offline: the units pull at their first start, which may outlast a start timeout on a slow link. Load the images into the tree, or let the first online apply pull them.", strings.Join(notPulled, ", ")))
	}
	return changes, diags
}

// registriesConf is where podman and skopeo read registry settings.
const registriesConf = "/etc/containers/registries.conf"

// refresh asks the registry what the image's tag points at now (plan
// --refresh-images only), and warns when that is not the pinned image, or
// not the one in the local store.
func refresh(ctx context.Context, h *host.Host, im *image, local containerstore.Image) hcl.Diagnostics {
	if im.parsed.Tag == "" {
		return nil
	}
	rng := im.users[0].AttrRange("image")
	tag := im.parsed.Repo() + ":" + im.parsed.Tag
	skopeo, err := host.Tool("skopeo")
	if err == nil {
		var args []string
		// Offline, the root's registry settings (mirrors, insecure
		// registries) are the ones its podman will pull with.
		if conf, err := h.FS.Path(registriesConf); err == nil && h.Offline() && h.FS.Exists(registriesConf) {
			args = append(args, "--registries-conf", conf)
		}
		var res host.Result
		res, err = h.Runner.Run(ctx, host.Cmd{Name: skopeo, Args: append(args, "inspect", "--format", "{{.Digest}}", "docker://"+tag)})
		if err == nil {
			remote := strings.TrimSpace(string(res.Stdout))
			switch {
			case im.parsed.Digest != "" && remote != im.parsed.Digest:
				return hcl.Diagnostics{engine.Warnf(&rng, "The tag has moved",
					"%s now points at %s; the configuration pins %s. Pin the new digest to run it.", tag, remote, im.parsed.Digest)}
			case im.parsed.Digest == "" && local.ID != "" && !contains(local.Digests, remote):
				return hcl.Diagnostics{engine.Warnf(&rng, "A newer image is in the registry",
					"%s now points at %s, which is not the image in %s's store. Pin it (%s@%s), or set pull = \"always\" to take it at the next restart.", tag, remote, im.engine, tag, remote)}
			}
			return nil
		}
	}
	return hcl.Diagnostics{engine.Warnf(&rng, "Cannot ask the registry", "%s: %v.", tag, err)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// Apply pulls each image, one after the other, and records what it got.
// The pull's progress goes to a person's terminal; without one, the CLI's
// line per applied change is the one line per image.
func (p *Provider) Apply(ctx context.Context, env *engine.Env, changes []*engine.Change) error {
	h := env.Host
	recs, err := Records(env.State)
	if err != nil {
		return err
	}
	var failed []string
	for _, c := range changes {
		im := c.Data.(*pull).im
		rec, err := pullImage(ctx, h, im)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.ID, err))
			continue
		}
		recs[im.recKey()] = rec
	}
	if err := env.State.SetSection(Section, recs); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s; no container was started or restarted", strings.Join(failed, "; "))
	}
	return nil
}

func pullImage(ctx context.Context, h *host.Host, im *image) (Record, error) {
	tool, err := host.Tool(im.engine)
	if err != nil {
		return Record{}, err
	}
	args := []string{"pull"}
	if h.Progress == nil {
		args = append(args, "-q")
	}
	res, err := h.Runner.Run(ctx, host.Cmd{Name: tool, Args: append(args, im.ref), Progress: h.Progress})
	if err != nil {
		return Record{}, err
	}
	rec := Record{Engine: im.engine, Ref: im.ref, Pulled: time.Now().UTC()}
	// What was stored, from the store's index: no format of the engine's
	// output to depend on.
	read := containerstore.PodmanImages
	if im.engine == "docker" {
		read = containerstore.DockerImages
	}
	if ix, err := read(h); err == nil {
		if got, ok := ix.Find(im.parsed); ok {
			rec.ID = got.ID
			if len(got.Digests) > 0 {
				rec.Digest = got.Digests[len(got.Digests)-1]
			}
		}
	}
	if rec.ID == "" && im.engine == "podman" && h.Progress == nil {
		rec.ID = strings.TrimPrefix(strings.TrimSpace(string(res.Stdout)), "sha256:")
	}
	return rec, nil
}
