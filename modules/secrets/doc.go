// Package secrets gives containers sensitive values without writing them
// where others read: a secret "NAME" block becomes a podman secret NAME, or
// for docker (which has secrets only in swarm mode) a file
// /etc/seconf/secrets/NAME, mode 0600, that the container's unit mounts
// read-only at /run/secrets/NAME, where podman mounts its secrets too.
// Containers use it through quadlet's Secret key: secret =
// [secret.NAME.name] (with podman's options after a comma: type=env,
// target=...).
//
// The value reaches podman on standard input (podman secret create NAME -):
// never on a command line, in seconf's output, its log, a unit or the state
// record. The record keeps a keyed hash of it (HMAC-SHA256 under the host's
// own key, host.HashKey, so that a reader of the record cannot test guesses)
// to tell a changed value, and podman's ID of the secret seconf made, to
// tell one made again by hand; both are drift that apply corrects. Whether
// the secret exists is read from podman's index on disk
// (internal/containerstore): a plan runs no command.
//
// A changed secret is made again (podman 4.3 has no create --replace: rm,
// then create); the change provides its ID, which every container that uses
// it needs, so exactly those containers restart. A podman secret of that
// name that seconf did not make is refused; one seconf made and someone
// else since replaced is forgotten, not removed, when the block goes.
//
// Offline (--root) podman secrets are not made: the build machine's podman
// cannot safely write into the image's store (see modules/images), and a
// secret belongs to the host that runs the image rather than to the image.
// Plan warns. Docker's secret files are written offline like any file.
package secrets
