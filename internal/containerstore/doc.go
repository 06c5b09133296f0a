// Package containerstore reads what podman and docker keep on disk — their
// image index and podman's secret index — so that seconf can tell whether
// an image or a secret is there without running either: the no-change path
// runs no command and asks no registry. Only the files are read, through
// host.FS (under --root, the root's stores); nothing here writes to them.
//
// The formats are the engines' own and not promised to anyone: podman's
// containers/storage keeps GRAPHROOT/DRIVER-images/images.json (one object
// per image: id, digest, digests, names) and GRAPHROOT/secrets/secrets.json
// (nameToID); docker keeps DATA-ROOT/image/DRIVER/repositories.json
// (familiar name → tag or digest reference → image ID). A store that cannot
// be read answers "unknown", and callers fall back on what the state
// record says seconf pulled, so that a format change costs a pull, never a
// wrong answer that something is there.
package containerstore
