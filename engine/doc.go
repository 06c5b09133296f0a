// Package engine plans and applies a configuration: it asks each provider
// (SELinux modules, then systemd units) what must change, orders the changes,
// applies them under the root's lock, and keeps the state record of what
// seconf owns.
package engine
