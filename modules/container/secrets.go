package container

import (
	"fmt"
	"path"
	"strings"

	"seconf/config"
	"seconf/modules/secrets"
)

// secretName is the secret an entry of the secret option names: the text
// before podman's options (NAME,type=env,target=X).
func secretName(entry string) string {
	name, _, _ := strings.Cut(entry, ",")
	return name
}

// secretLinks are the secret blocks a container uses: those it references
// (secret.NAME.name, depends_on) and those its secret option names
// literally, each once.
func secretLinks(c *config.Container, cfg *config.Config) []NamedLink {
	var out []NamedLink
	seen := map[string]bool{}
	add := func(name string) {
		if s := findSecret(cfg, name); s != nil && !seen[name] {
			seen[name] = true
			out = append(out, NamedLink{Block: s.Name, Name: s.Name, Unit: "", Engine: s.Engine})
		}
	}
	for _, d := range c.Deps {
		if d.Kind == config.KindSecret {
			add(d.Name)
		}
	}
	if v, ok := c.Options["secret"]; ok {
		for _, e := range v.List {
			add(secretName(e))
		}
	}
	return out
}

func findSecret(cfg *config.Config, name string) *config.Secret {
	if cfg == nil {
		return nil
	}
	for _, s := range cfg.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// checkSecrets holds the container's secret entries to the secret blocks
// they name: the engine must match; for docker, each entry must name a
// block (docker has no secret store of its own outside swarm), and becomes
// a read-only mount of the block's file at /run/secrets/TARGET, where
// podman mounts its secrets.
func (s *spec) checkSecrets() error {
	v, ok := s.c.Options["secret"]
	for _, l := range s.links.Secrets {
		if l.Engine != s.engine {
			return attrErr("secret", "secret %q is for engine %q; container %q runs on %q", l.Block, l.Engine, s.c.Name, s.engine)
		}
	}
	if !ok || s.engine != "docker" {
		return nil
	}
	for i, e := range v.List {
		elem := fmt.Sprintf("secret[%d]", i)
		name := secretName(e)
		if !s.links.hasSecret(name) {
			return attrErr(elem, "docker has secrets only in swarm mode: name a secret block (secret = [secret.NAME.name]), which seconf gives docker as a read-only file")
		}
		target := name
		_, opts, _ := strings.Cut(e, ",")
		for _, o := range strings.Split(opts, ",") {
			if o == "" {
				continue
			}
			k, val, _ := strings.Cut(o, "=")
			switch {
			case k == "type" && val == "mount":
			case k == "target" && val != "":
				target = val
			case k == "type":
				return attrErr(elem, "docker takes a secret as a file only (type=mount), not %s", o)
			default:
				return attrErr(elem, "docker's secret file takes only target=, not %s", o)
			}
		}
		if !path.IsAbs(target) {
			target = path.Join("/run/secrets", target)
		}
		if path.Clean(target) != target || strings.ContainsAny(target, ":$") {
			return attrErr(elem, "secret target %q must be a clean path without ':' or '$'", target)
		}
		// z: docker labels the file for containers (shared), since its
		// label in /etc/seconf is not one a container may read.
		s.secretVolumes = append(s.secretVolumes, secrets.File(name)+":"+target+":ro,z")
	}
	return nil
}

func (l Links) hasSecret(name string) bool {
	for _, s := range l.Secrets {
		if s.Name == name {
			return true
		}
	}
	return false
}
