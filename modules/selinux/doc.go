// Package selinux is the selinux_module provider: it compiles each module
// (.te with the policy devel Makefile, .cil as is, .pp through semodule's own
// pp-to-CIL converter), compares the CIL's sha256 with the checksum of the
// module installed in the policy store, and applies every install, removal,
// enable and disable of one apply in a single semodule transaction, because
// each policy commit costs seconds whatever its size.
//
// Its state record section is a claim that Plan checks against the store:
// seconf replaces, removes or disables only the copy of a module it
// installed, at the priority it recorded, while that copy is the one it
// installed. Names the store has in other copies are refused unless a block
// sets override, and a block without source only disables (and, when it
// goes, enables again) a module someone else installed.
package selinux
