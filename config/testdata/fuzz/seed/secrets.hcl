variable "site" {
  default = "lab"
}
container "c" {
  image       = "reg/${var.site}:1"
  command     = ["run", "--token=${var.token}"]
  user        = var.token != "" ? "app" : "nobody"
  environment = { TOKEN = var.token, URL = "https://u:${var.token}@h", (var.token) = "k" }
}
container "d" {
  image       = "i"
  environment = { for k in [var.token, var.token] : k => "1" }
  network     = "%{ if var.token == "x" }host%{ endif }"
}
mount "m" {
  what    = var.token
  where   = "/srv/${var.site}"
  options = [var.token]
}
selinux_module "logger" {
  content = <<-EOT
    policy_module(logger, 1.0)
    ${var.token}
  EOT
  format = "te"
}
