// Command seconf configures a Linux host from HCL: SELinux policy (modules,
// booleans, file contexts, ports), and containers, files and mounts as
// systemd units and files. This package holds flags,
// output rendering and exit codes only; the work is in config and engine.
//
// # Secrets
//
// Sensitive values are kept out of output by construction, not by
// redaction: config refuses them everywhere but in container environment
// values (and withholds HCL's details about expressions that use them), the
// renderers put those only into a 0600 environment file marked sensitive,
// whose diff is never shown, and no error about an environment value quotes
// it; `timer install` puts sensitive --var values into a 0600 environment
// file too. Tests and config.FuzzLoad check each output channel.
//
// A last-resort filter that replaces every sensitive value in everything
// printed or recorded was considered and left out. It catches only the
// exact bytes, and output changes them in many ways: %q quoting, JSON's
// \u003c escapes, systemd's %% and $$, the diagnostic writer's wrapping at
// 100 columns (a value with spaces is split across lines), diffs split into
// lines. It would miss exactly the leaks a bug would cause, while giving the
// impression of a guarantee; short values ("1", "prod") would blank out
// unrelated text, and a length threshold leaves them unprotected anyway; and
// it would have to buffer -v and journald lines to match values across
// writes. The structural rule is checked instead.
package main
