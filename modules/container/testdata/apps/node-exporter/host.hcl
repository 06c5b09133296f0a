container "node-exporter" {
  image = "quay.io/prometheus/node-exporter:v1.8.2"
  # It reads the whole host on purpose: the host's network, no SELinux
  # separation. seconf refuses both unless the block says so.
  allow_unconfined       = true
  network                = "host"
  security_label_disable = true
  mount                  = ["type=bind,source=/,destination=/host,ro=true,bind-propagation=rslave"]
  read_only              = true
  user                   = "65534"
  command                = ["--path.rootfs=/host", "--web.listen-address=127.0.0.1:9100"]
}
