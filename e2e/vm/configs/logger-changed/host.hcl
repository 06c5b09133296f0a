# configs/logger after `seconf policy avc container.logger` proposed a volume
# for /var/log/apache2 (httpd_log_t, a label the logger was not given): the
# generated module changes, so logger.service restarts. The srv_data rule is
# gone: apply relabels /srv/data back to the policy's label.

container "logger" {
  image   = "localhost/busybox:latest"
  engine  = "podman"
  confine = true
  command = ["sleep", "infinity"]

  volume {
    source = "/var/log"
    target = "/var/log"
  }
  volume {
    source    = "/var/log/apache2"
    target    = "/var/log/apache2"
    read_only = false
  }
}

selinux_boolean "container_mounton_non_security" {
  value = true
}

selinux_module "container_logger" {
  source   = "container_logger.te"
  priority = 400
}
