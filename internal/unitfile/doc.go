// Package unitfile writes systemd unit files and quadlet files, and holds
// the one implementation of systemd's escaping that every renderer uses:
// specifiers (%), environment expansion ($) and the word quoting of Exec
// lines. A unit is laid out in the order things are added, so that the same
// resource always renders to the same bytes.
package unitfile
