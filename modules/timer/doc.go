// Package timer renders seconf's convergence timer: seconf-converge.service,
// a oneshot that runs `seconf apply PATH...` (or `seconf apply --source
// git+URL --allowed-signers FILE`), and seconf-converge.timer,
// which starts it a few minutes after boot and then at a fixed interval
// after each run.
//
// The two files are one engine.Unit of kind "timer" (ID
// timer.seconf-converge, unit seconf-converge.timer, wanted by
// timers.target), so the engine's units provider writes them atomically,
// owns them by their header line and records them in the state record, and
// enables and starts the timer over D-Bus or, under --root, by symlink.
// Because a units provider prunes only the kinds of its own sources, the
// apply of a configuration never removes the timer, and `seconf timer
// remove` (a provider over a Source with no settings) removes nothing but
// the timer.
//
// # Timer
//
// OnBootSec= gives one converge shortly after every boot, which is also the
// catch-up after the host was down; OnUnitActiveSec= repeats it every
// interval after the last run. Persistent= is not set: it only affects
// OnCalendar= timers, and would leave a stamp file behind. RandomizedDelaySec=
// (a sixth of the interval) is drawn afresh for every run, so a fleet
// installed at the same moment drifts apart instead of converging in
// lockstep.
//
// # Service hardening
//
// seconf's job is to change the host's policy and units, and a unit it
// writes runs as root: no sandbox can contain a subverted seconf. The
// hardening is there to keep a bug from reaching beyond that job, and every
// setting leaves the job itself working:
//
//   - ProtectSystem=strict, with write access exactly where apply writes:
//     /etc/systemd/system (units and their .wants links), /etc/containers
//     (quadlet files), /etc/seconf (container environment files),
//     /etc/selinux and /var/lib/selinux (semodule's store and the built
//     policy), /run (the apply lock, D-Bus), and StateDirectory=seconf for
//     /var/lib/seconf. Paths a host may lack are optional ("-"), so a host
//     without podman or SELinux userspace still starts the service.
//   - ProtectHome=read-only, not yes: semodule's genhomedircon reads the
//     home directories to label them, and the binary (go install puts it in
//     /root/go/bin) or the configuration may live there.
//   - No NoNewPrivileges= (nor settings that would imply it): it forbids
//     SELinux domain transitions, and semodule and load_policy must run in
//     their own domains on an enforcing host.
//   - No ProtectKernelTunables=: it makes /sys read-only, and loading the
//     policy writes /sys/fs/selinux.
//   - No PrivateDevices= or capability bounding set: they buy nothing
//     against a process that writes root units, and risk breaking semodule,
//     setfiles or a mount check.
//   - RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6: D-Bus
//     and libselinux's netlink notifications, and the registries podman or
//     docker pull images from (seconf pulls before it starts a container).
//   - ReadWritePaths= adds the engines' stores (pulls, podman secrets) and
//     the directories of the configuration's file and directory blocks as
//     they were at timer install: a file block in a new directory needs
//     timer install again.
//     With a configuration source, git fetches it too, and Wants= and
//     After= network-online.target order the boot run after the network.
//     The repository and its checkouts live in /var/lib/seconf, which
//     StateDirectory= already makes writable.
//   - PrivateTmp=, ProtectKernelModules=, ProtectKernelLogs=,
//     ProtectControlGroups=, ProtectHostname=, RestrictSUIDSGID=,
//     RestrictRealtime=, LockPersonality= and SystemCallArchitectures=native:
//     things seconf never does. (Not ProtectClock=: it brings a device
//     allow-list, with the risk PrivateDevices= has.)
//   - TimeoutStartSec=1h: a oneshot has no start timeout by default, and a
//     hung converge would stop the timer for good.
package timer
