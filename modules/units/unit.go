package units

import (
	"bytes"
	"context"
	"fmt"
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

// Unit is what a container, mount or timer becomes: files seconf writes
// and the systemd unit they define.
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
	// Needs are what the unit uses from other resources (their IDs, an
	// SELinux type): when one of them changes, the engine restarts it.
	Needs []string
}

// Source turns the blocks of one kind into units. Rendering is pure; the
// host is read only to choose a rendering (is quadlet installed?).
type Source interface {
	Kind() string
	// Validate renders every block without a host and reports what cannot
	// be rendered, at the attribute responsible.
	Validate(cfg *config.Config) hcl.Diagnostics
	Units(ctx context.Context, cfg *config.Config, h *host.Host) ([]*Unit, hcl.Diagnostics)
}

// Header starts every file seconf writes: it is how seconf recognises a
// file it owns, and tells a person not to edit it.
const Header = "# Managed by seconf"

// HeaderFor is the first line of a file of resource id, without the "# ".
// It names the resource, not the .hcl file: moving or renaming the
// configuration must not rewrite (and restart) every unit.
func HeaderFor(id string) string {
	return fmt.Sprintf("%s (%s). Edits are overwritten.", Header[2:], id)
}

// Owned reports whether a file on the host was written by seconf.
func Owned(data []byte) bool { return bytes.HasPrefix(data, []byte(Header)) }

// body is a file without its header line: two files of seconf's that
// differ only there (an older seconf named the .hcl file in it) are the
// same unit.
func body(data []byte) []byte {
	if !Owned(data) {
		return data
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[i+1:]
	}
	return nil
}
