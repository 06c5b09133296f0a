# The reference case (examples/container-logger) with an image that the e2e
# scenario imports locally: the VM has no registry.
selinux_module "container_logger" {
  source   = "container_logger.te"
  priority = 400
}

container "logger" {
  image        = "localhost/busybox:latest"
  engine       = "podman"
  selinux_type = "container_logger_t"
  command      = ["sleep", "infinity"]
  depends_on   = [selinux_module.container_logger]

  volume {
    source  = "/var/log"
    target  = "/var/log"
    relabel = "none"
  }
}
