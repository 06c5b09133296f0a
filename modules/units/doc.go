// Package units is the systemd provider: everything that becomes a unit
// (containers, mounts, the convergence timer) is rendered by a Source into
// files, which this package compares with the host, writes atomically,
// enables and converges with one daemon-reload per apply.
//
// # Ownership
//
// Every file seconf writes starts with Header, and the state record keeps
// the sha256 of what was written. The record is a claim, not proof: a file
// is removed only when it lies in a directory seconf writes units to, still
// starts with the header and still holds what seconf wrote. Anything else
// is reported and left alone, and seconf forgets it. The unit stopped or
// disabled is the one named by the file that was removed, never a name read
// from the record. A file is only ever replaced if it carries the header.
//
// # Names
//
// A unit name must be free: not a unit in any directory systemd reads that
// seconf did not write, not a quadlet file podman would turn into the same
// service, not another resource's unit. Both places are named when it is
// not.
package units
