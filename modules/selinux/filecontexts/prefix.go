package filecontexts

// FixedPrefix returns what every path a path expression matches starts
// with, and whether the expression matches exactly that path and nothing
// else: for "/srv/data(/.*)?" that is "/srv/data" and false, for
// "/srv/www" it is "/srv/www" and true. It is where the files a changed
// rule relabels lie, so that restorecon need not walk the whole disk. An
// expression with a top-level "|" has no common prefix: "" is returned.
func FixedPrefix(expr string) (prefix string, literal bool, err error) {
	p, err := analyze(expr)
	if err != nil {
		return "", false, err
	}
	return p.prefix, p.literal, nil
}
