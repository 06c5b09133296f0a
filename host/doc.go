// Package host is the only code that touches the host: it runs commands
// (Runner), reads and writes files under the root (FS), takes the apply lock,
// and talks to systemd over D-Bus. Everything above it is pure decisions, so
// tests can point a Host at a temporary root.
package host
