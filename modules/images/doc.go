// Package images pulls the images of the configuration's containers before
// the units provider starts or restarts them, so that no unit's start waits
// on a registry (a first boot's start timeout, a slow link).
//
// # When seconf pulls
//
// The container's pull attribute is quadlet's Pull key, and seconf reads it
// for its own pull too:
//
//   - missing (the default): seconf pulls an image that is not in the
//     engine's store;
//   - always, newer: seconf also pulls when the configuration names a
//     reference it has not pulled before, and again whenever apply starts
//     or restarts a container that runs it (a restart provides nothing:
//     other containers running it keep their image until their own
//     restart; the unit's own pull at each start still happens, as quadlet
//     means);
//   - never: seconf does not pull, and plan warns when the image is not
//     there.
//
// Whether an image is there is read from the store's index on disk
// (internal/containerstore), never by running podman or asking a registry,
// so a plan with nothing to change runs no command. After a pull seconf
// records the image ID and digest it got (state section "images"), which
// also answers for a store whose index it cannot read. A pulled image
// provides config.ImageKey(engine, ref), which every container running it needs: a
// container whose image was pulled anew restarts with it.
//
// # Pins
//
// A digest in the reference pins the image: image =
// "docker.io/fluent/fluentd:v1.17-1@sha256:...". podman, docker and quadlet
// run such a reference as it is (podman 4.3 pulls tag@digest by the
// digest), so the unit itself runs exactly the pinned image, at boot too;
// the tag stays for people to read. Changing the pin changes the unit, and
// the new image is pulled before the container restarts. plan
// --refresh-images (Env.Refresh) asks the registry, with skopeo inspect,
// what the tag points at now, and warns when a pinned tag has moved or an
// unpinned one no longer names the local image; offline, with the root's
// registries.conf. Nothing else asks a registry.
//
// # Offline
//
// Under --root nothing is pulled: the build machine's podman writing into
// the root's store (podman --root) would use the build machine's
// storage.conf, driver and containers/storage version on a store the
// image's podman must read, which is not safe across versions (Debian 12's
// podman 4.3 building a Debian 13 image). Plan says so once (which images the root lacks), and the unit
// pulls at its first start; load the image into the tree by the image
// build's own means, or let the first online apply pull it.
//
// Images are never removed: an image of a container that left the
// configuration may serve others; only its record goes.
package images
