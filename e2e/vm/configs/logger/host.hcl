# The reference case (examples/confined-logger) with an image that the e2e
# scenario imports locally (the VM has no registry), applied together with
# examples/debian13-podman (e2e/run copies it to configs/debian13-podman).
# Everything the stock image lacks for it is declared here: the logger's own
# type (confine = true), the boolean that lets podman bind-mount /var/log, and
# /usr/lib/podman's labels (the equivalence).

container "logger" {
  image   = "localhost/busybox:latest"
  engine  = "podman"
  confine = true
  command = ["sleep", "infinity"]

  volume {
    source = "/var/log"
    target = "/var/log"
  }
}

selinux_boolean "container_mounton_non_security" {
  value = true
}

# A file-context rule: apply relabels what exists under /srv/data, and only
# that; files created there afterwards inherit the type.
selinux_fcontext "srv_data" {
  path = "/srv/data(/.*)?"
  type = "container_file_t"
}

# A hand-written module (examples/container-logger's, copied by e2e/run):
# compiled with the devel Makefile and installed in the same transaction.
selinux_module "container_logger" {
  source   = "container_logger.te"
  priority = 400
}
