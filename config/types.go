package config

import (
	"github.com/hashicorp/hcl/v2"
)

// Block kinds, as written in HCL. A resource's ID is "KIND.NAME".
const (
	KindModule    = "selinux_module"
	KindContainer = "container"
	KindMount     = "mount"
)

// Config is one configuration: a file or a directory of *.hcl files.
type Config struct {
	// Files maps each parsed file name to its source, for diagnostics.
	Files map[string]*hcl.File

	Variables  map[string]*Variable
	Modules    []*Module
	Containers []*Container
	Mounts     []*Mount
}

// Ref names another block; it is a dependency edge.
type Ref struct {
	Kind, Name string
	Range      hcl.Range
}

// ID is the resource ID the reference points at.
func (r Ref) ID() string { return r.Kind + "." + r.Name }

// Block is what every resource block has.
type Block struct {
	Kind, Name string
	DeclRange  hcl.Range
	// Deps are the blocks this one references or lists in depends_on, each once.
	Deps []Ref
	// Ranges of the attributes that were set, by name, for errors found later
	// (by the engine or a module) that must point at the attribute.
	Ranges map[string]hcl.Range
}

// ID is "KIND.NAME".
func (b *Block) ID() string { return b.Kind + "." + b.Name }

// AttrRange is the range of attribute name if it was set, else the block's.
func (b *Block) AttrRange(name string) hcl.Range {
	if r, ok := b.Ranges[name]; ok {
		return r
	}
	return b.DeclRange
}

// Variable is a `variable "NAME"` block with its resolved value.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
}

// Module formats.
const (
	FormatTE  = "te"
	FormatCIL = "cil"
	FormatPP  = "pp"
)

// Module is a `selinux_module "NAME"` block.
type Module struct {
	Block
	// Source is the absolute path of the source file, or "" for inline content.
	Source string
	// Content is the inline policy text when Source is "".
	Content  string
	Format   string // te, cil or pp
	Priority int
	Enabled  bool
}

// Volume is a container's `volume` block.
type Volume struct {
	Source, Target string
	ReadOnly       bool
	Relabel        string // none, shared (:z), private (:Z)
	// Mount is the mount block the source refers to (mount.NAME.where), if any.
	Mount string
	Range hcl.Range
}

// Relabel values.
const (
	RelabelNone    = "none"
	RelabelShared  = "shared"
	RelabelPrivate = "private"
)

// Container is a `container "NAME"` block.
type Container struct {
	Block
	Image           string
	Engine          string // podman or docker
	Command         []string
	Environment     map[string]string
	SELinuxType     string
	SELinuxLevel    string
	Volumes         []Volume
	Publish         []string
	Network         string
	User            string
	Restart         string
	Enabled         bool
	Privileged      bool
	AllowUnconfined bool
	// Quadlet chooses a quadlet .container file (true) or a plain podman run
	// .service (false) for engine podman; nil means decide from the host.
	Quadlet *bool
	// Sensitive names the environment keys whose values came from sensitive variables.
	Sensitive map[string]bool
}

// Mount is a `mount "NAME"` block: a systemd .mount unit.
type Mount struct {
	Block
	What, Where, Type string
	Options           []string
	SELinuxContext    string
	Enabled           bool
}
