# The reference case removed (applied with no other path): seconf must stop
# and remove logger.service, remove the generated seconf_logger module and
# container_logger, set the boolean back to what it was before (off) and
# drop the /usr/lib/podman equivalence, relabelling what is under it.
