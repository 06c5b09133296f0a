package container

import (
	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
)

// newerPodman are the options (and values) podman run has had only since
// a version: a unit rendered as podman run on an older podman fails at
// its first start ("unknown flag"), after apply reported success.
var newerPodman = []struct {
	attr, value, version, flag string
}{
	{"health_startup_cmd", "", "4.4", "--health-startup-cmd"},
	{"health_startup_interval", "", "4.4", "--health-startup-interval"},
	{"health_startup_retries", "", "4.4", "--health-startup-retries"},
	{"health_startup_success", "", "4.4", "--health-startup-success"},
	{"health_startup_timeout", "", "4.4", "--health-startup-timeout"},
	{"notify", "healthy", "5.0", "--sdnotify=healthy"},
	{"health_log_destination", "", "5.3", "--health-log-destination"},
	{"health_max_log_count", "", "5.3", "--health-max-log-count"},
	{"health_max_log_size", "", "5.3", "--health-max-log-size"},
}

// olderPodmanOn reports whether root h has a podman older than 4.4: podman
// has shipped quadlet's generator since 4.4, so a root with podman and no
// generator (q false) has an older one. A root without podman yet (an
// image that installs it later) is not judged.
func olderPodmanOn(h *host.Host, q bool) bool {
	return h != nil && !q && h.FS.Exists(host.PodmanBin)
}

// olderPodman refuses what the older podman of a root (old: olderPodmanOn)
// cannot run of c when c is rendered as podman run.
func olderPodman(old, q bool, c *config.Container) hcl.Diagnostics {
	if !old || c.Engine == "docker" || useQuadlet(c.Quadlet, q) {
		return nil
	}
	var diags hcl.Diagnostics
	for _, n := range newerPodman {
		v, ok := c.Options[n.attr]
		if !ok || (n.value != "" && v.Str != n.value) {
			continue
		}
		rng := c.AttrRange(n.attr)
		diags = append(diags, engine.Errorf(&rng, "Option needs a newer podman",
			"container %q: %s needs podman %s or later (podman run %s), and this root's podman is older than 4.4: it has no quadlet generator (%s). Remove %s, or install a newer podman, which also renders the container through quadlet.",
			c.Name, n.attr, n.version, n.flag, host.QuadletGenerators[0], n.attr))
	}
	return diags
}
