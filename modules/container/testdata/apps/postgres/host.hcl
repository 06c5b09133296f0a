volume "pgdata" {
  user  = 999
  group = 999
}

network "backend" {
  subnet   = ["10.89.20.0/24"]
  gateway  = ["10.89.20.1"]
  internal = true
}

container "db" {
  image         = "docker.io/library/postgres:16"
  network       = network.backend.name
  network_alias = ["db"]
  restart       = "on-failure"
  volume {
    source  = volume.pgdata.name
    target  = "/var/lib/postgresql/data"
    relabel = "private"
  }
  # The password is a podman secret (podman secret create pg_password -).
  secret      = ["pg_password,type=env,target=POSTGRES_PASSWORD"]
  environment = { POSTGRES_USER = "app", POSTGRES_DB = "app" }

  health_cmd          = "pg_isready -U app -d app"
  health_interval     = "10s"
  health_retries      = 5
  health_start_period = "30s"
  health_timeout      = "5s"
  health_on_failure   = "kill"
  notify              = "healthy"

  shm_size          = "256m"
  stop_timeout      = 60
  no_new_privileges = true
  service = {
    TimeoutStartSec = 300
    TimeoutStopSec  = 90
  }
}
