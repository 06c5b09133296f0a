# A data disk mounted with the container file label, and a docker container
# that uses it: the context= mount option labels the whole file system for
# containers, so nothing needs relabelling (no :z or :Z) and the host's own
# directories keep their labels. Docker labels containers only when its
# daemon runs with "selinux-enabled": true (/etc/docker/daemon.json); without
# it seconf refuses the selinux_level below, which docker would ignore.

mount "srv_data" {
  what            = "/dev/disk/by-label/data"
  where           = "/srv/data"
  type            = "xfs"
  options         = ["noatime"]
  selinux_context = "system_u:object_r:container_file_t:s0"
}

container "registry" {
  image         = "docker.io/library/registry:2"
  engine        = "docker"
  selinux_level = "s0:c100,c200"
  publish       = ["5000:5000"]
  environment = {
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY = "/var/lib/registry"
  }

  # Referencing the mount orders the container after it (RequiresMountsFor=).
  volume {
    source  = mount.srv_data.where
    target  = "/var/lib/registry"
    relabel = "none"
  }
  restart = "on-failure"
}
