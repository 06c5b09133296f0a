// Package files is the provider of file and directory blocks: files seconf
// writes whole (a fluent.conf, a daemon.json) and directories it makes,
// each with its mode, owner, group and optionally an SELinux type.
//
// # Writing
//
// A file is written atomically (host.FS.WriteFileAttrs): a temporary file
// in the same directory gets the content, owner, mode and label, then is
// renamed over the path, so a reader sees the old file or the new one and
// never a file with the wrong owner or mode. Owners and groups are names
// looked up in the managed root's /etc/passwd and /etc/group (under
// --root, the image's accounts, not the build machine's), or numbers; no
// owner is root, no group is the owner's primary group. Directories are
// made before the files in them; missing parents of a path are made 0755
// root:root and are not seconf's (they stay when the block goes).
//
// Because the rename gives the path a new inode, a container that
// bind-mounts the file keeps seeing the old one until it restarts; the
// change therefore provides config.PathKey of the path and of every
// directory above it, which a container that mounts any of them needs: the
// engine restarts exactly those containers, for content, mode, owner and
// label changes alike.
//
// # Ownership
//
// Files carry no header (a config file may not allow comments), so the
// state record is what marks them as seconf's: the path and the sha256 of
// what seconf wrote (for content from a sensitive variable, an HMAC under
// the host's own key, host.HashKey, so the record does not let anyone test
// guesses). A path that exists and is not in the record is someone else's:
// planning it is an error, unless the block says take_over = true. Then
// seconf keeps the original (its bytes under host.OriginalsDir, mode 0600;
// its mode, owner and label in the record) and puts it back when the block
// goes: the taken-over file is usually a package's default configuration,
// which the host should get back rather than lose, the way a removed
// selinux_module lets an overridden one take over again.
//
// A file seconf wrote that was changed by hand since is drift: plan says
// so, and apply puts the configured content back. When the block goes, a
// file still holding what seconf wrote is removed (or the original put
// back); one changed by hand is left in place and forgotten. A directory
// seconf made is removed only when nothing but seconf's leaving files was
// in it. A record naming a path seconf refuses to write, or a path that
// became a symlink, is never acted on.
//
// # Refused paths
//
// config.WriteRefused lists the trees seconf never writes into (accounts,
// sudoers, PAM, SELinux's policy, /proc, /sys, /dev, /boot, /usr but
// /usr/local, the unit and quadlet directories, containers.conf, the
// engines' stores, seconf's own state and secrets); a directory block may
// not be a system directory itself (/etc, /var/log, /srv). The check is
// made on the path as written and, at plan, on the path its symlinks lead
// to inside the root; a path that is itself a symlink is refused.
//
// # SELinux type
//
// selinux_type labels the file or directory with that type (the policy's
// context for the path with the type replaced) when the tree carries labels
// at all; a root never labelled gets none. The label is only kept by a
// relabel if the policy's file contexts give the path that type; plan
// checks them (modules/selinux/filecontexts) and warns, naming the
// selinux_fcontext to add, when they do not. The change provides
// config.FileContextKey(path): the hook for the settings provider to write
// that file context itself.
package files
