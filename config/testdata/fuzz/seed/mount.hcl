mount "m" {
  what = "/dev/sdb"
  where = "/srv/data"
  options = ["noatime"]
}
container "c" {
  image = "i"
  environment = { A = "b" }
  volume {
    source = mount.m.where
    target = "/d"
    relabel = "private"
  }
}
