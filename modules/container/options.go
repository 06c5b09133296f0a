package container

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"seconf/config"
	"seconf/internal/lazyre"
	"seconf/internal/unitfile"
)

// option is one set container option with its row of config.ContainerOptions.
type option struct {
	config.ContainerOption
	v config.OptionValue
}

// words is the option's value as the words it becomes, before Lower and
// Prefix: each list element, each map item as KEY=VALUE.
func (o option) words() []string { return o.v.Strings(o.Type) }

// elem names element i of the option for an error: attr[i] for a list,
// attr.KEY for a map, else the attribute.
func (o option) elem(i int) string {
	switch o.Type {
	case config.OptList:
		return fmt.Sprintf("%s[%d]", o.Attr, i)
	case config.OptMap:
		k, _, _ := strings.Cut(o.words()[i], "=")
		return o.Attr + "." + k
	}
	return o.Attr
}

// options are the container's set options, in the table's order.
func options(c *config.Container) []option {
	var out []option
	for _, row := range config.ContainerOptions {
		if v, ok := c.Options[row.Attr]; ok && !row.Builtin {
			out = append(out, option{row, v})
		}
	}
	return out
}

// portRange is what quadlet accepts for ExposeHostPort.
var portRange = lazyre.New(`^\d+(-\d+)?(/udp|/tcp)?$`)

// checkOptions holds every option value to what all renderings carry
// unchanged (checkValue), plus the rules of particular keys.
func (s *spec) checkOptions() error {
	c := s.c
	for _, o := range options(c) {
		for i, w := range o.words() {
			if err := checkValue(o, w); err != nil {
				return &attrError{attr: o.elem(i), err: err}
			}
		}
		switch o.Key {
		case "Notify":
			switch strings.ToLower(o.v.Str) {
			case "true", "false", "healthy":
			default:
				return attrErr(o.Attr, "notify %q is not one of true, false, healthy", o.v.Str)
			}
		case "Group":
			if c.User == "" {
				return attrErr(o.Attr, "group needs user: quadlet and podman set both as --user USER:GROUP")
			}
		case "ExposeHostPort":
			for i, p := range o.v.List {
				if !portRange.MatchString(p) {
					return attrErr(o.elem(i), "expose_host_port %q is not a port or a range of ports (80, 8000-8010, 53/udp)", p)
				}
			}
		case "AddDevice":
			for i, d := range o.v.List {
				host, _, _ := strings.Cut(d, ":")
				if !strings.HasPrefix(host, "/dev/") || path.Clean(host) != host {
					return attrErr(o.elem(i), "add_device %q must start with a normalised device path under /dev (quadlet's optional '-' prefix depends on the generator's host and is not supported)", d)
				}
			}
		case "EnvironmentFile", "HealthLogDestination":
			for i, f := range o.words() {
				if o.Key == "HealthLogDestination" && (f == "local" || f == "events_logger") {
					continue
				}
				if !path.IsAbs(f) || path.Clean(f) != f {
					return attrErr(o.elem(i), "%s %q must be an absolute, normalised path: quadlet would resolve a relative one against its own directory", o.Attr, f)
				}
			}
		case "PodmanArgs":
			// config refuses these at load; a rendering never writes one
			for i, a := range o.v.List {
				if f, _, ok := strings.Cut(a, "="); !ok || !slices.Contains(config.PodmanArgsAllowed, f) {
					return attrErr(o.elem(i), "podman_args %q is not an allowed --flag=VALUE", a)
				}
			}
		case "Mount":
			for i, m := range o.v.List {
				if _, err := s.mount(m, false); err != nil {
					return &attrError{attr: o.elem(i), err: err}
				}
			}
		}
	}
	return nil
}

// checkValue refuses a value no rendering can carry unchanged. Every value
// is checked for control characters; one that stands alone on the command
// line may not start with '-' (podman and docker would read an option);
// a token names something and holds no whitespace, quotes or
// backslashes; a raw value (quadlet copies it as written) may not begin or
// end with whitespace or a double quote (quadlet strips them) nor end in a
// backslash (a line continuation).
func checkValue(o option, w string) error {
	if err := checkText(o.Attr, w); err != nil {
		return err
	}
	if o.Type == config.OptBool {
		return nil
	}
	if w == "" {
		return fmt.Errorf("%s is empty", o.Attr)
	}
	if o.Prefix == "" && strings.HasPrefix(w, "-") && o.Key != "PodmanArgs" {
		return fmt.Errorf("%s %q starts with '-', which podman and docker would read as an option; remove it", o.Attr, w)
	}
	if o.Token {
		if i := strings.IndexFunc(w, func(r rune) bool {
			return unicode.IsSpace(r) || r == '"' || r == '\'' || r == '\\' || !unicode.IsPrint(r)
		}); i >= 0 {
			return fmt.Errorf("%s %q holds %q, which cannot reach a unit file unchanged; remove it", o.Attr, w, []rune(w[i:])[0])
		}
	}
	if o.Read == config.ReadRaw {
		if strings.TrimFunc(w, unicode.IsSpace) != w || strings.HasPrefix(w, `"`) || strings.HasSuffix(w, `"`) || strings.HasSuffix(w, `\`) {
			return fmt.Errorf("%s %q begins or ends with a space, a double quote or a backslash, which quadlet would drop or misread", o.Attr, w)
		}
	}
	return nil
}

// quadletLines writes the option's [Container] lines, each escaped for how
// quadlet reads the key and for ExecStart=, where quadlet copies it.
func (s *spec) quadletLines(u *unitfile.File, o option) {
	switch o.Read {
	case config.ReadBool:
		u.Add("Container", o.Key, fmt.Sprint(o.v.Bool))
		return
	case config.ReadArgs, config.ReadKeyVal:
		for _, w := range o.words() {
			if o.Key == "Mount" {
				w, _ = s.mount(w, true)
			}
			u.Add("Container", o.Key, unitfile.Word(w))
		}
		return
	}
	for _, w := range o.words() {
		u.Add("Container", o.Key, unitfile.Value(w))
	}
}

// args adds the option's flags to a command line: podman's as quadlet
// generates them, or docker's equivalent (flag is the engine's flag).
func (s *spec) args(cmd *unitfile.Cmdline, o option, flag string) {
	if o.Type == config.OptBool {
		switch {
		case o.IfTrue && o.v.Bool:
			cmd.Add(flag)
			if o.Prefix != "" {
				cmd.Add(o.Prefix)
			}
		case !o.IfTrue && o.v.Bool:
			cmd.Add(flag)
		case !o.IfTrue:
			cmd.Add(flag + "=false")
		}
		return
	}
	for _, w := range o.words() {
		if o.Lower {
			w = strings.ToLower(w)
		}
		if o.Key == "Mount" {
			w, _ = s.mount(w, false)
		}
		if o.Key == "PodmanArgs" {
			cmd.Add(w)
			continue
		}
		cmd.Add(flag, o.Prefix+w)
	}
}

// mount is a --mount value as quadlet passes it to podman: type= first,
// and a source that is a named volume of the configuration written as
// NAME.volume in the quadlet file (quadlet then resolves it and orders
// the container after the volume's service).
func (s *spec) mount(v string, quadlet bool) (string, error) {
	m, err := config.ParseMount(v)
	if err != nil {
		return "", err
	}
	src, i, ok := m.Source()
	if strings.HasPrefix(src, "/") || m.Type == "bind" || m.Type == "glob" {
		// a host path: quadlet copies it into RequiresMountsFor=, where
		// whitespace separates and $ is not unescaped
		if err := checkToken("mount source", src); err != nil {
			return "", err
		}
		if !path.IsAbs(src) || strings.Contains(src, "$") || m.Type == "bind" && path.Clean(src) != src {
			return "", fmt.Errorf("mount source %q must be an absolute, normalised path without '$'", src)
		}
	}
	if strings.HasPrefix(src, ".") {
		return "", fmt.Errorf("mount source %q would be resolved by quadlet against its own directory; write an absolute path or a volume name", src)
	}
	if m.Type == "volume" || m.Type == "image" {
		if ok && (strings.HasSuffix(src, ".volume") || strings.HasSuffix(src, ".image")) {
			return "", fmt.Errorf("mount source %q ends like a quadlet unit name, which quadlet would look up; refer to a volume block instead (source=${volume.NAME.name})", src)
		}
		if ok && quadlet && m.Type == "volume" {
			if l, linked := s.links.volumeByName(src); linked && l.Quadlet {
				m.Fields[i] = "source=" + l.Block + ".volume"
			}
		}
	}
	if s.engine == "docker" {
		if f, bad := dockerMountRefuses(m); bad {
			return "", fmt.Errorf("docker's --mount has no %q option; use a volume block with relabel for SELinux labels", f)
		}
	}
	return m.String(), nil
}

// dockerMountRefuses: options podman's --mount takes that docker's does not.
func dockerMountRefuses(m config.MountSpec) (string, bool) {
	for _, f := range m.Fields {
		k, _, _ := strings.Cut(f, "=")
		switch k {
		case "relabel", "z", "Z", "U", "chown", "idmap", "no-dereference", "volume-subpath", "subpath":
			return f, true
		}
	}
	return "", false
}

// mountSources are the host paths of bind and glob mounts: quadlet adds
// RequiresMountsFor= for each.
func (s *spec) mountSources() []string {
	var out []string
	for _, v := range s.c.Options["mount"].List {
		m, err := config.ParseMount(v)
		if err != nil {
			continue
		}
		if src, _, ok := m.Source(); ok && strings.HasPrefix(src, "/") {
			out = append(out, src)
		}
	}
	return out
}

// notifyFlag is podman's --sdnotify for the Notify option, as quadlet
// sets it.
func (s *spec) notifyFlag() string {
	switch strings.ToLower(s.c.Options["notify"].Str) {
	case "healthy":
		return "--sdnotify=healthy"
	case "true":
		return "--sdnotify=container"
	}
	return "--sdnotify=conmon"
}

// dockerRefuses reports an option docker has no equivalent for, or whose
// value docker reads otherwise.
func dockerRefuses(c *config.Container) error {
	if e, ok := c.Options["entrypoint"]; ok && strings.HasPrefix(e.Str, "[") {
		return attrErr("entrypoint", "docker's --entrypoint is one executable; a JSON array of words is podman's reading. Give the executable, and its arguments in command")
	}
	if p, ok := c.Options["pull"]; ok && p.Str == "newer" {
		return attrErr("pull", "docker's --pull has no \"newer\"; use always, missing or never")
	}
	for _, o := range options(c) {
		// Secret: files of secret blocks, mounted (checkSecrets).
		if o.Docker != "" || o.Key == "PodmanArgs" || o.Key == "Group" || o.Key == "Secret" {
			continue
		}
		if o.Key == "Notify" && strings.ToLower(o.v.Str) == "false" {
			continue
		}
		return attrErr(o.Attr, "docker run has no equivalent of quadlet's %s (podman %s); remove %s or use engine = \"podman\"", o.Key, o.Podman, o.Attr)
	}
	return nil
}
