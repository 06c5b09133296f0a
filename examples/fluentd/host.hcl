# fluentd shipping the host's logs to a collector, as an operator would
# run it: its configuration as a file, its buffer in a directory of its own,
# a type of its own instead of --privileged or :Z on /var/log, the forward
# protocol's shared key as a podman secret, and the image pinned by digest.
#
#   seconf apply --var shared_key=... --var fluentd_digest=sha256:... .
#
# The digest is the one the registry gives the tag, for example
#   skopeo inspect --format '{{.Digest}}' docker://docker.io/fluent/fluentd:v1.17-1
# (the default below is a placeholder: this example is applied by the tests
# to private roots, which pull nothing).

variable "collector" {
  description = "Host name of the fluentd (or Fluent Bit) that receives the logs"
  default     = "logs.example.org"
}

variable "shared_key" {
  description = "The forward protocol's shared key, the same on the collector"
  sensitive   = true
  default     = "change-me"
}

variable "fluentd_digest" {
  description = "The digest of docker.io/fluent/fluentd:v1.17-1 to run"
  default     = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
}

variable "fluent_uid" {
  description = "The uid of the image's fluent user (podman run --rm --entrypoint id IMAGE -u), who writes the buffer"
  default     = "999"
}

selinux_module "fluentd_container" {
  source = "fluentd_container.te"
}

# A bind-mounted file keeps its old inode until the container restarts:
# when this changes, seconf restarts fluentd, and nothing else.
file "fluent_conf" {
  path    = "/etc/fluentd/fluent.conf"
  mode    = "0644"
  content = <<-EOT
    <source>
      @type tail
      path /var/log/syslog,/var/log/auth.log
      pos_file /fluentd/buffer/host.pos
      tag host.*
      <parse>
        @type none
      </parse>
    </source>

    <match host.**>
      @type forward
      <security>
        self_hostname "#{Socket.gethostname}"
        shared_key "#{ENV['FLUENTD_SHARED_KEY']}"
      </security>
      <server>
        host ${var.collector}
        port 24224
      </server>
      <buffer>
        @type file
        path /fluentd/buffer/forward
      </buffer>
    </match>
  EOT
}

# The buffer survives restarts and upgrades; container_file_t is what the
# type manages (seconf labels it; plan says which selinux_fcontext keeps the
# label through a relabel).
directory "fluentd_buffer" {
  path         = "/var/lib/fluentd"
  mode         = "0750"
  owner        = var.fluent_uid
  selinux_type = "container_file_t"
}

# podman secret create fluentd_shared_key - (from standard input; the value
# is in no unit, output or state record). A new key restarts fluentd.
secret "fluentd_shared_key" {
  value = var.shared_key
}

container "fluentd" {
  image        = "docker.io/fluent/fluentd:v1.17-1@${var.fluentd_digest}"
  selinux_type = "fluentd_container_t"
  secret       = ["${secret.fluentd_shared_key.name},type=env,target=FLUENTD_SHARED_KEY"]
  # The host's adm group (4 on Debian), which may read /var/log/syslog.
  group_add = ["4"]

  volume {
    source    = file.fluent_conf.path
    target    = "/fluentd/etc/fluent.conf"
    read_only = true
  }
  volume {
    source = directory.fluentd_buffer.path
    target = "/fluentd/buffer"
  }
  # The host's logs as they are: relabelling them (:Z) would take them away
  # from logrotate and the log scanners.
  volume {
    source    = "/var/log"
    target    = "/var/log"
    read_only = true
  }

  no_new_privileges = true
  health_cmd        = "fluentd --dry-run -c /fluentd/etc/fluent.conf"
  health_interval   = "5m"
  service = {
    TimeoutStartSec = 120
  }
}
