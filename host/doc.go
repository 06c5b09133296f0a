// Package host is the only code that touches the host: it runs commands
// (Runner), reads and writes files under the root (FS), takes the apply lock,
// and talks to systemd over D-Bus. Everything above it is pure decisions, so
// tests can point a Host at a temporary root.
//
// Commands that read input seconf must not trust (a root's semanage.conf, a
// module's m4, a root's policy file) run in a Sandbox (sandbox.go): a private
// mount namespace with files bound over others, or a compile sandbox with
// its own filesystem, no network, as nobody without capabilities. There is
// no unsandboxed fallback.
package host
