package host

import (
	"context"
	"io"
	"path/filepath"
)

// Host is everything seconf may touch: one root, one runner, one systemd.
type Host struct {
	// Root is "/" for the live host; anything else is offline mode: files and
	// the policy store under Root, and no D-Bus.
	Root   string
	FS     FS
	Runner Runner
	Log    io.Writer
	// Dial connects to systemd; tests point it at a systemd of their own.
	Dial func(ctx context.Context) (Systemd, error)

	systemd Systemd
}

// New returns a Host for root ("" means "/"). log receives one line per
// command run; nil discards them.
func New(root string, log io.Writer) (*Host, error) {
	if root == "" {
		root = "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	return &Host{Root: abs, FS: NewFS(abs), Runner: ExecRunner{Log: log}, Log: log, Dial: DialSystemd}, nil
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

// Offline reports whether the root is not the live host.
func (h *Host) Offline() bool { return h.Root != "/" }
