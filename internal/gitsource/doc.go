// Package gitsource gets a host's configuration from a git repository that
// seconf trusts only as far as its signatures go: it fetches one ref into a
// bare repository under seconf's state directory, checks with git's own
// verification (git verify-commit: SSH signatures against an allowed-signers
// file, or OpenPGP signatures against a keyring of allowed keys) that the
// exact commit it will apply is signed by an allowed key, checks that the
// commit descends from the last one that applied cleanly, and writes that
// commit's tree into a directory of its own, renamed into place when
// complete.
//
// # Nothing from the repository runs
//
// git runs with a clean environment (no GIT_* variables of the caller, PATH
// of the system directories only, no system or global configuration) and
// with every setting that could run code pinned on the command line: hooks
// point at /dev/null, no fsmonitor, no credential helper, no replace refs,
// no automatic gc or maintenance in the background, objects checked by fsck
// as they arrive, transports limited to https, http, ssh, git and file
// (never ext:: or other remote helpers), and ssh-keygen and gpg given by
// absolute path. The repository seconf fetches into is its own, made without
// templates, and no remote's configuration is ever read. The tree is not
// checked out by git: seconf lists it (git ls-tree) and reads its blobs
// (git cat-file), so no checkout hook, filter, attribute or submodule is
// involved, and it refuses symbolic links and submodules outright rather
// than follow them out of the tree.
//
// # The exact commit
//
// The ref is resolved once, to a commit ID; verification, the ancestry
// check and the checkout all name that ID, never the ref, so a ref that
// moves during a run changes nothing. Objects are named by their contents,
// and the repository is written only under seconf's apply lock.
//
// # Layout
//
// Under Dir (/var/lib/seconf/source, mode 0700): repo.git, the bare
// repository (refs/seconf/fetched is the last ref fetched, refs/seconf/good
// the last good commit, so that it is never lost to a rewritten remote),
// and checkouts/TREE, one directory per checked-out tree, named by the
// tree's ID (the commit's tree at the configured path): two commits with the
// same configuration share one, and a checkout cannot be mistaken for
// another path's.
package gitsource
