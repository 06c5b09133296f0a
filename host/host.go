package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Mode says whether seconf works on the running system or on a tree.
type Mode int

const (
	// Online: the live host. Policy is loaded, systemd is driven over D-Bus.
	Online Mode = iota
	// Offline: a tree (an image, a test root) that no kernel or systemd is
	// running from. Files and the policy store are changed under the root;
	// nothing is loaded, reloaded or started.
	Offline
)

// Host is everything seconf may touch: one root, one runner, one systemd.
type Host struct {
	// Root is the directory everything is read and written under: "/" for
	// the live host.
	Root   string
	Mode   Mode
	FS     FS
	Runner Runner
	Log    io.Writer
	// Progress receives long operations' progress (image pulls) when a
	// person watches: the CLI sets it to a terminal. nil: none.
	Progress io.Writer
	// Dial connects to systemd; tests point it at a systemd of their own.
	Dial func(ctx context.Context) (Systemd, error)

	systemd Systemd
	hashKey []byte
}

// New returns a Host for root in the given mode. log receives one line per
// command run; nil discards them.
func New(root string, mode Mode, log io.Writer) (*Host, error) {
	if root == "" {
		return nil, fmt.Errorf("the root is empty: give a directory (--root DIR), or leave --root out for the live host")
	}
	if mode == Online && filepath.Clean(root) != "/" {
		return nil, fmt.Errorf("online mode works on the live host only, not on %s", root)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("root %s does not exist: give the directory the tree to work on starts at (an image, a mounted disk)", root)
	case err != nil:
		return nil, fmt.Errorf("root %s cannot be read: %w", root, err)
	case !st.IsDir():
		return nil, fmt.Errorf("root %s is not a directory: give the directory the tree to work on starts at (an image, a mounted disk)", root)
	}
	return &Host{Root: abs, Mode: mode, FS: NewFS(abs), Runner: ExecRunner{Log: log}, Log: log, Dial: DialSystemd}, nil
}

// Systemd returns the run's one D-Bus connection, dialling it on first use.
func (h *Host) Systemd(ctx context.Context) (Systemd, error) {
	if h.systemd == nil {
		s, err := h.Dial(ctx)
		if err != nil {
			return nil, err
		}
		h.systemd = s
	}
	return h.systemd, nil
}

// Close closes the D-Bus connection if one was made.
func (h *Host) Close() {
	if h.systemd != nil {
		h.systemd.Close()
		h.systemd = nil
	}
}

// Offline reports whether seconf works on a tree rather than the running system.
func (h *Host) Offline() bool { return h.Mode == Offline }
