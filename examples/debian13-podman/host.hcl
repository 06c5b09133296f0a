# Debian 13 installs podman's helpers (netavark, aardvark-dns, ...) in
# /usr/lib/podman, where the policy's file contexts expect /usr/libexec/podman
# (the path Fedora and podman's own build use). Labelled lib_t there, podman_t
# may not execute them: a container on a network does not start. This
# equivalence labels /usr/lib/podman as /usr/libexec/podman is labelled, and
# apply relabels what is already under it.
#
# Apply it together with the rest of the host's configuration (seconf owns
# what it set per root: a setting that leaves the configuration is undone):
#
#   seconf apply examples/debian13-podman examples/confined-logger
#
# Other distributions install podman in /usr/libexec/podman and need none of
# this; on them the equivalence is harmless but useless.

selinux_fcontext "podman_helpers" {
  path  = "/usr/lib/podman"
  equal = "/usr/libexec/podman"
}
