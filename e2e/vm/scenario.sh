#!/bin/sh
# The e2e scenario of issue #5, run inside the VM (Debian 13, SELinux enforcing)
# by seconf-e2e-runner as initrc_t, from a local, relabelled copy of the share:
#
#   sh scenario.sh boot1|boot2
#
# The working directory holds this script, configs/ and the seconf binary. Results go to $SECONF_E2E_OUT/results.<phase>,
# one "PASS: ...", "FAIL: ..." or "SKIP: ..." line per check; everything else
# this script prints is the log (scenario.<phase>.log).
#
set -u

phase=${1:?usage: scenario.sh boot1|boot2}
here=$(pwd)
out=${SECONF_E2E_OUT:?SECONF_E2E_OUT is not set}
results=$out/results.$phase
configs=$here/configs
unit=logger.service
quadlet=/etc/containers/systemd/logger.container
audit_log=/var/log/audit/audit.log
: >"$results"


# ---------------------------------------------------------------- reporting

log() { echo "[$(cut -d' ' -f1 /proc/uptime)s] $*"; }
result() { echo "$1: $2" >>"$results"; log "$1: $2"; }

# check NAME FUNCTION [ARGS...]: runs FUNCTION, which prints why it fails.
check() {
	name=$1
	shift
	log "--- check: $name"
	if "$@"; then result PASS "$name"; else result FAIL "$name"; fi
}

# run CMD...: logs the command, its output and its exit status. The output is
# read through a pipe (command substitution): confined domains such as podman_t
# may write to the runner's pipes but not to its log file.
run() {
	log "+ $*"
	_out=$("$@" 2>&1)
	_rc=$?
	[ -z "$_out" ] || printf '%s\n' "$_out"
	[ $_rc = 0 ] || log "exit status $_rc: $*"
	return $_rc
}

# ---------------------------------------------------------------- helpers

audit_mark() { wc -l <"$audit_log"; }
audit_since() { tail -n +"$(($1 + 1))" "$audit_log"; }

# wait_for SECONDS CMD...: retries CMD until it succeeds or SECONDS passed.
wait_for() {
	deadline=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 2
	done
}

container_running() { [ "$(podman container inspect -f '{{.State.Running}}' logger 2>/dev/null)" = true ]; }

# A log file to read from the container: trixie has no /var/log/messages
# without a syslog daemon.
log_file() {
	for f in /var/log/messages /var/log/syslog /var/log/dpkg.log /var/log/alternatives.log; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
	echo /var/log/audit/audit.log
}

unit_state() { systemctl show -p ActiveState --value "$unit" 2>/dev/null; }
unit_started_at() { systemctl show -p ActiveEnterTimestampMonotonic --value "$unit"; }
module_line() { semodule -lfull | awk '$2 == "container_logger"'; }

dump_state() {
	log "--- state"
	run semodule -lfull | grep -e container -e podman
	run systemctl status --no-pager "$unit"
	run podman ps -a
	log "+ ps -eZ (without kernel threads)"
	ps -eZ | grep -v ':kernel_t:'
	run ls -Z /var/log
	run getsebool container_mounton_non_security
}

# ---------------------------------------------------------------- setup

# A busybox image, imported (the VM has no registry).
import_image() {
	podman image exists localhost/busybox:latest && return 0
	rm -rf /var/lib/seconf-e2e/busybox-root
	mkdir -p /var/lib/seconf-e2e/busybox-root/bin /var/lib/seconf-e2e/busybox-root/tmp
	cp /usr/bin/busybox /var/lib/seconf-e2e/busybox-root/bin/
	for a in sh sleep cat touch rm ls id ps echo; do
		ln -s busybox "/var/lib/seconf-e2e/busybox-root/bin/$a"
	done
	tar -C /var/lib/seconf-e2e/busybox-root -cf - . |
		run podman import --change 'CMD ["/bin/sh"]' - localhost/busybox:latest
}

seconf() { run "$here/seconf" "$@"; }

# apply CONFIG: seconf apply -v, its output (every command it ran) kept in
# $apply_out for the checks.
apply() {
	log "+ seconf apply -v $1"
	apply_out=$("$here/seconf" apply -v "$1" 2>&1)
	_rc=$?
	printf '%s\n' "$apply_out"
	[ $_rc = 0 ] || log "exit status $_rc: seconf apply -v $1"
	return $_rc
}

# plan_clean CONFIG: seconf plan --detailed-exitcode exits 0 (no changes).
plan_clean() {
	seconf plan --detailed-exitcode "$1"
}

# ---------------------------------------------------------------- checks

# 1: the module is installed at priority 400 and logger.service is active.
check_applied() {
	line=$(module_line)
	log "module: ${line:-<none>}"
	log "$unit: $(unit_state)"
	case $line in 400\ container_logger\ *) ;; *) echo "container_logger is not installed at priority 400"; return 1 ;; esac
	[ "$(unit_state)" = active ] || { echo "$unit is not active"; return 1; }
	wait_for 60 container_running || { echo "container logger is not running"; return 1; }
}

# 1: seconf drove systemd through its D-Bus API: it ran no systemctl.
check_no_systemctl() {
	ran=$(printf '%s\n' "$apply_out" | grep '^run: ')
	log "seconf ran: $(printf '%s\n' "$ran" | wc -l) commands"
	! printf '%s\n' "$ran" | grep -w systemctl
}

# 2: the container's process runs as container_logger_t.
check_runs_as_type() {
	ps -eZ | grep -e container_logger_t -e ' sleep$'
	ps -eZ | grep ':container_logger_t:' | grep -q ' sleep$'
}

# 2: inside it, a log file can be read, and /var/log/foobar created and removed.
check_log_access() {
	f=$(log_file)
	rm -f /var/log/foobar
	log "+ podman exec logger cat $f"
	n=$(podman exec logger cat "$f" 2>&1) || { echo "$n"; return 1; }
	log "read ${#n} characters"
	run podman exec logger touch /var/log/foobar || return 1
	run ls -Z /var/log/foobar || return 1
	run podman exec logger rm /var/log/foobar || return 1
	[ ! -e /var/log/foobar ] || { echo "/var/log/foobar is still there"; return 1; }
}

# 3: a container with the same volume and the default type (container_t) is
# denied, and the denial is in the audit log.
check_default_denied() {
	mark=$(audit_mark)
	rm -f /var/log/foobar-default
	if run podman run --rm --log-driver k8s-file -v /var/log:/var/log localhost/busybox:latest \
		touch /var/log/foobar-default; then
		echo "a container_t container could write /var/log"
		rm -f /var/log/foobar-default
		return 1
	fi
	# auditd writes the log asynchronously.
	wait_for 15 container_t_denied_since "$mark" || { echo "no AVC denial of container_t on var_log_t in $audit_log"; return 1; }
	container_t_denied_since "$mark"
}

container_t_denied_since() {
	audit_since "$1" | grep 'avc:  denied' | grep 'scontext=[^ ]*:container_t:' | grep 'tcontext=[^ ]*:var_log_t:'
}

# 4: /var/log kept its labels: still var_log_t, nothing relabelled for containers.
check_labels_kept() {
	label=$(stat -c %C /var/log)
	log "/var/log: $label"
	case $label in *:var_log_t:*) ;; *) echo "/var/log is not var_log_t"; return 1 ;; esac
	relabelled=$(find /var/log -xdev \( -context '*:container_file_t:*' -o -context '*:container_ro_file_t:*' \) 2>/dev/null)
	[ -z "$relabelled" ] || { echo "relabelled for containers: $relabelled"; return 1; }
}

# 5: a changed module is installed and logger.service restarted.
check_module_change_restarts() {
	before_sum=$(semodule -lfull -m | awk '$2 == "container_logger" {print $4}')
	before_start=$(unit_started_at)
	apply "$configs/logger-changed" || return 1
	after_sum=$(semodule -lfull -m | awk '$2 == "container_logger" {print $4}')
	after_start=$(unit_started_at)
	log "module checksum $before_sum -> $after_sum; $unit started at $before_start -> $after_start"
	if [ -z "$after_sum" ] || [ "$before_sum" = "$after_sum" ]; then echo "the module did not change"; return 1; fi
	[ "$before_start" != "$after_start" ] || { echo "$unit was not restarted"; return 1; }
	[ "$(unit_state)" = active ] || { echo "$unit is not active"; return 1; }
	wait_for 60 container_running && check_runs_as_type >/dev/null
}

# 6: after the reboot the container runs again, without seconf.
check_running_after_reboot() {
	wait_for 120 container_running || { echo "container logger is not running"; return 1; }
	[ "$(unit_state)" = active ] || { echo "$unit is not active"; return 1; }
	check_runs_as_type
}

# 5: removing the container and the module from the configuration stops the
# unit and removes both.
check_removed() {
	apply "$configs/removed" || return 1
	st=$(unit_state)
	log "$unit: ${st:-<none>}"
	case $st in active | activating) echo "$unit still $st"; return 1 ;; esac
	[ ! -e "$quadlet" ] || { echo "$quadlet is still there"; return 1; }
	! podman container exists logger || { echo "container logger still exists"; return 1; }
	[ -z "$(module_line)" ] || { echo "module container_logger still installed"; return 1; }
}

# 5: no AVC denial for container_logger_t during the whole run (both boots).
check_no_logger_denials() {
	denials=$( (cat "$audit_log"; dmesg) | grep 'avc:  denied' | grep 'container_logger_t')
	[ -z "$denials" ] || { echo "$denials"; return 1; }
}

# ---------------------------------------------------------------- phases

boot1() {
	run getenforce
	check "image localhost/busybox imported" import_image
	apply "$configs/logger"
	check "1 seconf apply installs container_logger and starts $unit" check_applied
	check "1 seconf apply starts $unit through D-Bus (runs no systemctl)" check_no_systemctl
	check "1 seconf plan --detailed-exitcode exits 0 after apply" plan_clean "$configs/logger"
	check "2 logger runs as container_logger_t (ps -eZ)" check_runs_as_type
	check "2 logger reads $(log_file), creates and removes /var/log/foobar" check_log_access
	check "3 container_t with the same volume is denied, AVC in the audit log" check_default_denied
	check "4 /var/log keeps var_log_t" check_labels_kept
	check "5 a changed module is installed and restarts $unit" check_module_change_restarts
	check "5 seconf plan --detailed-exitcode exits 0 after the change" plan_clean "$configs/logger-changed"
	dump_state
}

boot2() {
	check "6 after a reboot $unit runs as container_logger_t without seconf" check_running_after_reboot
	check "5 removing container and module stops $unit and removes both" check_removed
	check "5 seconf plan --detailed-exitcode exits 0 after the removal" plan_clean "$configs/removed"
	check "5 no AVC denial for container_logger_t during the run" check_no_logger_denials
	dump_state
}

case $phase in
boot1 | boot2) "$phase" ;;
*) echo "unknown phase $phase" >&2; exit 2 ;;
esac
grep 'avc:  denied' "$audit_log" >"$out/avc.$phase.log" 2>&1
cp "$audit_log" "$out/audit.$phase.log" 2>/dev/null
log "done"
