container "fluentd" {
  image        = "docker.io/fluent/fluentd:v1.17-1"
  selinux_type = "container_logger_t"
  command      = ["fluentd", "-c", "/fluentd/etc/fluent.conf"]
  publish      = ["24224:24224", "24224:24224/udp"]
  environment  = { FLUENTD_CONF = "fluent.conf" }
  log_driver   = "journald"
  timezone     = "UTC"
  volume {
    source    = "/var/log"
    target    = "/var/log"
    read_only = true
  }
  volume {
    source    = "/etc/fluentd"
    target    = "/fluentd/etc"
    read_only = true
  }
  unit    = { After = "network-online.target" }
  service = { TimeoutStartSec = 900 }
  install = { WantedBy = "default.target" }
}
