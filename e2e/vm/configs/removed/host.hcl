# The reference case removed: seconf must stop and remove logger.service and
# remove the container_logger module, which it owns.
