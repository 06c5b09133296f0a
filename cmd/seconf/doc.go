// Command seconf configures a Linux host from HCL: SELinux policy modules,
// and containers and mounts as systemd units. This package holds flags,
// output rendering and exit codes only; the work is in config and engine.
package main
