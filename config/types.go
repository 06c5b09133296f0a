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
	Variables   map[string]*Variable
	Modules     []*Module
	Containers  []*Container
	Mounts      []*Mount
	Volumes     []*NamedVolume
	Networks    []*Network
	Booleans    []*Boolean
	FContexts   []*FContext
	Ports       []*Port
	Files       []*File
	Directories []*Directory
	Secrets     []*Secret
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

// TypeKey is what a resource that runs under an SELinux type needs, and
// what a module that declares the type provides: the engine restarts the
// one when the other changes.
func TypeKey(t string) string { return "selinux_type:" + t }

// ImageKey is what a container running ref on engine needs, and what the
// pull of that image provides: a container restarts with a newly pulled
// image.
func ImageKey(engine, ref string) string { return "image:" + engine + ":" + ref }

// HoldsSecrets reports whether the configuration holds a value that must
// not be stored in clear: a secret's, or one from a sensitive variable (a
// container's environment, a file's content).
func (c *Config) HoldsSecrets() bool {
	if len(c.Secrets) > 0 {
		return true
	}
	for _, ct := range c.Containers {
		if len(ct.Sensitive) > 0 {
			return true
		}
	}
	for _, f := range c.Files {
		if f.Sensitive {
			return true
		}
	}
	return false
}
