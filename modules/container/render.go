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
	Sh     = host.ShBin
)

// Links are a container's dependencies on other blocks, as its unit states
// them. Dependencies on selinux_module blocks are not here: they do not
// order units, they restart them (engine.Unit.Deps).
type Links struct {
	// Units are the services of containers it depends on: After= and Requires=.
	Units []string
	// MountsFor are the mount points of mounts it depends on: RequiresMountsFor=.
	MountsFor []string
	// Volumes and Networks are the volume and network blocks it depends
	// on: After= and Requires= their units, and their names resolved.
	Volumes, Networks []NamedLink
	// Secrets are the secret blocks it uses (no unit).
	Secrets []NamedLink
}

// NamedLink is a volume or network block a container uses.
type NamedLink struct {
	Block  string // the block's name: NAME.volume, NAME-volume.service
	Name   string // the engine's name for it
	Unit   string // the unit that creates it
	Engine string
	// Quadlet is true when the block is written as a quadlet file: a
	// quadlet container then names it NAME.volume (NAME.network), as
	// quadlet users write it.
	Quadlet bool
}

func (l Links) volumeByName(name string) (NamedLink, bool) {
	for _, v := range l.Volumes {
		if v.Name == name {
			return v, true
		}
	}
	return NamedLink{}, false
}

func (l Links) volumeBlock(block string) (NamedLink, bool) {
	for _, v := range l.Volumes {
		if v.Block == block {
			return v, true
		}
	}
	return NamedLink{}, false
}

// network is the network link the container's network attribute names,
// and the options after NAME: in it.
func (l Links) network(value string) (NamedLink, string, bool) {
	name, opts, _ := strings.Cut(value, ":")
	for _, n := range l.Networks {
		if n.Name == name {
			return n, opts, true
		}
	}
	return NamedLink{}, "", false
}

// spec is what every rendering of one container shares: the values checked
// and put in the form the renderings need.
type spec struct {
	c       *config.Container
	links   Links
	engine  string   // podman or docker: the rendering's, whatever c says
	header  string   // the first line of every file, without "# "
	volumes []string // podman/docker -v values: SRC:DST[:OPTS]
	env     []string // KEY=VALUE, sorted by key
	envFile string   // the EnvironmentFile when any value is sensitive
	// secretVolumes are docker's -v values of the secret files.
	secretVolumes []string
}

func newSpec(c *config.Container, links Links, engine string) (*spec, error) {
	s := &spec{c: c, links: links, engine: engine, header: units.HeaderFor(c.ID())}
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
	for _, l := range append(append([]NamedLink{}, links.Volumes...), links.Networks...) {
		if l.Engine != engine {
			return nil, attrErr(s.namedAttr(l), "%s %q is for engine %q; container %q runs on %q", kindOf(l), l.Block, l.Engine, c.Name, engine)
		}
	}
	for i, v := range c.Volumes {
		vol, err := s.volume(v, false)
		if err != nil {
			return nil, &attrError{attr: fmt.Sprintf("volume.source%d", i), err: err}
		}
		s.volumes = append(s.volumes, vol)
	}
	if err := s.checkOptions(); err != nil {
		return nil, err
	}
	if err := s.checkSecrets(); err != nil {
		return nil, err
	}
	if err := s.checkSettings(); err != nil {
		return nil, err
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
// quadlet's Volume= share. SRC is a host path, or the name of a volume
// block's volume; for a quadlet file, NAME.volume when that volume is a
// quadlet file too.
func (s *spec) volume(v config.Volume, quadlet bool) (string, error) {
	parts := [][2]string{{"volume source", v.Source}, {"volume target", v.Target}}
	if v.Named != "" {
		l, ok := s.links.volumeBlock(v.Named)
		if !ok || l.Name != v.Source {
			return "", fmt.Errorf("volume source %q must be volume.%s.name, the volume's name, as it is", v.Source, v.Named)
		}
		if !engineName.MatchString(v.Source) {
			return "", fmt.Errorf("volume name %q is not a name podman and docker accept", v.Source)
		}
		parts = parts[1:]
		if quadlet && l.Quadlet {
			v.Source = l.Block + ".volume"
		}
	}
	for _, p := range parts {
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

// unitDeps writes the [Unit] dependencies every rendering shares: the
// units of the containers, volumes and networks it uses (quadlet adds the
// latter itself for NAME.volume; saying it twice changes nothing).
func (s *spec) unitDeps(u *unitfile.File) {
	for _, n := range s.links.Units {
		u.AddOnce("Unit", "After", unitfile.Specifiers(n))
		u.AddOnce("Unit", "Requires", unitfile.Specifiers(n))
	}
	for _, l := range append(append([]NamedLink{}, s.links.Volumes...), s.links.Networks...) {
		u.AddOnce("Unit", "After", unitfile.Specifiers(l.Unit))
		u.AddOnce("Unit", "Requires", unitfile.Specifiers(l.Unit))
	}
	for _, p := range s.links.MountsFor {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(p)))
	}
}

func (s *spec) install(u *unitfile.File) {
	if s.c.Enabled {
		u.Add("Install", "WantedBy", "multi-user.target")
	}
	s.settings(u)
}

// RenderQuadlet renders a podman container as a quadlet .container file;
// quadlet's generator turns it into NAME.service at boot and daemon-reload.
func RenderQuadlet(c *config.Container, links Links) ([]units.File, error) {
	s, err := newSpec(c, links, "podman")
	if err != nil {
		return nil, err
	}
	// Quadlet reads these suffixes as references to its own units.
	if strings.HasSuffix(c.Image, ".image") || strings.HasSuffix(c.Image, ".build") {
		return nil, attrErr("image", "image %q ends like a quadlet unit name, which quadlet would look up; use quadlet = false", c.Image)
	}
	if _, _, linked := links.network(c.Network); !linked && (strings.HasSuffix(c.Network, ".network") || strings.HasSuffix(c.Network, ".container")) {
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
	// expands % and $: unitfile.Value and Word escape both.
	u.Add("Container", "ContainerName", c.Name)
	u.Add("Container", "Image", unitfile.Value(c.Image))
	if len(c.Command) > 0 {
		u.Add("Container", "Exec", unitfile.NewCmdline().Add(c.Command...).String())
	}
	for _, row := range config.ContainerOptions {
		if row.Key == "PodmanArgs" && c.Privileged {
			u.Add("Container", "PodmanArgs", "--privileged")
		}
		if !row.Builtin {
			if v, ok := c.Options[row.Attr]; ok {
				s.quadletLines(u, option{row, v})
			}
			continue
		}
		switch row.Key {
		case "Network":
			if c.Network == "" {
				break
			}
			n := c.Network
			if l, opts, ok := links.network(n); ok && l.Quadlet {
				n = l.Block + ".network"
				if opts != "" {
					n += ":" + opts
				}
			}
			u.Add("Container", "Network", unitfile.Value(n))
		case "SecurityLabelType":
			if c.SELinuxType != "" {
				u.Add("Container", "SecurityLabelType", unitfile.Value(c.SELinuxType))
			}
		case "SecurityLabelLevel":
			if c.SELinuxLevel != "" {
				u.Add("Container", "SecurityLabelLevel", unitfile.Value(c.SELinuxLevel))
			}
		case "User":
			if c.User != "" {
				u.Add("Container", "User", unitfile.Value(c.User))
			}
		case "Volume":
			for _, v := range c.Volumes {
				vol, _ := s.volume(v, true)
				u.Add("Container", "Volume", unitfile.Value(vol))
			}
		case "PublishPort":
			for _, p := range c.Publish {
				u.Add("Container", "PublishPort", unitfile.Value(p))
			}
		case "Environment":
			if s.envFile != "" {
				u.Add("Container", "EnvironmentFile", s.envFile)
			} else {
				for _, kv := range s.env {
					u.Add("Container", "Environment", unitfile.Word(kv))
				}
			}
		}
	}
	u.Add("Service", "Restart", c.Restart)
	s.install(u)
	return s.files(path.Join(host.QuadletDir, c.Name+".container"), u)
}

// runArgs adds the flags of every option to a podman run (quadlet's flags,
// in quadlet's order: podman v5.4 pkg/systemd/quadlet ConvertContainer) or
// docker run (docker's flag for each, else an error made in newSpec), then
// the image and its command. The two podman renderings run the same
// container flag for flag; a test holds them together.
func (s *spec) runArgs(cmd *unitfile.Cmdline, docker bool) {
	c := s.c
	for _, row := range config.ContainerOptions {
		if !row.Builtin {
			v, ok := c.Options[row.Attr]
			o := option{row, v}
			switch {
			case row.Key == "CgroupsMode" && !docker:
				// quadlet's default differs from podman's (enabled)
				if ok {
					cmd.Add("--cgroups", v.Str)
				} else {
					cmd.Raw("--cgroups=split")
				}
			case row.Key == "Notify":
				if !docker {
					cmd.Raw(s.notifyFlag(), "-d")
				}
			case row.Key == "EnvironmentFile":
				if s.envFile != "" {
					cmd.Add("--env-file", s.envFile)
				}
				if ok {
					s.args(cmd, o, row.Podman)
				}
			case row.Key == "PodmanArgs":
				if c.Privileged {
					cmd.Add("--privileged")
				}
				if ok {
					s.args(cmd, o, row.Podman)
				}
			case !ok, row.Key == "Group", row.Key == "Secret" && docker:
			case docker:
				s.args(cmd, o, row.Docker)
			default:
				s.args(cmd, o, row.Podman)
			}
			continue
		}
		switch row.Key {
		case "Network":
			if c.Network != "" {
				cmd.Add("--network", c.Network)
			}
		case "SecurityLabelType":
			if c.SELinuxType != "" {
				cmd.Add("--security-opt", "label=type:"+c.SELinuxType)
			}
		case "SecurityLabelLevel":
			if c.SELinuxLevel != "" {
				cmd.Add("--security-opt", "label=level:"+c.SELinuxLevel)
			}
		case "User":
			if c.User != "" {
				u := c.User
				if g, ok := c.Options["group"]; ok {
					u += ":" + g.Str
				}
				cmd.Add("--user", u)
			}
		case "Volume":
			for _, v := range s.volumes {
				cmd.Add("-v", v)
			}
			if docker {
				for _, v := range s.secretVolumes {
					cmd.Add("-v", v)
				}
			}
		case "PublishPort":
			flag := "--publish"
			if docker {
				flag = "-p"
			}
			for _, p := range c.Publish {
				cmd.Add(flag, p)
			}
		case "Environment":
			if s.envFile == "" {
				for _, kv := range s.env {
					cmd.Add("--env", kv)
				}
			}
		}
	}
	cmd.Add(c.Image)
	cmd.Add(c.Command...)
}

// podmanRun is the podman command line quadlet generates for the same
// container.
func (s *spec) podmanRun() *unitfile.Cmdline {
	cmd := unitfile.NewCmdline(Podman, "run")
	cmd.Add("--name", s.c.Name)
	// The cid file lets ExecStop remove the container even if conmon died.
	cmd.Raw("--cidfile=%t/%N.cid", "--replace", "--rm")
	s.runArgs(cmd, false)
	return cmd
}

// RenderPodmanService renders a podman container as a plain service running
// podman run, for hosts without quadlet (Debian 12's podman 4.3). It is the
// unit quadlet would generate from RenderQuadlet's file.
func RenderPodmanService(c *config.Container, links Links) ([]units.File, error) {
	s, err := newSpec(c, links, "podman")
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
		if v.Named == "" {
			u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(v.Source)))
		}
	}
	for _, src := range s.mountSources() {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(src)))
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
	if err := dockerRefuses(c); err != nil {
		return nil, err
	}
	s, err := newSpec(c, links, "docker")
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
		if v.Named == "" {
			u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(v.Source)))
		}
	}
	for _, src := range s.mountSources() {
		u.AddOnce("Unit", "RequiresMountsFor", unitfile.Quote(unitfile.Specifiers(src)))
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
	cmd := unitfile.NewCmdline(Docker, "run", "--rm")
	cmd.Add("--name", s.c.Name)
	s.runArgs(cmd, true)
	return cmd
}

// namedAttr is the attribute through which the container uses a volume or
// network block, for an error about the link.
func (s *spec) namedAttr(l NamedLink) string {
	if strings.HasSuffix(l.Unit, "-network.service") {
		return "network"
	}
	for i, v := range s.c.Volumes {
		if v.Named == l.Block {
			return fmt.Sprintf("volume.source%d", i)
		}
	}
	return "depends_on"
}

func kindOf(l NamedLink) string {
	if strings.HasSuffix(l.Unit, "-network.service") {
		return config.KindNetwork
	}
	return config.KindVolume
}
