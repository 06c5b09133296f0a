container "api" {
  image            = "ghcr.io/example/api:2.3"
  auto_update      = "registry"
  environment_file = ["/etc/api/api.env"]
  entrypoint       = "/usr/local/bin/api"
  command          = ["serve", "--port", "8080"]
  working_dir      = "/srv/api"
  user             = "1000"
  group            = "1000"
  host_name        = "api.internal"
  dns              = ["10.0.0.53"]
  dns_search       = ["internal"]
  add_host         = ["db.internal:10.89.20.5"]
  ulimit           = ["nofile=65536:65536"]
  sysctl           = { "net.core.somaxconn" = 1024 }
  pids_limit       = 512
  timezone         = "Europe/Berlin"
  read_only        = true
  tmpfs            = ["/tmp"]
  publish          = ["127.0.0.1:8080:8080"]
  label            = { app = "api", tier = "backend" }
  annotation       = { "io.example/owner" = "platform" }
  drop_capability  = ["ALL"]
  podman_args      = ["--memory=512m", "--cpus=2"]

  unit = {
    Wants = "time-sync.target"
    After = "time-sync.target"
  }
  service = {
    RestartSec = 5
    MemoryHigh = "80%"
  }
}
