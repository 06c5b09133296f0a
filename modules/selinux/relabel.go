package selinux

import (
	"path"
	"sort"
	"strings"

	"seconf/host"
	"seconf/modules/selinux/filecontexts"
)

// relabelTarget is one path restorecon relabels, with what lies under it
// or alone.
type relabelTarget struct {
	Path      string
	Recursive bool
}

// relabelTargets finds the existing files a changed rule can relabel,
// without walking the disk: the fixed prefix of each path expression (what
// every path it matches starts with). An exact path is relabelled alone; a
// prefix ending in '/' is a directory relabelled with all under it; a
// prefix ending inside a name ("/srv/da" of "/srv/da(ta)?") takes each
// entry of its directory whose name starts so. A target inside another,
// recursive one is left to it.
func relabelTargets(fsys host.FS, exprs []string) []relabelTarget {
	want := map[string]bool{} // path → recursive
	add := func(p string, rec bool) {
		if fsys.Exists(p) || p == "/" {
			want[p] = want[p] || rec
		}
	}
	for _, e := range exprs {
		prefix, literal, err := filecontexts.FixedPrefix(e)
		if err != nil || !strings.HasPrefix(prefix, "/") {
			continue // refused by Validate before anything ran
		}
		switch {
		case literal:
			add(prefix, false)
		case strings.HasSuffix(prefix, "/"):
			add(path.Clean(prefix), true)
		default:
			dir, base := path.Dir(prefix), path.Base(prefix)
			ents, _ := fsys.ReadDir(dir)
			for _, ent := range ents {
				if strings.HasPrefix(ent.Name(), base) {
					add(path.Join(dir, ent.Name()), true)
				}
			}
		}
	}
	var out []relabelTarget
	for p, rec := range want {
		covered := false
		for q, qrec := range want {
			if qrec && q != p && (q == "/" || strings.HasPrefix(p, q+"/")) {
				covered = true
			}
		}
		if !covered {
			out = append(out, relabelTarget{p, rec})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// relabelCommands is one restorecon for the single paths and one
// restorecon -R for the trees. restorecon resets the type only (not user,
// role or level) and leaves files whose label is right untouched.
func relabelCommands(bin string, ts []relabelTarget) []host.Cmd {
	var flat, rec []string
	for _, t := range ts {
		if t.Recursive {
			rec = append(rec, t.Path)
		} else {
			flat = append(flat, t.Path)
		}
	}
	var out []host.Cmd
	if len(flat) > 0 {
		out = append(out, host.Cmd{Name: bin, Args: flat})
	}
	if len(rec) > 0 {
		out = append(out, host.Cmd{Name: bin, Args: append([]string{"-R"}, rec...)})
	}
	return out
}
