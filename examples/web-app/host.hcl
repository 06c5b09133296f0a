# A web site in a named volume, on its own network, and a database on an
# internal network of its own (for the application containers that join it):
# quadlet's keys in snake_case, volume and network blocks,
# and systemd settings for the services. With quadlet (Debian 13) these are
# webdata.volume, pgdata.volume, web.network, backend.network, web.container
# and db.container; without it, the services quadlet would generate.

volume "webdata" {
  label = { "org.example.app" = "web" }
}

volume "pgdata" {
  user  = 999
  group = 999
}

network "web" {
  subnet  = ["10.89.10.0/24"]
  gateway = ["10.89.10.1"]
}

network "backend" {
  subnet   = ["10.89.20.0/24"]
  internal = true # no way out: only the containers on it reach the database
}

container "db" {
  image         = "docker.io/library/postgres:16"
  network       = network.backend.name
  network_alias = ["db"]
  volume {
    source  = volume.pgdata.name
    target  = "/var/lib/postgresql/data"
    relabel = "private" # a named volume: relabelling it is the container's own business
  }
  # podman secret create pg_password - (the value never reaches a unit file)
  secret      = ["pg_password,type=env,target=POSTGRES_PASSWORD"]
  environment = { POSTGRES_USER = "app", POSTGRES_DB = "app" }

  health_cmd          = "pg_isready -U app -d app"
  health_interval     = "10s"
  health_start_period = "30s"
  health_on_failure   = "kill"
  notify              = "healthy" # the unit is started once the database answers

  shm_size          = "256m"
  stop_timeout      = 60
  no_new_privileges = true
  service = {
    TimeoutStartSec = 300 # the first start initialises the database
  }
}

container "web" {
  image       = "docker.io/library/nginx:1.27"
  auto_update = "registry"
  network     = network.web.name
  publish     = ["8080:80"]
  volume {
    source  = volume.webdata.name
    target  = "/usr/share/nginx/html"
    relabel = "private"
  }
  read_only         = true
  tmpfs             = ["/var/cache/nginx", "/run"]
  drop_capability   = ["all"]
  add_capability    = ["CHOWN", "NET_BIND_SERVICE", "SETUID", "SETGID"]
  no_new_privileges = true
  health_cmd        = "curl -f http://localhost/ || exit 1"
  health_interval   = "30s"
  label             = { "org.example.tier" = "front end" }
  podman_args       = ["--memory=256m"]

  unit    = { After = "time-sync.target" }
  service = { MemoryHigh = "80%" }
}
