volume "cache" {
  volume_name = "cache-data"
  driver      = "local"
  device      = "tmpfs"
  type        = "tmpfs"
  options     = "size=256m,mode=0700"
  copy        = false
}

container "cache" {
  image   = "docker.io/library/redis:7.4"
  command = ["redis-server", "--save", "60", "1", "--appendonly", "no"]
  volume {
    source = volume.cache.name
    target = "/data"
  }
  user_ns         = "auto"
  read_only       = true
  drop_capability = ["all"]
  add_capability  = ["SETUID", "SETGID"]
  health_cmd      = "redis-cli ping"
  health_interval = "15s"
  health_timeout  = "3s"
  run_init        = true
  stop_signal     = "SIGTERM"
}
