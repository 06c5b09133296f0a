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
// # Quadlet's keys
//
// A key of quadlet's [Container] section is the attribute of the same name
// in snake_case (HealthCmd is health_cmd), with quadlet's meaning, in all
// three renderings. config.ContainerOptions is the one table: the key, the
// attribute, its type, how quadlet reads it (which decides how the value
// is written into the .container file), the flag quadlet gives podman run
// and docker run's equivalent. The quadlet file writes the key; the plain
// service writes the flag quadlet would generate, in quadlet's order (a few
// of quadlet's own flags come from a Go map, in random order: the tests
// compare commands flag by flag, not word by word); docker gets its flag,
// and an option docker has none for (timezone, secret, notify, uid_map,
// ...) is an error at the attribute.
//
// Values are held to what every rendering carries unchanged: a value that
// stands alone on a command line may not start with '-'; a token (an
// address, a size, a path) has no whitespace, quotes or backslashes; a
// value quadlet copies raw may not begin or end with whitespace or a double
// quote, nor end in a backslash. podman_args carries only resource limits
// (--memory=512m, one word each). Mounts are written as quadlet passes them
// to podman (type= first, source=), and a bind source must be a path
// quadlet can put in RequiresMountsFor=.
//
// Quadlet's Image, Exec, Environment, Volume, Network, PublishPort, User,
// SecurityLabelType and SecurityLabelLevel keep the block's long-standing
// names (image, command, environment, volume {}, network, publish, user,
// selinux_type, selinux_level); publish_port, security_label_type and
// security_label_level are accepted as quadlet's names for them.
//
// # Volumes and networks
//
// A volume "NAME" block is a quadlet NAME.volume file, or (without quadlet)
// NAME-volume.service, the oneshot podman volume create quadlet would
// generate from it (its --ignore, which podman 4.3 lacks, an ExecCondition
// that skips the create when the volume exists), or a oneshot docker volume
// create; a network "NAME" block likewise (docker network create has no
// --ignore either: ExecCondition again). The engine's name is
// volume_name (network_name), else NAME. A container that uses one
// (source = volume.NAME.name, network = network.NAME.name) requires and
// orders after its unit; a quadlet container names it NAME.volume
// (NAME.network) when the block is a quadlet file too, as quadlet users
// write it. Removing the block removes the unit, never the volume's data.
//
// # Secrets, files and images
//
// A secret block (modules/secrets) is used through quadlet's Secret key:
// podman gets --secret NAME[,options] as quadlet writes it; docker, which
// has secrets only in swarm mode, gets the block's file mounted read-only
// at /run/secrets/NAME (target= moves it; :z lets docker label it for the
// container), and any other entry is an error at its element. What a
// container uses goes into units.Unit.Needs, for the engine's restarts:
// each secret block (secret.NAME), each host path it mounts or reads as an
// environment_file (config.PathKey: a file or directory block there, or
// above it, restarts it), and its image (config.ImageKey: a pull of a new
// image restarts it).
//
// # systemd's settings
//
// The service, unit and install maps pass systemd settings through, in
// every rendering: names systemd knows for the section
// (internal/unitfile/keys.go), values without control characters,
// surrounding whitespace or a trailing backslash, '%' doubled where systemd
// resolves specifiers. Refused, with the reason at the key's line: what
// seconf writes itself (Exec*, Type, KillMode, Restart, ...), the engine's
// environment (it chooses containers.conf, and so confinement), running the
// engine as another user, root or security context, NoNewPrivileges= (it
// would forbid the container's SELinux transition), [Install] settings
// other than WantedBy=, and for docker the resource-control settings (they
// would limit the docker client, not the container).
//
// # Dependencies
//
// A dependency on another container, volume or network orders after its
// service and requires it (After=, Requires=); on a mount,
// RequiresMountsFor= its mount point;
// every volume source is in RequiresMountsFor= as well (quadlet adds these
// itself). A dependency on a selinux_module goes into engine.Unit.Deps, so
// that the engine restarts the container when its policy changes.
package container
