// Package mount renders mount blocks as systemd .mount units in
// /etc/systemd/system, named after the mount point as systemd requires
// (/srv/data → srv-data.mount).
//
// selinux_context becomes the mount option context="...": the whole mount
// then carries that one label (container_file_t for a volume that containers
// share) without relabelling a file, which also works for file systems that
// store no labels. The value is quoted because an MCS level holds commas
// (s0:c1,c2) that mount(8) would otherwise read as option separators.
//
// An enabled mount is wanted by local-fs.target, or by remote-fs.target for
// a network file system (a known network type or the _netdev option), the
// targets fstab mounts hang off.
package mount
