// Package confine writes the SELinux policy module that gives a container
// with confine = true a type of its own, and reads the denials that type
// meets back into proposals for the declaration.
//
// # The module
//
// Generate is pure: the container's declaration, the labels of its volumes'
// host paths (as the root's file contexts give them), the root's policy
// (policydb) and the flavor of the container policy in, the .te text and
// findings out. The module grants what the declaration asks and nothing
// else:
//
//   - a container domain of its own, declared by the flavor's template
//     (refpolicy's container_domain_template(NAME), container-selinux's
//     container_domain_template(NAME, container), or the older
//     virt_sandbox_domain_template(NAME)): the engine may start it, it
//     manages its own container_file_t content, MCS keeps it apart. Where the
//     policy distinguishes system containers (refpolicy's
//     container_system_domain) it is one, as container_t is; where the
//     template does not let it be entered from the image's files (refpolicy
//     before 2023), a rule does. No boolean, nothing of container_t's
//     beyond that.
//   - the capabilities the engine gives the container (podman's and
//     docker's defaults, less drop_capability, plus add_capability), which
//     SELinux checks against the type as well;
//   - the network access container_t has (the net domain attribute), unless
//     network = "none";
//   - name_bind (and node_bind) on the type of each container port it
//     publishes, as the policy's portcons give it;
//   - for each volume block and bind mount entry not relabelled by the
//     engine, the patterns that manage (read-write) or read (read-only)
//     what is labelled as its host path is, plus watch (inotify), grouped
//     by label. Named volumes are the engine's container_file_t.
//
// A volume is granted nothing, and a finding says why and what to do, when
// its label is sensitive (Sensitive: a security or authentication file type
// by the policy's own attributes, home content, SELinux's configuration,
// device nodes), when the policy cannot name it, when nothing labels the
// path, or when MCS keeps the container's level from it. A writable volume
// is granted reading alone, with a finding, when its label also labels what
// the host runs or reads as its configuration (SystemWrite: etc_t, usr_t,
// lib_t, programs, services' configfile types, systemd units): the rule
// would hold for the type everywhere, not for the directory mounted.
// Volumes the engine relabels get container_file_t, which the domain
// already manages.
//
// The text is deterministic: sections are sorted (ports by protocol and
// type, volumes by label), comments name the declaration that asked for
// each rule by its content, never by its line, so that editing the .hcl
// elsewhere neither changes the module nor restarts the container.
//
// # The flavor
//
// DetectFlavor reads the devel headers that will compile the module (the
// build machine's): which template exists and how many arguments it takes.
// The attributes the flavor uses must exist in the root's policy or be
// declared by a module of the same configuration (Debian 12 installs
// refpolicy's container module with the generated one, in one
// transaction); otherwise Generate reports an error.
//
// # Denials
//
// ParseAudit reads AVC records (audit.log, ausearch -i, the kernel log,
// JournalToAudit for journalctl -o json) and joins each with its event's
// PATH and CWD records for the full path. Propose turns the denials of one
// type into proposals, the declaration first: a read-only volume made
// writable, a new volume for a path under a mounted one that carries
// another label, a published port, a network; then allow rules for a
// module of one's own, each flagged when dangerous (capabilities such as
// sys_admin, relabelling, mounting, sensitive labels, writing programs or
// the host's configuration).
// Report renders them, sorted.
package confine
