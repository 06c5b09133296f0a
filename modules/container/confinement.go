package container

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/lazyre"
)

// onHost checks a container against the host it will run on: what config
// cannot know from the text alone.
func onHost(h *host.Host, c *config.Container) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.AllowUnconfined {
		// Said on every plan and apply, so that an opt-out never goes quiet.
		rng := c.AttrRange("allow_unconfined")
		diags = append(diags, engine.Warnf(&rng, "Container may run unconfined",
			"container %q sets allow_unconfined = true: seconf does not hold it to SELinux confinement (privileged, unconfined types, relabelled system directories). Remove it once the container has a type of its own (confine = true, or a selinux_module).", c.Name))
		return diags
	}
	for _, v := range c.Volumes {
		if v.Relabel == config.RelabelNone {
			continue
		}
		// A path the root resolves through a symlink into a system
		// directory is that directory, whatever the configuration says.
		real, err := h.FS.Path(v.Source)
		if err != nil {
			continue
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(real, h.Root), "/")
		if h.Root == "/" {
			rel = real
		}
		if d, sys := config.SystemPath(rel); sys {
			rng := v.Range
			diags = append(diags, engine.Errorf(&rng, "Relabelling a system directory refused",
				"container %q: %s is %s on this host, inside the system directory %s; relabelling it for a container breaks the host services that use it. Use relabel = \"none\".", c.Name, v.Source, path.Clean(rel), d))
		}
	}
	diags = append(diags, mountsOnHost(h, c)...)
	diags = append(diags, filesOnHost(h, c)...)
	if c.Engine == "docker" {
		diags = append(diags, dockerLabels(h, c)...)
	}
	return diags
}

// hostPath is a path of the root resolved there (symlinks inside the root),
// spelled as on the host.
func hostPath(h *host.Host, p string) (string, error) {
	real, err := h.FS.Path(p)
	if err != nil {
		return "", err
	}
	if h.Root == "/" {
		return real, nil
	}
	return "/" + strings.TrimPrefix(strings.TrimPrefix(real, h.Root), "/"), nil
}

// mountsOnHost holds the relabelling mount entries to what the volumes are
// held to: a bind source, or any match of a glob source, that the root
// resolves through a symlink into a system directory is that directory.
func mountsOnHost(h *host.Host, c *config.Container) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, s := range c.Options["mount"].List {
		m, err := config.ParseMount(s)
		if err != nil || m.Type != "bind" && m.Type != "glob" {
			continue
		}
		f, relabels := m.Relabels()
		if !relabels {
			continue
		}
		src, _, _ := m.Source()
		sources := []string{src}
		if m.Type == "glob" {
			root := strings.TrimSuffix(h.Root, "/")
			matches, err := filepath.Glob(root + path.Clean("/"+src))
			if err != nil {
				continue
			}
			sources = sources[:0]
			for _, mt := range matches {
				sources = append(sources, "/"+strings.TrimPrefix(strings.TrimPrefix(mt, root), "/"))
			}
		}
		for _, p := range sources {
			rel, err := hostPath(h, p)
			if err != nil {
				continue
			}
			if d, sys := config.SystemPath(rel); sys {
				rng := c.AttrRange(fmt.Sprintf("mount[%d]", i))
				diags = append(diags, engine.Errorf(&rng, "Relabelling a system directory refused",
					"container %q: %s is %s on this host, inside the system directory %s; %s would relabel it for containers and break the host services that use it. Drop it.", c.Name, p, path.Clean(rel), d, f))
				break
			}
		}
	}
	return diags
}

// filesOnHost holds the files podman reads or writes as root for the
// container (environment_file, a log file, health check logs) to config's
// rules with the root's symlinks resolved: /srv/env -> /etc/shadow is
// /etc/shadow to podman.
func filesOnHost(h *host.Host, c *config.Container) hcl.Diagnostics {
	var diags hcl.Diagnostics
	refuse := func(attr, what string) {
		rng := c.AttrRange(attr)
		diags = append(diags, engine.Errorf(&rng, "Unconfined container refused",
			"container %q: %s. Give the container what it needs through a volume (read_only = true) or a secret; if you really mean it, set allow_unconfined = true.", c.Name, what))
	}
	o := c.Options
	for i, f := range o["environment_file"].List {
		if rel, err := hostPath(h, f); err == nil && config.HostSecret(rel) {
			refuse(fmt.Sprintf("environment_file[%d]", i), fmt.Sprintf("%s is %s on this host; podman would read it as root and hand it to the container, past the labels that protect it", f, rel))
		}
	}
	for i, opt := range o["log_opt"].List {
		if k, p, ok := strings.Cut(opt, "="); ok && k == "path" && path.IsAbs(p) {
			if rel, err := hostPath(h, p); err == nil && config.HostWriteRefused(rel) {
				refuse(fmt.Sprintf("log_opt[%d]", i), fmt.Sprintf("%s is %s on this host; podman would write the container's output there, a system directory", p, rel))
			}
		}
	}
	if v, ok := o["health_log_destination"]; ok && path.IsAbs(v.Str) {
		if rel, err := hostPath(h, v.Str); err == nil && config.HostWriteRefused(rel) {
			refuse("health_log_destination", fmt.Sprintf("%s is %s on this host; podman would write health check logs there, a system directory", v.Str, rel))
		}
	}
	return diags
}

// dockerSELinuxFlag finds --selinux-enabled on a dockerd command line.
var dockerSELinuxFlag = lazyre.New(`(?m)^\s*(ExecStart=.*dockerd|OPTIONS=).*--selinux-enabled(=true)?(\s|"|'|$)`)

// dockerLabels: docker labels containers only when its daemon runs with
// SELinux support ("selinux-enabled": true in daemon.json, or
// --selinux-enabled); without it every container runs in the daemon's own
// domain, and selinux_type confines nothing.
func dockerLabels(h *host.Host, c *config.Container) hcl.Diagnostics {
	if dockerSELinux(h) {
		return nil
	}
	rng := c.DeclRange
	for _, a := range []struct{ attr, val string }{{"selinux_type", c.SELinuxType}, {"selinux_level", c.SELinuxLevel}} {
		if a.val == "" {
			continue
		}
		rng = c.AttrRange(a.attr)
		return hcl.Diagnostics{engine.Errorf(&rng, "Docker does not label containers here",
			"container %q asks for %s %q, but docker's daemon on this host runs without SELinux support, so the container would run in the daemon's own domain and the label would confine nothing. Add \"selinux-enabled\": true to %s and restart docker, or use engine = \"podman\".",
			c.Name, a.attr, a.val, host.DockerDaemonConfig)}
	}
	return hcl.Diagnostics{engine.Warnf(&rng, "Docker does not label containers here",
		"container %q: docker's daemon on this host runs without SELinux support (no \"selinux-enabled\": true in %s), so the container runs unconfined in the daemon's domain. Enable it and restart docker, or use engine = \"podman\".",
		c.Name, host.DockerDaemonConfig)}
}

// dockerSELinux reports whether the root's docker daemon is configured to
// label containers: daemon.json, or the flag in its unit or sysconfig.
func dockerSELinux(h *host.Host) bool {
	if data, err := h.FS.ReadFile(host.DockerDaemonConfig); err == nil {
		var conf struct {
			SELinux *bool `json:"selinux-enabled"`
		}
		if json.Unmarshal(data, &conf) == nil && conf.SELinux != nil {
			return *conf.SELinux
		}
	}
	files := []string{"/etc/sysconfig/docker", "/etc/default/docker"}
	for _, d := range host.UnitSearchPath {
		files = append(files, path.Join(d, "docker.service"))
		if ents, _ := h.FS.ReadDir(path.Join(d, "docker.service.d")); ents != nil {
			for _, e := range ents {
				files = append(files, path.Join(d, "docker.service.d", e.Name()))
			}
		}
	}
	for _, f := range files {
		if data, err := h.FS.ReadFile(f); err == nil && dockerSELinuxFlag.Match(data) {
			return true
		}
	}
	return false
}
