package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Lock takes the root's apply lock, waiting up to timeout. The holder writes
// its pid and command into the file so that a waiter can name it. The lock is
// a flock: it goes away with the process, so a killed apply never leaves a
// stale lock behind.
func (h *Host) Lock(ctx context.Context, timeout time.Duration) (unlock func(), err error) {
	p, err := h.FS.Path(LockPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, lockError(p, err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, lockError(p, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			holder, _ := os.ReadFile(p)
			f.Close()
			return nil, fmt.Errorf("another seconf holds the lock %s (%s); waited %s (raise --lock-timeout to wait longer)",
				p, strings.TrimSpace(string(holder)), timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d: %s\n", os.Getpid(), strings.Join(os.Args, " "))
	return func() {
		f.Truncate(0)
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// lockError says what an unprivileged user lacks: the lock lives where only
// root may write.
func lockError(p string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("seconf needs root: cannot take the apply lock %s (%w); run seconf apply as root", p, err)
	}
	return fmt.Errorf("lock %s: %w", p, err)
}
