package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Limits on what seconf reads. A configuration file is a few KB; the
// limits only keep a mistaken or hostile path (a log, a disk image) from
// taking the machine's memory.
const (
	// MaxFileSize bounds a .hcl file.
	MaxFileSize = 4 << 20
	// MaxSourceSize bounds a policy source (.te, .if, .fc, .cil, .pp); a
	// module's policy package is rarely above a few hundred KB.
	MaxSourceSize = 64 << 20
)

// errNotRegular is the error of readRegular for anything but a regular file.
var errNotRegular = errors.New("not a regular file")

// kindOf names what a non-regular file is, for the error that refuses it.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

// checkRegular stats p (following symlinks) and refuses anything but a
// regular file of at most max bytes, saying what it is instead.
func checkRegular(p string, max int64) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, %w; seconf reads only regular files", p, kindOf(st.Mode()), errNotRegular)
	}
	if st.Size() > max {
		return fmt.Errorf("%s is %d bytes, more than the %d seconf reads", p, st.Size(), max)
	}
	return nil
}

// readRegular reads a regular file of at most max bytes. A FIFO would block
// the read forever and opening a device can act on it (a watchdog, a tape),
// so the path is checked before it is opened, opened without blocking and
// checked again on the open file, in case it was swapped in between.
func readRegular(p string, max int64) ([]byte, error) {
	if err := checkRegular(p, max); err != nil {
		return nil, err
	}
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, %w; seconf reads only regular files", p, kindOf(st.Mode()), errNotRegular)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is more than the %d bytes seconf reads", p, max)
	}
	return data, nil
}
