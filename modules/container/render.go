package container

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode"

	"seconf/config"
	"seconf/host"
	"seconf/internal/unitfile"
	"seconf/modules/units"
)

// The programs the renderings run, as the managed host has them.
const (
	Podman = host.PodmanBin
	Docker = host.DockerBin
)

// Links are a container's dependencies on other blocks, as its unit states
// them. Dependencies on selinux_module blocks are not here: they do not
// order units, they restart them (engine.Unit.Deps).
type Links struct {
	// Units are the services of containers it depends on: After= and Requires=.
	Units []string
	// MountsFor are the mount points of mounts it depends on: RequiresMountsFor=.
	MountsFor []string
}

// spec is what every rendering of one container shares: the values checked
// and put in the form the renderings need.
type spec struct {
	c       *config.Container
	links   Links
	header  string   // the first line of every file, without "# "
	volumes []string // podman/docker -v values: SRC:DST[:OPTS]
	env     []string // KEY=VALUE, sorted by key
	envFile string   // the EnvironmentFile when any value is sensitive
}

func newSpec(c *config.Container, links Links) (*spec, error) {
	s := &spec{c: c, links: links, header: units.HeaderFor(c.ID())}
	// Checked in a fixed order, so that the same block gives the same error.
	tokens := [][2]string{{"image", c.Image}}
	for _, opt := range [][2]string{{"network", c.Network}, {"user", c.User}, {"selinux_type", c.SELinuxType}, {"selinux_level", c.SELinuxLevel}} {
		if opt[1] != "" {
			tokens = append(tokens, opt)
		}
	}
	for _, p := range c.Publish {
		tokens = append(tokens, [2]string{"publish", p})
	}
	for _, t := range tokens {
		if err := checkToken(t[0], t[1]); err != nil {
			return nil, &attrError{attr: t[0], err: err}
		}
	}
	for _, a := range c.Command {
		if err := checkText("command argument", a); err != nil {
			return nil, &attrError{attr: "command", err: err}
		}
	}
	switch c.Restart {
	case "always", "on-failure", "no":
	default:
		return nil, attrErr("restart", "restart %q is not one of always, on-failure, no", c.Restart)
	}
	for i, v := range c.Volumes {
		vol, err := volume(v)
		if err != nil {
			return nil, &attrError{attr: fmt.Sprintf("volume.source%d", i), err: err}
		}
		s.volumes = append(s.volumes, vol)
	}
	keys := make([]string, 0, len(c.Environment))
	sensitive := false
	for k := range c.Environment {
		// A key of a sensitive map is as secret as its value: neither is
		// named (config names them only when they are not).
		name := fmt.Sprintf("%q", k)
		if c.Sensitive[k] {
			name = "of a sensitive value"
		}
		// An env file would read a leading # as a comment and drop leading
		// whitespace; refuse such names everywhere, so that a value turning
		// sensitive never changes what the container sees.
		if k == "" || strings.HasPrefix(k, "#") || strings.ContainsRune(k, '=') || strings.IndexFunc(k, unicode.IsSpace) >= 0 {
			return nil, attrErr("environment", "environment name %s cannot be passed to a container", name)
		}
		if _, desc, bad := config.BadRune(k, false); bad {
			return nil, attrErr("environment", "environment name %s holds %s; remove it", name, desc)
		}
		// The value is not named: it may be a secret.
		if _, desc, bad := config.BadRune(c.Environment[k], false); bad {
			if c.Sensitive[k] {
				desc = "a control or invisible character"
			}
			return nil, attrErr("environment", "the environment value of %s holds %s; remove it", name, desc)
		}
		keys = append(keys, k)
		sensitive = sensitive || c.Sensitive[k]
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.env = append(s.env, k+"="+c.Environment[k])
	}
	if sensitive {
		s.envFile = path.Join(host.EnvDir, c.Name+".env")
	}
	return s, nil
}

// volume is the -v value of a volume: SRC:DST, then the options ro and z
// (shared) or Z (private) joined by commas, the syntax podman, docker and
// quadlet's Volume= share.
func volume(v config.Volume) (string, error) {
	for _, p := range [][2]string{{"volume source", v.Source}, {"volume target", v.Target}} {
		if err := checkToken(p[0], p[1]); err != nil {
			return "", err
		}
		// ':' separates the parts of the spec. Quadlet copies the source raw
		// into RequiresMountsFor=, where $ is not unescaped.
		if !path.IsAbs(p[1]) || strings.ContainsAny(p[1], ":$") {
			return "", fmt.Errorf("%s %q must be an absolute path without ':' or '$'", p[0], p[1])
		}
	}
	var opts []string
	if v.ReadOnly {
		opts = append(opts, "ro")
	}
	switch v.Relabel {
	case config.RelabelNone, "":
	case config.RelabelShared:
		opts = append(opts, "z")
	case config.RelabelPrivate:
		opts = append(opts, "Z")
	default:
		return "", fmt.Errorf("volume %s: relabel %q is not one of none, shared, private", v.Source, v.Relabel)
	}
	vol := v.Source + ":" + v.Target
	if len(opts) > 0 {
		vol += ":" + strings.Join(opts, ",")
	}
	return vol, nil
}

// description is the unit's Description=; it holds only the validated name.
func (s *spec) description() string {
	return unitfile.Specifiers("container " + s.c.Name + " (seconf)")
}

// envFileData is the EnvironmentFile: KEY=VALUE lines, read literally by
// podman and docker (no quoting, no expansion), behind the header comment.
func (s *spec) envFileData() []byte {
	var b strings.Builder
	b.WriteString("# " + s.header + "\n")
	for _, kv := range s.env {
		b.WriteString(kv + "\n")
	}
	return []byte(b.String())
}

// maxEnvFileLine is the longest line podman and docker read from an
// environment file: both scan it with Go's bufio.Scanner, whose default
// buffer is 64 KiB, newline included (podman 4.3.1 reads a line of 65535
// bytes and fails on one of 65536: "bufio.Scanner: token too long").
const maxEnvFileLine = 64<<10 - 1

// lineAttrs maps the keys of a rendered line to the attribute that makes it
// long, for the error; a key not here (ExecStart, which holds them all)
// points at the block.
var lineAttrs = map[string]string{
	"Exec": "command", "Environment": "environment", "Image": "image", "Network": "network",
	"User": "user", "PublishPort": "publish", "SecurityLabelType": "selinux_type",
	"SecurityLabelLevel": "selinux_level",
}

func (s *spec) files(unitPath string, unit *unitfile.File) ([]units.File, error) {
	data := unit.Bytes()
	if n, key, length := unitfile.LongLine(data, unitfile.LongLineMax); n > 0 {
		return nil, attrErr(lineAttrs[key], "the %s= line of %s would be %d bytes, and systemd does not load a unit with a line of 1 MiB or more (LONG_LINE_MAX); shorten the values that make it up",
			key, path.Base(unitPath), length)
	}
	fs := []units.File{{Path: unitPath, Data: data, Mode: 0o644}}
	if s.envFile != "" {
		env := s.envFileData()
		if n, key, length := unitfile.LongLine(env, maxEnvFileLine+1); n > 0 {
			name := fmt.Sprintf("of %q", key)
			if s.c.Sensitive[key] {
				name = "of a sensitive value"
			}
			return nil, attrErr("environment", "the environment variable %s would be a line of %d bytes in %s, and podman and docker read at most %d bytes a line there; shorten it",
				name, length, s.envFile, maxEnvFileLine)
		}
		fs = append(fs, units.File{Path: s.envFile, Data: env, Mode: 0o600, Sensitive: true})
	}
	return fs, nil
}

// unitDeps writes the [Unit] dependencies every rendering shares.
func (s *spec) unitDeps(u *unitfile.File) {
	for _, n := range s.links.Units {
		u.AddOnce("Unit", "After", unitfile.Specifiers(n))
		u.AddOnce("Unit", "Requires", unitfile.Specifiers(n))
	}
	for _, p := range s.links.MountsFor {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(p)))
	}
}

func (s *spec) install(u *unitfile.File) {
	if s.c.Enabled {
		u.Add("Install", "WantedBy", "multi-user.target")
	}
}

// RenderQuadlet renders a podman container as a quadlet .container file;
// quadlet's generator turns it into NAME.service at boot and daemon-reload.
func RenderQuadlet(c *config.Container, links Links) ([]units.File, error) {
	s, err := newSpec(c, links)
	if err != nil {
		return nil, err
	}
	// Quadlet reads these suffixes as references to its own units.
	if strings.HasSuffix(c.Image, ".image") || strings.HasSuffix(c.Image, ".build") {
		return nil, attrErr("image", "image %q ends like a quadlet unit name, which quadlet would look up; use quadlet = false", c.Image)
	}
	if strings.HasSuffix(c.Network, ".network") || strings.HasSuffix(c.Network, ".container") {
		return nil, attrErr("network", "network %q ends like a quadlet unit name, which quadlet would look up; use quadlet = false", c.Network)
	}
	// Quadlet re-quotes Exec= words into ExecStart= but leaves an empty word
	// out and a lone ";" unquoted (a command separator to systemd).
	for _, a := range c.Command {
		if a == "" || a == ";" {
			return nil, attrErr("command", "command argument %q cannot pass through quadlet; use quadlet = false", a)
		}
	}
	u := unitfile.New(s.header)
	u.Add("Unit", "Description", s.description())
	s.unitDeps(u) // volume sources: quadlet adds RequiresMountsFor itself
	// Every value below ends up in the generated ExecStart=, where systemd
	// expands % and $: execValue escapes both.
	u.Add("Container", "ContainerName", c.Name)
	u.Add("Container", "Image", unitfile.Value(c.Image))
	if len(c.Command) > 0 {
		u.Add("Container", "Exec", unitfile.NewCmdline().Add(c.Command...).String())
	}
	if c.Network != "" {
		u.Add("Container", "Network", unitfile.Value(c.Network))
	}
	if c.SELinuxType != "" {
		u.Add("Container", "SecurityLabelType", unitfile.Value(c.SELinuxType))
	}
	if c.SELinuxLevel != "" {
		u.Add("Container", "SecurityLabelLevel", unitfile.Value(c.SELinuxLevel))
	}
	if c.User != "" {
		u.Add("Container", "User", unitfile.Value(c.User))
	}
	for _, v := range s.volumes {
		u.Add("Container", "Volume", unitfile.Value(v))
	}
	for _, p := range c.Publish {
		u.Add("Container", "PublishPort", unitfile.Value(p))
	}
	if s.envFile != "" {
		u.Add("Container", "EnvironmentFile", s.envFile)
	} else {
		for _, kv := range s.env {
			u.Add("Container", "Environment", unitfile.Word(kv))
		}
	}
	if c.Privileged {
		u.Add("Container", "PodmanArgs", "--privileged")
	}
	u.Add("Service", "Restart", c.Restart)
	s.install(u)
	return s.files(path.Join(host.QuadletDir, c.Name+".container"), u)
}

// podmanRun is the podman command line quadlet generates for the same
// container, flag for flag and in quadlet's order (podman v5.4
// pkg/systemd/quadlet ConvertContainer), so that the two renderings run the
// same container; a test holds them together.
func (s *spec) podmanRun() *unitfile.Cmdline {
	c := s.c
	cmd := unitfile.NewCmdline(Podman, "run")
	cmd.Add("--name", c.Name)
	// The cid file lets ExecStop remove the container even if conmon died.
	cmd.Raw("--cidfile=%t/%N.cid", "--replace", "--rm", "--cgroups=split")
	if c.Network != "" {
		cmd.Add("--network", c.Network)
	}
	cmd.Raw("--sdnotify=conmon", "-d")
	s.runArgs(cmd, "--publish")
	return cmd
}

// RenderPodmanService renders a podman container as a plain service running
// podman run, for hosts without quadlet (Debian 12's podman 4.3). It is the
// unit quadlet would generate from RenderQuadlet's file.
func RenderPodmanService(c *config.Container, links Links) ([]units.File, error) {
	s, err := newSpec(c, links)
	if err != nil {
		return nil, err
	}
	u := unitfile.New(s.header)
	u.Add("Unit", "Description", s.description())
	// Image pulls need the network up.
	u.Add("Unit", "Wants", "network-online.target")
	u.Add("Unit", "After", "network-online.target")
	s.unitDeps(u)
	u.Add("Unit", "RequiresMountsFor", "%t/containers")
	for _, v := range c.Volumes {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(v.Source)))
	}
	u.Add("Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n")
	u.Add("Service", "Restart", c.Restart)
	// conmon reports readiness (--sdnotify=conmon) and stays as the main
	// process; mixed lets it stop the container before the rest is killed.
	u.Add("Service", "Type", "notify")
	u.Add("Service", "NotifyAccess", "all")
	u.Add("Service", "KillMode", "mixed")
	u.Add("Service", "Delegate", "yes")
	u.Add("Service", "SyslogIdentifier", "%N")
	// podman 4's rm --cidfile leaves the file behind (podman 5 deletes it),
	// and run --cidfile refuses an existing one: without this a restart fails.
	u.Add("Service", "ExecStartPre", "-/bin/rm -f %t/%N.cid")
	u.Add("Service", "ExecStart", s.podmanRun().String())
	rm := Podman + " rm -v -f -i --cidfile=%t/%N.cid"
	u.Add("Service", "ExecStop", rm)
	// ExecStopPost runs even when conmon was killed and ExecStop was not.
	u.Add("Service", "ExecStopPost", "-"+rm)
	s.install(u)
	return s.files(path.Join(host.UnitDir, c.Name+".service"), u)
}

// RenderDockerService renders a docker container as a service running
// docker run in the foreground.
func RenderDockerService(c *config.Container, links Links) ([]units.File, error) {
	s, err := newSpec(c, links)
	if err != nil {
		return nil, err
	}
	u := unitfile.New(s.header)
	u.Add("Unit", "Description", s.description())
	u.Add("Unit", "Wants", "network-online.target")
	u.Add("Unit", "After", "network-online.target")
	u.Add("Unit", "After", "docker.service")
	u.Add("Unit", "Requires", "docker.service")
	s.unitDeps(u)
	for _, v := range c.Volumes {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(v.Source)))
	}
	u.Add("Service", "Restart", c.Restart)
	// A container left over from a crash would make the name clash; "-"
	// ignores the error when there is none.
	u.Add("Service", "ExecStartPre", unitfile.NewCmdline("-"+Docker, "rm", "-f").Add(c.Name).String())
	u.Add("Service", "ExecStart", s.dockerRun().String())
	u.Add("Service", "ExecStop", unitfile.NewCmdline(Docker, "stop").Add(c.Name).String())
	s.install(u)
	return s.files(path.Join(host.UnitDir, c.Name+".service"), u)
}

func (s *spec) dockerRun() *unitfile.Cmdline {
	c := s.c
	cmd := unitfile.NewCmdline(Docker, "run", "--rm")
	cmd.Add("--name", c.Name)
	if c.Network != "" {
		cmd.Add("--network", c.Network)
	}
	s.runArgs(cmd, "-p")
	return cmd
}

// runArgs adds what podman run and docker run spell alike: labels, user,
// volumes, ports, environment, then the image and its command.
func (s *spec) runArgs(cmd *unitfile.Cmdline, publishFlag string) {
	c := s.c
	if c.SELinuxType != "" {
		cmd.Add("--security-opt", "label=type:"+c.SELinuxType)
	}
	if c.SELinuxLevel != "" {
		cmd.Add("--security-opt", "label=level:"+c.SELinuxLevel)
	}
	if c.User != "" {
		cmd.Add("--user", c.User)
	}
	for _, v := range s.volumes {
		cmd.Add("-v", v)
	}
	for _, p := range c.Publish {
		cmd.Add(publishFlag, p)
	}
	if s.envFile != "" {
		cmd.Add("--env-file", s.envFile)
	} else {
		for _, kv := range s.env {
			cmd.Add("--env", kv)
		}
	}
	if c.Privileged {
		cmd.Add("--privileged")
	}
	cmd.Add(c.Image)
	cmd.Add(c.Command...)
}
