// Package container renders container blocks as systemd units; the engine's
// units provider writes them, checks ownership by the header line, reloads
// systemd and starts them. Rendering is pure: the same block gives the same
// bytes, and only the choice of rendering looks at the host.
//
// # Which rendering
//
// An engine = "docker" container becomes /etc/systemd/system/NAME.service
// running `docker run --rm --name NAME ... IMAGE CMD` in the foreground.
//
// An engine = "podman" container becomes either
//   - a quadlet file /etc/containers/systemd/NAME.container, which podman's
//     generator turns into NAME.service (engine.Unit.Generated), or
//   - /etc/systemd/system/NAME.service running `podman run` with the flags
//     quadlet would generate for that file (--cidfile, --replace, --rm,
//     --cgroups=split, --sdnotify=conmon, -d; Type=notify, KillMode=mixed).
//
// The block's quadlet attribute decides when it is set. Otherwise seconf
// writes a quadlet file exactly when the root holds the quadlet generator
// (/usr/lib/systemd/system-generators/podman-system-generator or
// /usr/libexec/podman/quadlet): Debian 13's podman 5 has it, Debian 12's
// podman 4.3 does not. Deciding from the root, not from the running system,
// keeps --root image builds right for the image.
//
// Either way the unit is NAME.service, so a container keeps its unit name
// when the host gains quadlet.
//
// # What reaches a unit
//
// Every value is written so that systemd (and quadlet) read back exactly
// the value configured: % is escaped as %% everywhere, and command words
// are quoted by systemd's word rules with $ escaped as $$. Values that name
// things (image, user, network, ports, SELinux type and level, volume
// paths) are refused if they hold whitespace, quotes or backslashes, since
// quadlet copies them raw; volume paths may not hold ':' (the -v separator)
// or '$' either. Quadlet cannot carry an empty command argument or a lone
// ";", so those need quadlet = false.
//
// When any environment value comes from a sensitive variable, the whole
// environment goes to /etc/seconf/env/NAME.env (mode 0600, never shown),
// which podman and docker read with --env-file (quadlet: EnvironmentFile=);
// otherwise it is inline (--env, quadlet: Environment=).
//
// # Dependencies
//
// A dependency on another container orders after its service and requires
// it (After=, Requires=); on a mount, RequiresMountsFor= its mount point;
// every volume source is in RequiresMountsFor= as well (quadlet adds these
// itself). A dependency on a selinux_module goes into engine.Unit.Deps, so
// that the engine restarts the container when its policy changes.
package container
