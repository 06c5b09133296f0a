# The reference case: fluentd managing the host's /var/log, confined by a
# type of its own instead of --privileged, label=disable or :Z on /var/log.

selinux_module "container_logger" {
  source   = "container_logger.te"
  priority = 400
}
