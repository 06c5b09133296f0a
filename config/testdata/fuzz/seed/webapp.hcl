volume "webdata" {
  label = { "org.example.app" = "web" }
}

network "web" {
  subnet  = ["10.89.10.0/24"]
  gateway = ["10.89.10.1"]
  label   = { "org.example.app" = "web" }
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
  health_retries    = 3
  label = {
    "org.example.app"  = "web"
    "org.example.tier" = "front end"
  }
}
