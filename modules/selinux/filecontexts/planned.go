package filecontexts

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"seconf/config"
)

// Local is a rule a configuration adds to the policy's local file
// contexts (a selinux_fcontext block) before it is committed: Equal for an
// equivalence, else Path (a regular expression), Field (the file type
// field of file_contexts: "" for every type, "--", "-d", ...) and Type.
type Local struct {
	Path, Field, Type, Equal string
}

// Fields maps the file type names a configuration uses to the
// file_contexts field.
var Fields = map[string]string{
	"all": "", "file": "--", "directory": "-d", "symlink": "-l",
	"socket": "-s", "pipe": "-p", "block": "-b", "char": "-c",
}

// Rules are a configuration's selinux_fcontext blocks as the rules
// semanage will add; a file type this package does not know is left to the
// selinux provider, which refuses it.
func Rules(fcs []*config.FContext) []Local {
	var out []Local
	for _, f := range fcs {
		field, ok := Fields[f.FileType]
		if !ok && f.Equal == "" {
			continue
		}
		out = append(out, Local{Path: f.Path, Field: field, Type: f.Type, Equal: f.Equal})
	}
	return out
}

// WithLocal is read with rules after the policy's own .local and .subs
// lines (a later line wins among equals), as semanage writes them in the
// commit that adds them: Open through it gives the file contexts as an
// apply leaves them. mls gives the contexts the level s0, as semanage
// does on a policy with MLS.
func WithLocal(read func(string) ([]byte, error), policyFile string, rules []Local, mls bool) func(string) ([]byte, error) {
	if len(rules) == 0 {
		return read
	}
	var local, subs strings.Builder
	for _, r := range rules {
		if r.Equal != "" {
			fmt.Fprintf(&subs, "%s %s\n", r.Path, r.Equal)
			continue
		}
		ctx := "system_u:object_r:" + r.Type
		if mls {
			ctx += ":s0"
		}
		if r.Field != "" {
			fmt.Fprintf(&local, "%s\t%s\t%s\n", r.Path, r.Field, ctx)
		} else {
			fmt.Fprintf(&local, "%s\t%s\n", r.Path, ctx)
		}
	}
	extra := map[string]string{policyFile + ".local": local.String(), policyFile + ".subs": subs.String()}
	return func(name string) ([]byte, error) {
		data, err := read(name)
		add := extra[name]
		if add == "" {
			return data, err
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			data = nil
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		return append(data[:len(data):len(data)], add...), nil
	}
}
