// Package selinux is the selinux_module provider: it compiles each module
// (.te with the policy devel Makefile, .cil as is, .pp through semodule's own
// pp-to-CIL converter), compares the CIL's sha256 with the checksum of the
// module installed in the policy store, and applies every install, removal,
// enable and disable of one apply in a single semodule transaction, because
// each policy commit costs seconds whatever its size.
package selinux
