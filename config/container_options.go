package config

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// OptionType is the HCL type of a container option's attribute.
type OptionType int

// Option types.
const (
	OptString OptionType = iota
	OptBool
	OptNumber // a whole number, 0 or more
	OptList   // a list of strings: one quadlet line, one flag each
	OptMap    // a map of strings: KEY=VALUE, sorted by key
)

// Read is how quadlet reads a key from the .container file, which decides
// how seconf writes the value there (podman v5.4 pkg/systemd/parser).
type Read int

// Ways quadlet reads a value.
const (
	// ReadRaw (Lookup, LookupAll): the value as written; quadlet strips
	// surrounding double quotes and trailing whitespace.
	ReadRaw Read = iota
	// ReadWords (LookupAllStrv): whitespace-separated words, quotes removed.
	ReadWords
	// ReadArgs (LookupAllArgs): words as an Exec line, quoted and C-escaped.
	ReadArgs
	// ReadKeyVal (LookupAllKeyVal): KEY=VALUE words, as Environment=.
	ReadKeyVal
	// ReadBool (LookupBoolean).
	ReadBool
)

// ContainerOption is one key of quadlet's [Container] section: its
// attribute (the key in snake_case), its type, how quadlet reads it, and
// the flag it becomes on podman run (as quadlet generates it) and docker
// run. Adding a key is adding a line to ContainerOptions.
type ContainerOption struct {
	Key  string // quadlet's key
	Attr string // the container block's attribute
	Type OptionType
	Read Read
	// Podman is the flag quadlet generates; Prefix goes before the value
	// in the flag's argument (label=type:). A bool with IfTrue adds Podman
	// (and Prefix as its argument) only when true; other bools add
	// --flag or --flag=false, as quadlet's addBool does. Joined writes the
	// flag and its argument as one word, --flag=ARG.
	Podman, Prefix string
	IfTrue, Joined bool
	// Lower: quadlet lower-cases the value (capabilities).
	Lower bool
	// Docker is docker run's flag for the same thing, "" when docker has
	// none (a clear error then, at the attribute).
	Docker string
	// Token values name something (an address, a size, a path): no
	// whitespace, quotes or backslashes. Other strings are free text
	// (a health command) that each rendering carries as one word.
	Token bool
	// Builtin keys are the block's long-standing attributes (image,
	// network, volume, ...), decoded into their own fields; their row
	// keeps quadlet's order of flags in one place.
	Builtin bool
}

// ContainerOptions are the quadlet [Container] keys seconf carries, in the
// order quadlet's ConvertContainer adds their flags to podman run, so that
// the plain podman service lays its command out as quadlet does. Keys that
// quadlet adds from a Go map (the strings, lists and bools between
// CgroupsMode and Network) come out in random order from quadlet; their
// order here is fixed.
var ContainerOptions = []ContainerOption{
	{Key: "LogDriver", Attr: "log_driver", Type: OptString, Podman: "--log-driver", Docker: "--log-driver", Token: true},
	{Key: "LogOpt", Attr: "log_opt", Type: OptList, Read: ReadWords, Podman: "--log-opt", Docker: "--log-opt", Token: true},
	{Key: "CgroupsMode", Attr: "cgroups_mode", Type: OptString, Podman: "--cgroups", Token: true},
	{Key: "Timezone", Attr: "timezone", Type: OptString, Podman: "--tz", Token: true},
	{Key: "PidsLimit", Attr: "pids_limit", Type: OptNumber, Podman: "--pids-limit", Docker: "--pids-limit"},
	{Key: "ShmSize", Attr: "shm_size", Type: OptString, Podman: "--shm-size", Docker: "--shm-size", Token: true},
	{Key: "Entrypoint", Attr: "entrypoint", Type: OptString, Podman: "--entrypoint", Docker: "--entrypoint"},
	{Key: "WorkingDir", Attr: "working_dir", Type: OptString, Podman: "--workdir", Docker: "--workdir"},
	{Key: "IP", Attr: "ip", Type: OptString, Podman: "--ip", Docker: "--ip", Token: true},
	{Key: "IP6", Attr: "ip6", Type: OptString, Podman: "--ip6", Docker: "--ip6", Token: true},
	{Key: "HostName", Attr: "host_name", Type: OptString, Podman: "--hostname", Docker: "--hostname", Token: true},
	{Key: "StopSignal", Attr: "stop_signal", Type: OptString, Podman: "--stop-signal", Docker: "--stop-signal", Token: true},
	{Key: "StopTimeout", Attr: "stop_timeout", Type: OptNumber, Podman: "--stop-timeout", Docker: "--stop-timeout"},
	{Key: "Pull", Attr: "pull", Type: OptString, Podman: "--pull", Docker: "--pull", Token: true},
	{Key: "NetworkAlias", Attr: "network_alias", Type: OptList, Podman: "--network-alias", Docker: "--network-alias", Token: true},
	{Key: "Ulimit", Attr: "ulimit", Type: OptList, Podman: "--ulimit", Docker: "--ulimit", Token: true},
	{Key: "DNS", Attr: "dns", Type: OptList, Podman: "--dns", Docker: "--dns", Token: true},
	{Key: "DNSOption", Attr: "dns_option", Type: OptList, Podman: "--dns-option", Docker: "--dns-option", Token: true},
	{Key: "DNSSearch", Attr: "dns_search", Type: OptList, Podman: "--dns-search", Docker: "--dns-search", Token: true},
	{Key: "GroupAdd", Attr: "group_add", Type: OptList, Podman: "--group-add", Docker: "--group-add", Token: true},
	{Key: "AddHost", Attr: "add_host", Type: OptList, Podman: "--add-host", Docker: "--add-host", Token: true},
	{Key: "Tmpfs", Attr: "tmpfs", Type: OptList, Podman: "--tmpfs", Docker: "--tmpfs", Token: true},
	{Key: "RunInit", Attr: "run_init", Type: OptBool, Read: ReadBool, Podman: "--init", Docker: "--init"},
	{Key: "EnvironmentHost", Attr: "environment_host", Type: OptBool, Read: ReadBool, Podman: "--env-host"},
	{Key: "ReadOnlyTmpfs", Attr: "read_only_tmpfs", Type: OptBool, Read: ReadBool, Podman: "--read-only-tmpfs"},
	{Key: "Network", Attr: "network", Builtin: true},
	{Key: "Notify", Attr: "notify", Type: OptString, Podman: "--sdnotify", Token: true},
	{Key: "NoNewPrivileges", Attr: "no_new_privileges", Type: OptBool, Read: ReadBool, Podman: "--security-opt=no-new-privileges", IfTrue: true, Docker: "--security-opt=no-new-privileges"},
	{Key: "SecurityLabelDisable", Attr: "security_label_disable", Type: OptBool, Read: ReadBool, Podman: "--security-opt", Prefix: "label=disable", IfTrue: true, Docker: "--security-opt"},
	{Key: "SecurityLabelNested", Attr: "security_label_nested", Type: OptBool, Read: ReadBool, Podman: "--security-opt", Prefix: "label=nested", IfTrue: true},
	{Key: "SecurityLabelType", Attr: "selinux_type", Builtin: true},
	{Key: "SecurityLabelFileType", Attr: "security_label_file_type", Type: OptString, Podman: "--security-opt", Prefix: "label=filetype:", Token: true},
	{Key: "SecurityLabelLevel", Attr: "selinux_level", Builtin: true},
	{Key: "AddDevice", Attr: "add_device", Type: OptList, Read: ReadWords, Podman: "--device", Docker: "--device", Token: true},
	{Key: "SeccompProfile", Attr: "seccomp_profile", Type: OptString, Podman: "--security-opt", Prefix: "seccomp=", Docker: "--security-opt", Token: true},
	{Key: "DropCapability", Attr: "drop_capability", Type: OptList, Read: ReadWords, Podman: "--cap-drop", Lower: true, Docker: "--cap-drop", Token: true},
	{Key: "AddCapability", Attr: "add_capability", Type: OptList, Read: ReadWords, Podman: "--cap-add", Lower: true, Docker: "--cap-add", Token: true},
	{Key: "Sysctl", Attr: "sysctl", Type: OptMap, Read: ReadWords, Podman: "--sysctl", Docker: "--sysctl", Token: true},
	{Key: "ReadOnly", Attr: "read_only", Type: OptBool, Read: ReadBool, Podman: "--read-only", Docker: "--read-only"},
	{Key: "User", Attr: "user", Builtin: true},
	{Key: "Group", Attr: "group", Type: OptString, Podman: "--user", Docker: "--user", Token: true},
	{Key: "UserNS", Attr: "user_ns", Type: OptString, Podman: "--userns", Token: true},
	{Key: "UIDMap", Attr: "uid_map", Type: OptList, Read: ReadWords, Podman: "--uidmap", Token: true},
	{Key: "GIDMap", Attr: "gid_map", Type: OptList, Read: ReadWords, Podman: "--gidmap", Token: true},
	{Key: "SubUIDMap", Attr: "sub_uid_map", Type: OptString, Podman: "--subuidname", Token: true},
	{Key: "SubGIDMap", Attr: "sub_gid_map", Type: OptString, Podman: "--subgidname", Token: true},
	{Key: "Volume", Attr: "volume", Builtin: true},
	{Key: "AutoUpdate", Attr: "auto_update", Type: OptString, Podman: "--label", Prefix: "io.containers.autoupdate=", Token: true},
	{Key: "ExposeHostPort", Attr: "expose_host_port", Type: OptList, Podman: "--expose", Docker: "--expose", Token: true},
	{Key: "PublishPort", Attr: "publish", Builtin: true},
	{Key: "Environment", Attr: "environment", Builtin: true},
	{Key: "Label", Attr: "label", Type: OptMap, Read: ReadKeyVal, Podman: "--label", Docker: "--label"},
	{Key: "Annotation", Attr: "annotation", Type: OptMap, Read: ReadKeyVal, Podman: "--annotation", Docker: "--annotation"},
	{Key: "Mask", Attr: "mask", Type: OptList, Read: ReadArgs, Podman: "--security-opt", Prefix: "mask=", Token: true},
	{Key: "Unmask", Attr: "unmask", Type: OptList, Read: ReadArgs, Podman: "--security-opt", Prefix: "unmask=", Token: true},
	{Key: "EnvironmentFile", Attr: "environment_file", Type: OptList, Read: ReadArgs, Podman: "--env-file", Docker: "--env-file"},
	{Key: "Secret", Attr: "secret", Type: OptList, Read: ReadArgs, Podman: "--secret", Token: true},
	{Key: "Mount", Attr: "mount", Type: OptList, Read: ReadArgs, Podman: "--mount", Docker: "--mount"},
	{Key: "HealthCmd", Attr: "health_cmd", Type: OptString, Podman: "--health-cmd", Docker: "--health-cmd"},
	{Key: "HealthInterval", Attr: "health_interval", Type: OptString, Podman: "--health-interval", Docker: "--health-interval", Token: true},
	{Key: "HealthOnFailure", Attr: "health_on_failure", Type: OptString, Podman: "--health-on-failure", Token: true},
	{Key: "HealthLogDestination", Attr: "health_log_destination", Type: OptString, Podman: "--health-log-destination", Token: true},
	{Key: "HealthMaxLogCount", Attr: "health_max_log_count", Type: OptNumber, Podman: "--health-max-log-count"},
	{Key: "HealthMaxLogSize", Attr: "health_max_log_size", Type: OptNumber, Podman: "--health-max-log-size"},
	{Key: "HealthRetries", Attr: "health_retries", Type: OptNumber, Podman: "--health-retries", Docker: "--health-retries"},
	{Key: "HealthStartPeriod", Attr: "health_start_period", Type: OptString, Podman: "--health-start-period", Docker: "--health-start-period", Token: true},
	{Key: "HealthTimeout", Attr: "health_timeout", Type: OptString, Podman: "--health-timeout", Docker: "--health-timeout", Token: true},
	{Key: "HealthStartupCmd", Attr: "health_startup_cmd", Type: OptString, Podman: "--health-startup-cmd"},
	{Key: "HealthStartupInterval", Attr: "health_startup_interval", Type: OptString, Podman: "--health-startup-interval", Token: true},
	{Key: "HealthStartupRetries", Attr: "health_startup_retries", Type: OptNumber, Podman: "--health-startup-retries"},
	{Key: "HealthStartupSuccess", Attr: "health_startup_success", Type: OptNumber, Podman: "--health-startup-success"},
	{Key: "HealthStartupTimeout", Attr: "health_startup_timeout", Type: OptString, Podman: "--health-startup-timeout", Token: true},
	{Key: "PodmanArgs", Attr: "podman_args", Type: OptList, Read: ReadArgs, Podman: "", Docker: "", Token: true},
}

// ContainerOptionByAttr returns the option of an attribute.
func ContainerOptionByAttr(attr string) (ContainerOption, bool) {
	for _, o := range ContainerOptions {
		if o.Attr == attr {
			return o, true
		}
	}
	return ContainerOption{}, false
}

// OptionValue is the value of one container option, in the field its type
// uses.
type OptionValue struct {
	Str  string
	Bool bool
	Num  int64
	List []string
	Map  map[string]string
}

// Strings is the value as the words it becomes, in order: a list as is, a
// map as KEY=VALUE sorted by key, a string or number as one word.
func (v OptionValue) Strings(t OptionType) []string {
	switch t {
	case OptList:
		return v.List
	case OptMap:
		keys := make([]string, 0, len(v.Map))
		for k := range v.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, k+"="+v.Map[k])
		}
		return out
	case OptNumber:
		return []string{fmt.Sprint(v.Num)}
	case OptBool:
		return []string{fmt.Sprint(v.Bool)}
	}
	return []string{v.Str}
}

// PodmanArgsAllowed are the podman run options podman_args may carry:
// resource limits, which have no quadlet key of their own in podman 5.4
// and do not touch confinement. Each is written --flag=VALUE, one word, so
// that no value stands alone on the command line. docker run spells them
// alike.
var PodmanArgsAllowed = []string{
	"--memory", "--memory-reservation", "--memory-swap", "--memory-swappiness",
	"--cpus", "--cpu-shares", "--cpu-period", "--cpu-quota", "--cpuset-cpus", "--cpuset-mems",
	"--blkio-weight", "--oom-score-adj", "--oom-kill-disable",
}

// SystemdSetting is one KEY = VALUE (or a list of values) of a container's
// service, unit or install map: a systemd setting passed through after the
// checks of the rendering.
type SystemdSetting struct {
	Key    string
	Values []string
}

// quadletAliases: quadlet's name for an attribute the block has always had
// under another name. Either may be written, not both.
var quadletAliases = map[string]string{
	"security_label_type":  "selinux_type",
	"security_label_level": "selinux_level",
	"publish_port":         "publish",
}

// quadletUnsupported are quadlet [Container] keys seconf does not carry,
// with what to write instead and why, so that a quadlet user learns it at
// the attribute rather than from "Unsupported argument".
var quadletUnsupported = map[string]string{
	"exec":                   "write command = [...]: the container's arguments after the image",
	"container_name":         "the container is named after the block (container \"NAME\")",
	"service_name":           "the service is named after the block (NAME.service)",
	"pod":                    "pods are not supported yet: run each container on its own, on a shared network block",
	"start_with_pod":         "pods are not supported yet",
	"rootfs":                 "seconf runs images; a host directory as a container's root would need container_file_t on it",
	"global_args":            "arbitrary podman options are refused: they can switch confinement off (--security-opt label=disable); every option seconf allows has its own attribute",
	"containers_conf_module": "a containers.conf module can switch SELinux labelling off for the container (label = false); set what you need through the container's attributes",
	"volatile_tmp":           "deprecated by quadlet: write tmpfs = [\"/tmp\"]",
	"remap_users":            "deprecated by quadlet: write user_ns, uid_map and gid_map",
	"remap_uid":              "deprecated by quadlet: write uid_map",
	"remap_gid":              "deprecated by quadlet: write gid_map",
	"remap_uid_size":         "deprecated by quadlet: write user_ns = \"auto:size=N\"",
}

// containerOptionSchema is the schema of the option attributes.
func containerOptionSchema() []hcl.AttributeSchema {
	var out []hcl.AttributeSchema
	for _, o := range ContainerOptions {
		if !o.Builtin {
			out = append(out, hcl.AttributeSchema{Name: o.Attr})
		}
	}
	for _, n := range []string{"service", "unit", "install"} {
		out = append(out, hcl.AttributeSchema{Name: n})
	}
	for a := range quadletAliases {
		out = append(out, hcl.AttributeSchema{Name: a})
	}
	for a := range quadletUnsupported {
		out = append(out, hcl.AttributeSchema{Name: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// decodeContainerOptions decodes the quadlet option attributes, the
// aliases and the systemd maps of a container block. It runs before the
// confinement checks, which see the aliases' values.
func (l *loader) decodeContainerOptions(c *Container, a *attrs) {
	// In a fixed order, so that the same block gives the same errors.
	for _, alias := range slices.Sorted(maps.Keys(quadletAliases)) {
		canon := quadletAliases[alias]
		if _, ok := a.attrs[alias]; !ok {
			continue
		}
		if _, both := a.attrs[canon]; both {
			rng := a.attrs[alias].Expr.Range()
			l.errorf(&rng, "Conflicting arguments", "%s is quadlet's name for %s; set one of them.", alias, canon)
			continue
		}
		switch canon {
		case "selinux_type":
			c.SELinuxType = a.str(alias, "")
		case "selinux_level":
			c.SELinuxLevel = a.str(alias, "")
		case "publish":
			c.Publish = a.strList(alias)
		}
		a.blk.Ranges[canon] = a.blk.Ranges[alias]
	}
	for _, name := range slices.Sorted(maps.Keys(quadletUnsupported)) {
		why := quadletUnsupported[name]
		if attr, ok := a.attrs[name]; ok {
			rng := attr.NameRange
			l.errorf(&rng, "Unsupported quadlet key", "%s is not supported: %s.", name, why)
		}
	}
	for _, o := range ContainerOptions {
		if o.Builtin {
			continue
		}
		if _, ok := a.attrs[o.Attr]; !ok {
			continue
		}
		if v, ok := a.option(o); ok {
			if c.Options == nil {
				c.Options = map[string]OptionValue{}
			}
			c.Options[o.Attr] = v
		}
	}
	c.Service = a.systemdMap("service")
	c.Unit = a.systemdMap("unit")
	c.Install = a.systemdMap("install")
}

// option evaluates one option attribute by its type. A value from a
// sensitive variable is refused: options are written into unit files,
// which anyone on the host may read.
func (a *attrs) option(o ContainerOption) (OptionValue, bool) {
	want := map[OptionType]cty.Type{
		OptString: cty.String, OptBool: cty.Bool, OptNumber: cty.Number,
		OptList: cty.List(cty.String), OptMap: cty.Map(cty.String),
	}[o.Type]
	v, ok := a.value(o.Attr, want)
	if !ok {
		return OptionValue{}, false
	}
	if v.ContainsMarked() {
		rng := a.blk.AttrRange(o.Attr)
		a.l.errorf(&rng, "Sensitive value in a unit file",
			"%s would be written into a unit file, which anyone on the host can read; a sensitive value may only go to environment (it then travels in a 0600 file) or to a podman secret.", o.Attr)
		return OptionValue{}, false
	}
	a.elementRanges(o.Attr)
	var out OptionValue
	switch o.Type {
	case OptString:
		out.Str = v.AsString()
		a.noControl(o.Attr, out.Str)
	case OptBool:
		out.Bool = v.True()
	case OptNumber:
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if !bf.IsInt() || acc != 0 || n < 0 {
			rng := a.blk.AttrRange(o.Attr)
			a.l.errorf(&rng, "Invalid number", "%s must be a whole number, 0 or more.", o.Attr)
			return OptionValue{}, false
		}
		out.Num = n
	case OptList:
		for _, e := range v.AsValueSlice() {
			a.noControl(o.Attr, e.AsString())
			out.List = append(out.List, e.AsString())
		}
	case OptMap:
		out.Map = map[string]string{}
		for k, e := range v.AsValueMap() {
			a.noControl(o.Attr, k)
			a.noControl(o.Attr, e.AsString())
			if k == "" || strings.ContainsAny(k, "= \t") {
				rng := a.blk.AttrRange(o.Attr + "." + k)
				a.l.errorf(&rng, "Invalid key", "%s: the key %q cannot be written as KEY=VALUE; use a non-empty key without '=' or spaces.", o.Attr, k)
			}
			out.Map[k] = e.AsString()
		}
	}
	return out, true
}

// elementRanges records the range of each element of a list ("attr[i]")
// and of each item of a map ("attr.KEY") written literally, so that an
// error about one element points at it.
func (a *attrs) elementRanges(name string) {
	attr, ok := a.attrs[name]
	if !ok {
		return
	}
	switch e := attr.Expr.(type) {
	case *hclsyntax.TupleConsExpr:
		for i, x := range e.Exprs {
			a.blk.Ranges[fmt.Sprintf("%s[%d]", name, i)] = x.Range()
		}
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			k, d := item.KeyExpr.Value(nil)
			if d.HasErrors() || k.IsNull() || !k.IsKnown() {
				continue
			}
			if ks, err := convertString(k); err == nil {
				a.blk.Ranges[name+"."+ks] = hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			}
		}
	}
}

func convertString(v cty.Value) (string, error) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return v.AsBigFloat().String(), nil
	}
	return "", fmt.Errorf("not a string")
}

// systemdMap decodes a map of systemd settings: each value a string, a
// number, a bool or a list of them (a key written several times). Keys
// come out sorted; which keys are allowed is the rendering's to say.
func (a *attrs) systemdMap(name string) []SystemdSetting {
	v, ok := a.value(name, cty.DynamicPseudoType)
	if !ok {
		return nil
	}
	rng := a.blk.AttrRange(name)
	if v.ContainsMarked() {
		a.l.errorf(&rng, "Sensitive value in a unit file", "%s is written into a unit file, which anyone on the host can read; a sensitive value cannot go there.", name)
		return nil
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		a.l.errorf(&rng, "Incorrect attribute value type", "%s must be a map of systemd settings, such as { TimeoutStartSec = 900 }.", name)
		return nil
	}
	a.elementRanges(name)
	var out []SystemdSetting
	for k, e := range v.AsValueMap() {
		krng := a.blk.AttrRange(name + "." + k)
		var vals []cty.Value
		if e.Type().IsListType() || e.Type().IsTupleType() || e.Type().IsSetType() {
			vals = e.AsValueSlice()
		} else {
			vals = []cty.Value{e}
		}
		s := SystemdSetting{Key: k}
		for _, x := range vals {
			if x.IsNull() || !x.Type().IsPrimitiveType() {
				a.l.errorf(&krng, "Incorrect attribute value type", "%s.%s: each value must be a string, a number or a bool.", name, k)
				s.Values = nil
				break
			}
			str, err := primitiveString(x)
			if err != nil {
				a.l.errorf(&krng, "Incorrect attribute value type", "%s.%s: %v.", name, k, err)
				break
			}
			a.noControl(name+"."+k, str)
			s.Values = append(s.Values, str)
		}
		if len(vals) == 0 {
			a.l.errorf(&krng, "Missing value", "%s.%s has no value; give one, or leave the key out.", name, k)
		}
		if len(s.Values) > 0 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func primitiveString(v cty.Value) (string, error) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Bool:
		if v.True() {
			return "yes", nil
		}
		return "no", nil
	case cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			return bf.Text('f', 0), nil
		}
		return bf.Text('f', -1), nil
	}
	return "", fmt.Errorf("a %s is not a systemd value", v.Type().FriendlyName())
}
