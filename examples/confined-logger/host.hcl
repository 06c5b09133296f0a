# The reference case without writing policy: confine = true makes seconf
# generate the logger's own SELinux type, seconf_logger_t, from what the
# block declares: a container domain (MCS separated, started by podman as
# container_t is), the network, and managing what is labelled as /var/log is
# (var_log_t) - nothing else. Review the module with
#
#   seconf policy show container.logger .
#
# and, once it runs, ask what its denials would need with
#
#   seconf policy avc container.logger .

container "logger" {
  image   = "docker.io/fluent/fluentd:v1.17-1"
  engine  = "podman"
  confine = true

  # The host's logs, mounted as they are (no relabel): the generated type
  # may manage what the root's file contexts label as /var/log.
  volume {
    source = "/var/log"
    target = "/var/log"
  }
  restart = "always"
}

# podman bind-mounts /var/log into the container: container engines may
# mount on a directory that is not a security file only with this boolean
# on (off in the stock policy). On Debian 12 the boolean comes with
# refpolicy's container module (examples/debian12-container-policy),
# applied together with this: seconf commits the module first, then the
# boolean.
selinux_boolean "container_mounton_non_security" {
  value = true
}
