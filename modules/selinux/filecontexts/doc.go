// Package filecontexts answers, in pure Go, what label SELinux gives a path:
// what selabel_lookup(3) with the file backend (matchpathcon, restorecon,
// setfiles) answers from a policy's file_contexts, for any root seconf
// manages and without running a tool on every plan. seconf uses it for the
// labels of a container's volumes, to check selinux_fcontext blocks, and to
// find the files a changed file context relabels.
//
// It follows libselinux 3.4's label_file.c (Debian 12) exactly:
//
//   - Input: file_contexts, then file_contexts.homedirs and
//     file_contexts.local if present, appended in that order; equivalences
//     from file_contexts.subs_dist and file_contexts.subs. Open reads them
//     through the caller's ReadFile (host.FS under --root); Load takes
//     bytes. The compiled .bin files are not read: libselinux prefers them
//     only when they are at least as new as the text they are compiled from.
//   - Lines are REGEX [FILETYPE] CONTEXT, fields split at C white space;
//     more than three fields are ignored (as libselinux does); a line
//     starting with # is a comment; non-ASCII in a field is an error.
//   - Precedence: specs whose expression has a metacharacter among
//     .^$?*+|[({ (not counting escaped ones) come first, exact ones after,
//     each group in input order; the LAST matching spec in that order wins.
//     So an exact path beats any regex, even a later one in .local, and
//     among regexes (or among exact paths) the later line wins: .local over
//     the policy.
//   - A typed spec matches only a file of its type; a lookup of type Any
//     (mode 0) considers every spec, typed or not.
//   - <<none>> as the deciding spec means no label (restorecon leaves such
//     files alone).
//   - The path is cut at a NUL, repeated slashes are squeezed, one
//     trailing slash is dropped; then equivalences apply: the first of
//     file_contexts.subs that fits (the LAST line first), then, on its
//     result, the first of file_contexts.subs_dist (again last line
//     first), or that one alone. An equivalence "A B" fits A and paths
//     under A/, and replaces the A.
//   - libselinux only tries a regex whose stem (the text before the second
//     slash, if it holds no metacharacter) is the path's stem, or that has
//     none; this package groups specs by stem the same way, and also skips
//     a spec whose fixed prefix the path lacks before compiling its regex.
//     Regexes are compiled at first use, as libselinux does.
//
// Regular expressions: libselinux anchors "^" + REGEX + "$" (so a top-level
// "|" leaves each alternative anchored at one end only) and compiles with
// PCRE2 in DOTALL mode, without UTF: "." matches a newline, and every byte
// is a character. Go's RE2 differs in ways translated here: "(?s)" is
// prepended; paths with bytes of 0x80 and above are matched as Latin-1
// text, so "." and "[^/]" take one byte; a path ending in a newline is also
// tried without it, because PCRE2's "$" matches before a final newline;
// \s gains the vertical tab; \v \h \V \H \S \N \e \Z are rewritten. What
// RE2 cannot do (back-references, look-around, atomic and possessive
// groups, (?x), repeat counts over 1000) is an error naming the line.
// Real policies use literals, escaped punctuation, ".", bracket classes,
// groups, "|" and "?*+"; those are checked by a scan that both engines
// agree on, anything else is parsed by regexp/syntax at load, so errors
// show at load time. Not reproduced: a "$" followed by more pattern that
// matches a final newline ("a$\n"), which no policy writes.
//
// libselinux 3.8 (Debian 13) rewrote this backend. Until 3.9 it differed
// from 3.4 in two corners: an exact path in .local did not override the
// same exact path in the policy, and equivalences applied first line
// first. 3.9 restored 3.4's behaviour, which is what this package does.
//
// Checks for configuration: ValidRegex (a path expression as semanage
// fcontext -a takes it), Set.Duplicates (what libselinux refuses when it
// validates), Set.Equivalence (a spec under an equivalence's alias is never
// used) and Set.Overlapping (which specs a new expression could take paths
// from).
package filecontexts
