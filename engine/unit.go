package engine

import (
	"io/fs"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/host"
)

// File is one file a unit is made of.
type File struct {
	Path string // host path, e.g. /etc/systemd/system/logger.service
	Data []byte
	Mode fs.FileMode
	// Sensitive files (an EnvironmentFile with secrets) never reach output.
	Sensitive bool
}

// Unit is what a container or mount block becomes: files seconf writes and
// the systemd unit they define.
type Unit struct {
	ID    string    // resource ID, e.g. container.logger
	Range hcl.Range // the block
	Name  string    // the unit systemd runs, e.g. logger.service
	Files []File
	// Enable starts the unit at boot. Offline, seconf makes the WantedBy
	// symlinks as systemctl --root does; for a Generated unit the generator
	// makes them at boot from the file's [Install] section.
	Enable   bool
	WantedBy []string
	// Generated is true when Name is made by a systemd generator (quadlet)
	// from Files, and so cannot be enabled with symlinks.
	Generated bool
	// Start says whether apply starts (and restarts) the unit online; a unit
	// with Enable false is written but left alone.
	Start bool
	// Deps are the resource IDs whose change restarts this unit.
	Deps []string
	// SELinuxType is the type the unit runs a container under: when a
	// selinux_module of the config that declares it changes, the unit
	// restarts, even without a reference to the module.
	SELinuxType string
}

// UnitSource turns the blocks of one kind into units. It is pure apart from
// reading the host to choose a rendering (is quadlet installed?).
type UnitSource interface {
	Kind() string
	Units(cfg *config.Config, h *host.Host) ([]*Unit, error)
}

// Header is the first line of every file seconf writes: it is how seconf
// recognises a file it owns, and tells a person not to edit it.
const Header = "# Managed by seconf"
