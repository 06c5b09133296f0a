package selinux

import (
	"context"

	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
)

// needs are the permissions a container uses on a volume, by class.
var needs = map[bool]map[string][]string{
	true:  {"dir": {"getattr", "open", "read", "search"}, "file": {"getattr", "open", "read"}},
	false: {"dir": {"add_name", "getattr", "open", "read", "remove_name", "search", "write"}, "file": {"append", "create", "getattr", "open", "read", "unlink", "write"}},
}

// maxPolicy bounds the policy file seconf copies for sesearch: Debian's is
// about 4 MiB, Fedora's about 10.
const maxPolicy = 256 << 20

var permsRe = lazyre.New(`:\s*\S+\s+(?:\{([^}]*)\}|(\S+));`)

// checkAccess warns, before anything runs, about the denial a user would
// otherwise meet at run time: a container type with no allow rule for the
// label of a volume's host path. It runs only where labels can be read (a
// host with SELinux, or a labelled image) and only for types the store's
// policy already has, and asks setools' sesearch, the authority on rules.
func (p *Provider) checkAccess(ctx context.Context, env *engine.Env, st store, pending map[string]bool) hcl.Diagnostics {
	if !env.Advise {
		return nil
	}
	diags := p.confined
	p.confined = nil
	polPath, err := env.Host.FS.Path(path.Join(path.Dir(st.dir), "policy.kern"))
	if err != nil {
		return diags
	}
	// sesearch is looked for at the first query: a configuration with no
	// volume to check (every container confined) needs no setools, and a
	// host without them (a stock Debian) gets no warning on every plan.
	sesearch := ""
	// sesearch parses the root's policy, which is data: it runs in the
	// compile sandbox, as nobody, with a readable copy of that one file
	// (the store's own is root's alone), made at the first query.
	const inSandbox = "/policy.kern"
	var sb *host.Sandbox
	var tmp string
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	sandbox := func() (*host.Sandbox, error) {
		if sb != nil {
			return sb, nil
		}
		data, err := host.ReadUntrusted(polPath, maxPolicy)
		if err != nil {
			return nil, err
		}
		if tmp, err = os.MkdirTemp("", "seconf-sesearch-"); err != nil {
			return nil, err
		}
		cp := filepath.Join(tmp, "policy.kern")
		if err := os.WriteFile(cp, data, 0o644); err != nil {
			return nil, err
		}
		sb = &host.Sandbox{Compile: true, Binds: []host.Bind{{Src: cp, Dst: inSandbox, ReadOnly: true}}}
		return sb, nil
	}
	for _, c := range env.Config.Containers {
		t := c.SELinuxType
		// A confined container's module was written from its volumes, and
		// what it could not grant is already said.
		if t == "" || c.Confine || pending[p.typeOwners[t]] {
			continue
		}
		for _, v := range c.Volumes {
			rng := v.Range
			label, err := env.Host.FS.Label(v.Source)
			parts := strings.Split(label, ":")
			if err != nil || len(parts) < 3 {
				continue
			}
			ftype := parts[2]
			classes := []string{"dir", "file"}
			for _, class := range classes {
				if sesearch == "" {
					if sesearch, err = host.Tool("sesearch"); err != nil {
						return append(diags, engine.Warnf(&rng, "Volume access not checked", "%s: cannot check access to %s (%v)", c.ID(), v.Source, err))
					}
				}
				sb, err := sandbox()
				if err != nil {
					return append(diags, engine.Warnf(&rng, "Volume access not checked", "%s: cannot check access to %s (%v)", c.ID(), v.Source, err))
				}
				res, err := env.Host.Runner.Run(ctx, host.Cmd{Name: sesearch, Args: []string{inSandbox, "-A", "-s", t, "-t", ftype, "-c", class}, Sandbox: sb})
				if err != nil {
					return append(diags, engine.Warnf(&rng, "Volume access not checked", "%s: cannot check access to %s (%v)", c.ID(), v.Source, err))
				}
				if missing := missingPerms(string(res.Stdout), needs[v.ReadOnly][class]); len(missing) > 0 {
					diags = append(diags, engine.Warnf(&rng, "Access will be denied",
						"%s: type %s has no allow rule for %s %s:%s { %s }: the container will be denied this on %s at run time. Allow it in the type's module (for logs: logging_manage_all_logs(%s)).",
						c.ID(), t, v.Source, ftype, class, strings.Join(missing, " "), v.Target, t))
				}
			}
		}
	}
	return diags
}

// missingPerms returns the wanted permissions no rule in sesearch's output grants.
func missingPerms(out string, want []string) []string {
	have := map[string]bool{}
	for _, m := range permsRe.FindAllStringSubmatch(out, -1) {
		for _, perm := range strings.Fields(m[1] + " " + m[2]) {
			have[perm] = true
		}
	}
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	sort.Strings(missing)
	return missing
}
