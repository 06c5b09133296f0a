// Package policydb reads the kernel's binary SELinux policy (the policy.NN
// the kernel loads, the store's policy.kern) so that seconf can ask a root's
// policy which types, attributes, booleans, permissive types, portcons and
// allow rules it has, in milliseconds, without running setools (a second or
// more per question). It is pure: bytes in (the caller reads the file
// through host.FS), answers out.
//
// # Format
//
// The image is little-endian. After a header (magic, "SE Linux", version,
// configuration: MLS and handle_unknown, table counts) come two type bitmaps
// (policy capabilities, permissive types; version 35 adds neveraudit
// types), then the eight symbol tables: commons, classes (with their
// constraints and validatetrans rules), roles, types (aliases and
// attributes included, flagged), users, booleans (with their default
// values), sensitivities and categories. Then the access vector table
// (allow, auditallow, dontaudit, type rules and extended permissions, keyed
// by source, target and class, where a source or target may be an
// attribute), the conditional rule lists (a postfix boolean expression, a
// list of rules for true, one for false), role transitions and allow rules,
// filename transitions, the object contexts (initial SIDs, fs, port,
// netif, node, fs_use, node6, and from version 31 InfiniBand), genfs
// contexts, range transitions, and last the type attribute map: per type,
// the bitmap of its attributes, already flattened.
//
// Versions 24 (2008, when type bounds came and attributes stayed in the
// kernel policy) to 35 are read. 25 adds filename transitions, 26 a class
// to role transitions, 27 and 28 per-class defaults, 29 the type sets of
// constraint names, 30 extended permissions, 31 InfiniBand contexts, 33
// compressed filename transitions, 34 extended permissions inside
// conditional lists (same entry layout, now allowed there), 35 the
// neveraudit map. Debian 12 and Fedora write 33. The tests compile a
// small policy at every version from 24 to 33 with secilc, MLS and not,
// and compare everything with setools; 34 and 35 are tested on edited
// version 33 images, since no tool here writes them. Xen policies and
// policy modules (.pp) are refused.
//
// # What is kept
//
// Parse reads and checks the whole image but keeps only what the queries
// need: names of every symbol, aliases, the attribute flag, the permissive
// map, booleans, class and common permissions, the types of each role, the
// portcons, the allow entries (unconditional and conditional) and the type
// attribute map. The rest (constraints, type and role transitions,
// auditallow and dontaudit, extended permissions, other object contexts,
// genfs, range transitions) is checked and dropped. ParseSymbols stops
// after the symbol tables, which answer HasType, IsAttribute, Booleans,
// IsPermissive and Permissions for about a quarter of the cost; it does not
// read, so does not check, the rest of the image. ParseHeader reads the
// header only.
//
// # Allowed
//
// Allowed(source, target, class) is the union of the allow rules whose
// source is the type or one of its attributes and whose target is the
// target type or one of its attributes, as the kernel's access vector
// computation does (the compiler has already expanded "self"). A
// conditional rule counts when its expression is true (for the true list)
// or false (false list) under the booleans' default values: the values
// stored in the image, which are the persistent values (semanage boolean
// -m, setsebool -P rebuild the image). Runtime-only changes (setsebool
// without -P) live in the kernel and are not seen; the node state the
// writer stored is ignored and the expression evaluated. AllowedWith takes
// other values for some booleans. Allowed answers what the type
// enforcement rules allow: constraints and MLS constraints, which can
// still deny, are not evaluated, and a permissive domain is not reported
// as allowed everything. Access vector bits the class does not name (a
// rule granting "*" sets all 32) are left out. The first query groups the
// rules by source (about a millisecond on a full policy); later queries
// take microseconds.
//
// PortType returns the first portcon in image order whose range holds the
// port: that is the order the kernel tries them in, and the policy writer
// sorts narrower ranges first. Contexts print as the kernel prints them
// (user:role:type:s0-s0:c0.c5; setools writes "s0 - s0:c0.c5").
//
// # Untrusted input
//
// seconf reads images it does not trust. Every read checks the bytes
// left; every count is checked against the bytes left, times the smallest
// encoding of one element, before anything is allocated for it, and
// bitmaps are kept as the image stores them rather than expanded, so a
// parse allocates at most a small multiple of the image (3.5 MB for a
// 2.1 MB policy; the corruption tests hold every parse to 8 times the
// input plus 1 MiB). References between tables (a rule's types
// and class, a context's user, role, type and levels, a bitmap's bits)
// are checked against the tables. Bytes after the type attribute map are
// refused. Errors are *FormatError, naming the section and byte offset.
// In two places the reader is stricter than libsepol, which no policy
// built by the tools trips: a type attribute map bit must name an
// attribute, and a conditional expression must be well formed postfix.
// A corrupted image can still be a valid policy (a flipped permission
// bit); the tests check that such a parse answers consistently.
package policydb
