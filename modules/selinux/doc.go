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
//
// It also plans and applies the settings beside the modules
// (selinux_boolean, selinux_fcontext, selinux_port; settings.go): read from
// the store's local files without running a command, committed with the
// modules in one semanage import (two commits when a setting needs what a
// module of the same apply brings), with what was there before recorded so
// that a removal restores it, and, online, the running booleans and the
// labels of existing files under a changed rule brought along
// (settings_apply.go, relabel.go).
package selinux
