# Debian 12's stock policy has no container types: refpolicy's container
# module ships only as source, in selinux-policy-src. This configuration
# installs it (at priority 200, below local modules) so that modules built
# on container_domain_template, like container-logger's, compile and load.
# On a host that already has a container module (Fedora's container-selinux,
# Debian 13) seconf refuses this one, naming the installed copy: leave this
# example out there.
#
#   tar --zstd -xf /usr/src/selinux-policy-src.tar.zst -C DIR \
#       selinux-policy-src/policy/modules/services/container.te \
#       selinux-policy-src/policy/modules/services/container.fc
#   seconf apply -var refpolicy_services=DIR/selinux-policy-src/policy/modules/services .

variable "refpolicy_services" {
  description = "Absolute path of the directory holding refpolicy's container.te and container.fc"
}

selinux_module "container" {
  source   = "${var.refpolicy_services}/container.te"
  priority = 200
}
