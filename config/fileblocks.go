package config

import (
	"os"
	"path"
	"seconf/internal/lazyre"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Block kinds of files and directories seconf writes.
const (
	KindFile      = "file"
	KindDirectory = "directory"
)

// MaxFileBlockSize bounds what a file block carries: it is configuration
// held in memory and hashed on every plan, not bulk data.
const MaxFileBlockSize = 16 << 20

// File is a `file "NAME"` block: one regular file, written atomically with
// its mode, owner, group and (optionally) SELinux type.
type File struct {
	Block
	Path string
	// Content is the file's bytes: the content attribute, or the source
	// file as it was when the configuration was loaded.
	Content []byte
	// Source is the absolute path of the source file, "" for inline content.
	Source string
	// Sensitive content came from a sensitive variable: never shown, and
	// recorded only as a keyed hash.
	Sensitive bool
	Attrs
	// TakeOver lets seconf replace a file it did not write; the original is
	// kept and put back when the block goes.
	TakeOver bool
}

// Directory is a `directory "NAME"` block.
type Directory struct {
	Block
	Path string
	Attrs
	TakeOver bool
}

// Attrs are what a file or directory block says about the inode: its
// permissions, owner and group (a name, looked up in the managed root's
// /etc/passwd and /etc/group, or a number), and an SELinux type.
type Attrs struct {
	Mode        uint32 // permission bits, 0 to 0777 (01777 for a directory)
	Owner       string // "" means root
	Group       string // "" means root
	SELinuxType string
}

// FileContextKey is what a file or directory with an SELinux type provides
// for the label to be kept by a relabel: a selinux_fcontext for path.
func FileContextKey(p string) string { return "fcontext:" + p }

// PathKey is what a change to a file or directory at p provides, and what a
// container that mounts p needs: the container restarts when it changes.
func PathKey(p string) string { return "file:" + p }

var (
	fileSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "content"}, {Name: "source"}, {Name: "mode"}, {Name: "owner"},
		{Name: "group"}, {Name: "selinux_type"}, {Name: "take_over"}, {Name: "depends_on"},
	}}
	directorySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "mode"}, {Name: "owner"}, {Name: "group"}, {Name: "selinux_type"},
		{Name: "take_over"}, {Name: "depends_on"},
	}}
)

func (l *loader) decodeFile(b *hcl.Block, ctx *hcl.EvalContext) *File {
	blk, a, _ := l.content(b, fileSchema, ctx, KindFile)
	if blk == nil {
		return nil
	}
	a.require("path")
	f := &File{Path: a.str("path", ""), TakeOver: a.boolean("take_over", false)}
	f.Attrs = l.fileAttrs(a, 0o644, 0o777)
	_, hasContent := a.attrs["content"]
	_, hasSource := a.attrs["source"]
	switch {
	case hasContent && hasSource:
		rng := a.attrs["source"].Expr.Range()
		l.errorf(&rng, "Conflicting arguments", "Give either content or source, not both.")
	case hasContent:
		f.Content, f.Sensitive = a.fileContent("content")
	case hasSource:
		f.Source, f.Content = l.fileSource(a, a.str("source", ""))
	default:
		l.errorf(&blk.DeclRange, "Missing file content", "A file needs content = <<-EOT ... EOT, or source = \"FILE\" (relative to this .hcl file). For an empty file write content = \"\".")
	}
	f.Block = *a.blk
	a.hostPath("path", f.Path, f.AttrRange("path"))
	if why, refused := WriteRefused(f.Path); refused {
		rng := f.AttrRange("path")
		l.errorf(&rng, "File path refused", "seconf does not write %s: %s.", f.Path, why)
	}
	return f
}

func (l *loader) decodeDirectory(b *hcl.Block, ctx *hcl.EvalContext) *Directory {
	blk, a, _ := l.content(b, directorySchema, ctx, KindDirectory)
	if blk == nil {
		return nil
	}
	a.require("path")
	d := &Directory{Path: a.str("path", ""), TakeOver: a.boolean("take_over", false)}
	d.Attrs = l.fileAttrs(a, 0o755, 0o1777)
	d.Block = *a.blk
	a.hostPath("path", d.Path, d.AttrRange("path"))
	rng := d.AttrRange("path")
	if why, refused := WriteRefused(d.Path); refused {
		l.errorf(&rng, "Directory path refused", "seconf does not manage %s: %s.", d.Path, why)
	} else if sys, ok := SystemPath(d.Path); ok && Canonical(d.Path) == sys {
		l.errorf(&rng, "Directory path refused", "%s is a system directory: its mode, owner and label are the distribution's, and every service below it relies on them. Manage a directory below it, such as %s/NAME.", d.Path, strings.TrimSuffix(sys, "/"))
	}
	return d
}

// fileAttrs decodes mode, owner, group and selinux_type.
func (l *loader) fileAttrs(a *attrs, defMode, maxMode uint32) Attrs {
	at := Attrs{Mode: defMode, Owner: a.str("owner", ""), Group: a.str("group", ""), SELinuxType: a.str("selinux_type", "")}
	if attr, ok := a.attrs["mode"]; ok {
		rng := attr.Expr.Range()
		a.blk.Ranges["mode"] = rng
		v, diags := attr.Expr.Value(a.ctx)
		switch {
		case diags.HasErrors():
			l.diags = append(l.diags, diags...)
		case v.Type() == cty.Number:
			// 0644 in HCL is the decimal number 644.
			l.errorf(&rng, "Mode must be a string", "Write the mode in octal as a string, such as mode = \"0644\": HCL reads the number 0644 as decimal 644.")
		default:
			s := a.str("mode", "")
			m, err := strconv.ParseUint(s, 8, 32)
			if err != nil || len(s) < 3 || len(s) > 5 || uint32(m) > maxMode {
				l.errorf(&rng, "Invalid mode", "%q is not a mode seconf writes: give three or four octal digits up to %04o (no setuid or setgid bit).", s, maxMode)
			} else {
				at.Mode = uint32(m)
			}
		}
	}
	for _, name := range []string{"owner", "group"} {
		v := at.Owner
		if name == "group" {
			v = at.Group
		}
		if v != "" && !accountRe.MatchString(v) {
			rng := a.blk.AttrRange(name)
			l.errorf(&rng, "Invalid "+name, "%q is neither a user or group name nor a number.", v)
		}
	}
	if at.SELinuxType != "" && !typeRe.MatchString(at.SELinuxType) {
		rng := a.blk.AttrRange("selinux_type")
		l.errorf(&rng, "Invalid SELinux type", "%q is not an SELinux type name (letters, digits and '_').", at.SELinuxType)
	}
	return at
}

var (
	// accountRe: what useradd and groupadd accept (Debian's default), or a number.
	accountRe = lazyre.New(`^([0-9]+|[a-z_][a-z0-9_.-]{0,31}\$?)$`)
	typeRe    = lazyre.New(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// fileContent is a content attribute: any text (a heredoc), kept byte for
// byte; a value from a sensitive variable is marked so.
func (a *attrs) fileContent(name string) ([]byte, bool) {
	s, sensitive, ok := a.secretString(name)
	if !ok {
		return nil, sensitive
	}
	if len(s) > MaxFileBlockSize {
		rng := a.blk.AttrRange(name)
		a.l.errorf(&rng, "File too large", "content holds %d bytes; a file block takes up to %d.", len(s), MaxFileBlockSize)
		return nil, sensitive
	}
	return []byte(s), sensitive
}

// fileSource reads a source file, under the rules of selinux_module
// sources: relative to the .hcl file, not leaving its directory (a symlink
// that leads out counts as leaving), and a regular file.
func (l *loader) fileSource(a *attrs, src string) (string, []byte) {
	rng := a.blk.AttrRange("source")
	if src == "" {
		l.errorf(&rng, "Empty source", "source must name a file.")
		return "", nil
	}
	p, relative, dir := src, false, ""
	if !path.IsAbs(src) {
		dir = path.Dir(rng.Filename)
		p, relative = path.Join(dir, src), true
		rel := path.Clean(src)
		if rel == ".." || strings.HasPrefix(rel, "../") {
			l.errorf(&rng, "Source outside the configuration", "%q leaves the configuration's directory; keep file sources beside the .hcl files, or give an absolute path.", src)
			return "", nil
		}
	}
	// The checks of a policy source (a regular file, really inside the
	// configuration's directory), recorded for the parse cache.
	if !l.sourceFile(rng, p, relative, dir) {
		return "", nil
	}
	data, err := l.readFile(p)
	if err != nil {
		l.errorf(&rng, "Cannot read source", "%s: %v.", p, unwrapPath(err))
		return "", nil
	}
	if len(data) > MaxFileBlockSize {
		l.errorf(&rng, "File too large", "%s holds %d bytes; a file block takes up to %d.", p, len(data), MaxFileBlockSize)
		return "", nil
	}
	return p, data
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// writeRefused are the trees seconf never writes a file or manages a
// directory in, with why: the accounts and privilege databases, SELinux's
// own policy, the kernel's and the boot loader's trees, the unit
// directories (units come from container and mount blocks, which are
// checked), the container engines' configuration that switches their
// confinement and their stores, and seconf's own record and secrets.
var writeRefused = []struct{ tree, why string }{
	{"/etc/passwd", "is the accounts' (useradd's and the packages')"},
	{"/etc/passwd-", "is the accounts' (useradd's and the packages')"},
	{"/etc/group", "is the accounts' (groupadd's and the packages')"},
	{"/etc/group-", "is the accounts' (groupadd's and the packages')"},
	{"/etc/shadow", "holds password hashes"},
	{"/etc/shadow-", "holds password hashes"},
	{"/etc/gshadow", "holds password hashes"},
	{"/etc/gshadow-", "holds password hashes"},
	{"/etc/sudoers", "grants root"},
	{"/etc/sudoers.d", "grants root"},
	{"/etc/pam.d", "decides who logs in"},
	{"/etc/selinux", "is SELinux policy, set with selinux_module and the selinux_* blocks"},
	{"/var/lib/selinux", "is SELinux policy, set with selinux_module and the selinux_* blocks"},
	{"/etc/systemd/system", "holds units, which come from container and mount blocks"},
	// Drop-ins there override the units seconf writes (ExecStart= of a
	// container's service): every container check would be for nothing.
	{"/etc/systemd/system.control", "holds drop-ins that override the units seconf writes"},
	{"/etc/systemd/system.attached", "holds drop-ins that override the units seconf writes"},
	{"/usr/local/lib/systemd/system", "holds units and drop-ins that override the units seconf writes"},
	// The manager's DefaultEnvironment= reaches podman in every unit
	// (CONTAINERS_CONF= can switch SELinux labelling off).
	{"/etc/systemd/system.conf", "sets every unit's environment, podman's included"},
	{"/etc/systemd/system.conf.d", "sets every unit's environment, podman's included"},
	{"/etc/systemd/system-generators", "holds programs systemd runs as root at every boot"},
	{"/usr/local/lib/systemd/system-generators", "holds programs systemd runs as root at every boot"},
	{"/etc/systemd/system-environment-generators", "holds programs systemd runs as root at every boot"},
	{"/usr/local/lib/systemd/system-environment-generators", "holds programs systemd runs as root at every boot"},
	{"/run/systemd", "is systemd's runtime state"},
	{"/etc/containers/systemd", "holds quadlet files, which come from container, volume and network blocks"},
	{"/run/containers/systemd", "holds quadlet files, which come from container, volume and network blocks"},
	{"/etc/containers/containers.conf", "can switch SELinux labelling off for every container"},
	{"/etc/containers/containers.conf.d", "can switch SELinux labelling off for every container"},
	// Read by rootful podman too: containers/common reads the rootful
	// drop-ins and root's own containers.conf (and its .d).
	{"/etc/containers/containers.rootful.conf", "can switch SELinux labelling off for every container"},
	{"/etc/containers/containers.rootful.conf.d", "can switch SELinux labelling off for every container"},
	{"/root/.config/containers", "can switch SELinux labelling off for every container (root's own containers.conf)"},
	{"/var/lib/containers", "is podman's store"},
	{"/var/lib/docker", "is docker's store"},
	{"/etc/seconf", "holds seconf's environment files and secrets"},
	{"/var/lib/seconf", "is seconf's state record"},
	{"/proc", "is the kernel's"},
	{"/sys", "is the kernel's"},
	{"/dev", "is the kernel's"},
	{"/boot", "is the boot loader's"},
	{"/usr", "is the package manager's (write below /usr/local)"},
}

// WriteRefused reports whether seconf refuses to write a file or manage a
// directory at p, however spelled (/lib, /var/run), and why.
func WriteRefused(p string) (string, bool) {
	c := Canonical(p)
	if c == "/" {
		return "it is the root directory", true
	}
	local := c == "/usr/local" || strings.HasPrefix(c, "/usr/local/")
	for _, r := range writeRefused {
		if local && r.tree == "/usr" {
			continue // the administrator's, but for the entries of its own
		}
		if c == r.tree || strings.HasPrefix(c, r.tree+"/") {
			return r.tree + " " + r.why, true
		}
	}
	return "", false
}

// pathValue is what file.NAME and directory.NAME evaluate to in other blocks.
func pathValue(name, p string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "path": cty.StringVal(p)})
}

// decodeFiles decodes the file and directory blocks and makes file.NAME
// and directory.NAME available to the blocks decoded after them.
func (l *loader) decodeFiles(byType map[string][]*hcl.Block, ctx *hcl.EvalContext) {
	files := map[string]cty.Value{}
	for _, b := range byType[KindFile] {
		if f := l.decodeFile(b, ctx); f != nil {
			l.cfg.Files = append(l.cfg.Files, f)
			files[f.Name] = pathValue(f.Name, f.Path)
		}
	}
	dirs := map[string]cty.Value{}
	for _, b := range byType[KindDirectory] {
		if d := l.decodeDirectory(b, ctx); d != nil {
			l.cfg.Directories = append(l.cfg.Directories, d)
			dirs[d.Name] = pathValue(d.Name, d.Path)
		}
	}
	ctx.Variables[KindFile] = objectOrEmpty(files)
	ctx.Variables[KindDirectory] = objectOrEmpty(dirs)
	// The later block in the files is the one in error.
	type entry struct {
		b *Block
		p string
	}
	var all []entry
	for _, d := range l.cfg.Directories {
		all = append(all, entry{&d.Block, d.Path})
	}
	for _, f := range l.cfg.Files {
		all = append(all, entry{&f.Block, f.Path})
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].b.DeclRange, all[j].b.DeclRange
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	seen := map[string]*Block{}
	for _, e := range all {
		if o := seen[Canonical(e.p)]; o != nil {
			rng := e.b.AttrRange("path")
			l.errorf(&rng, "Two blocks manage one path", "%s and %s (%s) both manage %s; keep one of them.", e.b.ID(), o.ID(), o.DeclRange, e.p)
			continue
		}
		seen[Canonical(e.p)] = e.b
	}
}
