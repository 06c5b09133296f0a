package files

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"

	"seconf/config"
	"seconf/host"
	"seconf/modules/selinux/filecontexts"
)

// labeller decides the label a file or directory with selinux_type gets,
// and whether the policy's file contexts would keep it through a relabel.
type labeller struct {
	h *host.Host
	// rules are the configuration's selinux_fcontext blocks, committed in
	// the same apply: whether a relabel keeps a type is judged with them.
	rules   []filecontexts.Local
	set     *filecontexts.Set // nil: the root has no policy to ask
	planned *filecontexts.Set // set with rules, or set when there are none
	loaded  bool
	err     error
}

// policyType is SELINUXTYPE in the root's /etc/selinux/config (the last
// one, as libselinux reads it), "" when there is none.
func policyType(h *host.Host) string {
	data, err := h.FS.ReadFile(host.SELinuxConfig)
	if err != nil {
		return ""
	}
	name := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SELINUXTYPE="); ok && strings.TrimSpace(v) != "" {
			name = strings.TrimSpace(v)
		}
	}
	return name
}

func (l *labeller) contexts() *filecontexts.Set {
	if !l.loaded {
		l.loaded = true
		if t := policyType(l.h); t != "" {
			pf := filecontexts.PolicyFile(t)
			l.set, l.err = filecontexts.Open(l.h.FS.ReadFile, pf)
			l.planned = l.set
			if l.err == nil && len(l.rules) > 0 {
				// Only the type of a planned rule is asked for, never its
				// level: MLS or not makes no difference here.
				l.planned, l.err = filecontexts.Open(filecontexts.WithLocal(l.h.FS.ReadFile, pf, l.rules, false), pf)
			}
		}
	}
	return l.set
}

// label is the label to give p (a directory when dir): the policy's
// context for it with the type replaced, or its parent's, or the usual
// object context. want is "" when the tree carries no labels at all (a
// root never labelled, a host with SELinux off): there is nothing to set
// that anything would read. kept says whether a relabel (restorecon,
// autorelabel) would give p that type; policy says what it would give.
func (l *labeller) label(p string, dir bool, typ string) (want string, kept bool, policy string) {
	base := filecontexts.Context{User: "system_u", Role: "object_r", Range: "s0"}
	if parent, err := l.h.FS.Label(path.Dir(p)); err == nil && parent != "" {
		if c, err := filecontexts.ParseContext(parent); err == nil {
			base = c
			base.Role = "object_r"
		}
	}
	if set := l.contexts(); set != nil {
		ft := filecontexts.Regular
		if dir {
			ft = filecontexts.Directory
		}
		if c, ok := set.Lookup(p, ft); ok {
			base = c
		}
		if l.planned != nil {
			if c, ok := l.planned.Lookup(p, ft); ok {
				policy = c.Type
				kept = c.Type == typ
			}
		}
	}
	if !l.h.FS.Labelled(p) {
		return "", kept, policy
	}
	base.Type = typ
	return base.String(), kept, policy
}

// typeOf is the type of a label, "" for none.
func typeOf(label string) string {
	c, err := filecontexts.ParseContext(label)
	if err != nil {
		return ""
	}
	return c.Type
}

func fcontextAdvice(p string, dir bool, typ string) string {
	expr := regexpQuote(p)
	if dir {
		expr += "(/.*)?"
	}
	return fmt.Sprintf("selinux_fcontext { path = %q, type = %q }", expr, typ)
}

// regexpQuote escapes what a file-context expression reads as a
// metacharacter.
func regexpQuote(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`.^$?*+|[](){}\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// newLabeller asks root h, with the configuration's selinux_fcontext
// blocks that the same apply commits.
func newLabeller(h *host.Host, cfg *config.Config) *labeller {
	return &labeller{h: h, rules: filecontexts.Rules(cfg.FContexts)}
}
