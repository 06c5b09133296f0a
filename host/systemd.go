package host

import (
	"context"
	"fmt"

	"github.com/coreos/go-systemd/v22/dbus"
)

// Systemd is the part of systemd's D-Bus API seconf uses; *dbus.Conn has it.
type Systemd interface {
	ReloadContext(ctx context.Context) error
	StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	RestartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	EnableUnitFilesContext(ctx context.Context, files []string, runtime, force bool) (bool, []dbus.EnableUnitFileChange, error)
	DisableUnitFilesContext(ctx context.Context, files []string, runtime bool) ([]dbus.DisableUnitFileChange, error)
	ListUnitsByNamesContext(ctx context.Context, units []string) ([]dbus.UnitStatus, error)
	Close()
}

// DialSystemd connects to the system bus once per run.
func DialSystemd(ctx context.Context) (Systemd, error) {
	c, err := dbus.NewWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach systemd over D-Bus (%v): online apply needs a running systemd; to work on an image or a directory tree, use --root DIR", err)
	}
	return c, nil
}
