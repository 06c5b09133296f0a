# The reference case: fluentd managing the host's /var/log, confined by a
# type of its own instead of --privileged, label=disable or :Z on /var/log.

selinux_module "container_logger" {
  source   = "container_logger.te"
  priority = 400
}

container "logger" {
  image        = "docker.io/fluent/fluentd:v1.17-1"
  engine       = "podman"
  selinux_type = "container_logger_t"
  depends_on   = [selinux_module.container_logger]

  # The host's logs, mounted as they are: relabelling them (:Z) would take
  # them away from logrotate and the log scanners.
  volume {
    source  = "/var/log"
    target  = "/var/log"
    relabel = "none"
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
