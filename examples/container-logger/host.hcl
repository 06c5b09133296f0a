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
