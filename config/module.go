package config

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"seconf/internal/lazyre"
)

// Module formats.
const (
	FormatTE  = "te"
	FormatCIL = "cil"
	FormatPP  = "pp"
)

// Module is a `selinux_module "NAME"` block.
type Module struct {
	Block
	// Source is the absolute path of the source file, or "" for inline content.
	Source string
	// Content is the inline policy text when Source is "".
	Content  string
	Format   string // te, cil or pp
	Priority int
	Enabled  bool
	// Override lets seconf install its module although another module of
	// the same name is installed (at another priority): seconf's copy, at a
	// higher priority, takes precedence, and the other is left in place.
	Override bool
	// Existing is a block with no source and enabled = false: it disables
	// the module NAME that is already installed (seconf does not own it),
	// and removing the block enables it again.
	Existing bool
}

var moduleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source"}, {Name: "content"}, {Name: "format"}, {Name: "priority"}, {Name: "enabled"}, {Name: "depends_on"}, {Name: "override"},
}}

func (l *loader) decodeModule(b *hcl.Block, ctx *hcl.EvalContext) *Module {
	blk, a, _ := l.content(b, moduleSchema, ctx, KindModule)
	if blk == nil {
		return nil
	}
	before := len(l.diags)
	m := &Module{Block: *blk}
	src := a.str("source", "")
	m.Content = a.text("content")
	m.Format = a.str("format", "")
	m.Priority = a.integer("priority", 400)
	m.Enabled = a.boolean("enabled", true)
	m.Override = a.boolean("override", false)
	m.Block = *a.blk
	_, hasSrc := a.attrs["source"]
	_, hasContent := a.attrs["content"]
	_, hasEnabled := a.attrs["enabled"]
	switch {
	case hasSrc && hasContent:
		rng := m.AttrRange("content")
		l.errorf(&rng, "Conflicting arguments", "Give either source or content, not both.")
	case !hasSrc && !hasContent && hasEnabled && !m.Enabled:
		m.Existing = true
		for _, name := range []string{"format", "priority", "override"} {
			if _, ok := a.attrs[name]; ok {
				rng := m.AttrRange(name)
				l.errorf(&rng, "Argument without meaning here", "selinux_module %q has no source: it disables the module %s already installed, at whatever priority, and %s has no meaning for it. Remove %s, or give the module's source.", m.Name, m.Name, name, name)
			}
		}
	case !hasSrc && !hasContent:
		l.errorf(&m.DeclRange, "Missing policy source", "A selinux_module needs source = \"FILE.te|.cil|.pp\" or content = <<-EOT ... EOT (a .te or CIL text). To disable a module that is already installed, write only enabled = false.")
	case hasSrc:
		l.moduleSource(m, src)
	default:
		l.contentFormat(m)
	}
	if m.Priority < 1 || m.Priority > 999 {
		rng := m.AttrRange("priority")
		l.errorf(&rng, "Invalid priority", "semodule priorities run from 1 to 999; %d is outside.", m.Priority)
	}
	if len(l.diags) == before && m.Format == FormatTE {
		text := m.Content
		if m.Source != "" {
			data, _ := l.readFile(m.Source)
			text = string(data)
		}
		rng := m.AttrRange("source")
		if m.Source == "" {
			rng = m.AttrRange("content")
		}
		l.checkTEName(m.Name, text, rng)
	}
	if len(l.diags) == before && m.Format == FormatPP {
		l.checkPPName(m)
	}
	return m
}

// text is a policy text attribute: written to a file for the compiler, never
// into a unit or a command line, so that newlines and tabs are what a
// heredoc is for; other control characters are still refused.
func (a *attrs) text(name string) string { return a.str(name, "") }

var (
	teStartRe  = lazyre.New(`(?m)^\s*(policy_module\s*\(|module\s+[A-Za-z0-9_.-]+\s+[0-9][0-9.]*\s*;)`)
	cilStartRe = lazyre.New(`^(\s+|;[^\n]*\n?)*\(`)
)

// contentFormat checks or infers the language of inline content: the README
// shows content = <<-EOT ... EOT alone, so format is needed only when the
// text does not say. CIL starts with '(' after comments; a .te has
// policy_module(NAME, VERSION) or "module NAME VERSION;".
func (l *loader) contentFormat(m *Module) {
	rng := m.AttrRange("format")
	if m.Format != "" {
		if m.Format != FormatTE && m.Format != FormatCIL {
			l.errorf(&rng, "Invalid format", "Inline content is format = \"te\" or format = \"cil\" (a .pp is binary: give it as source).")
		}
		return
	}
	isTE, isCIL := teStartRe.MatchString(m.Content), cilStartRe.MatchString(m.Content)
	switch {
	case isTE && !isCIL:
		m.Format = FormatTE
	case isCIL && !isTE:
		m.Format = FormatCIL
	default:
		crng := m.AttrRange("content")
		l.errorf(&crng, "Cannot tell the policy language", "seconf cannot tell whether this content is CIL (it starts with '(' after ';' comments) or a .te (it has policy_module(%s, VERSION) or \"module %s VERSION;\"). Set format = \"te\" or format = \"cil\", or correct the text.", m.Name, m.Name)
	}
}

func (l *loader) moduleSource(m *Module, src string) {
	rng := m.AttrRange("source")
	if src == "" && l.reported(rng) {
		return // refused already (a sensitive or invalid value)
	}
	if src == "" {
		l.errorf(&rng, "Empty source", "source must name a .te, .cil or .pp file.")
		return
	}
	ext := strings.TrimPrefix(path.Ext(src), ".")
	if ext != FormatTE && ext != FormatCIL && ext != FormatPP {
		l.errorf(&rng, "Unknown policy format", "%q does not end in .te, .cil or .pp; seconf reads the format from the file name.", src)
		return
	}
	if m.Format != "" && m.Format != ext {
		frng := m.AttrRange("format")
		l.errorf(&frng, "Conflicting format", "format = %q, but the source file is a .%s file. Drop format, or correct it.", m.Format, ext)
		return
	}
	m.Format = ext
	p := src
	// Paths are relative to the file that names them.
	dir := path.Dir(rng.Filename)
	relative := !path.IsAbs(p)
	if relative {
		// Relative sources stay inside the configuration's directory, so that
		// a configuration cannot reach for files it does not ship.
		p = path.Join(dir, src)
		if rel := path.Clean(src); rel == ".." || strings.HasPrefix(rel, "../") {
			l.errorf(&rng, "Source outside the configuration", "%q leaves the configuration's directory; keep policy sources beside the .hcl files, or give an absolute path.", src)
			return
		}
	}
	if !l.sourceFile(rng, p, relative, dir) {
		return
	}
	// The interface and file contexts beside a .te are compiled with it:
	// they pass the same checks.
	if ext == FormatTE {
		for _, side := range []string{".if", ".fc"} {
			q := strings.TrimSuffix(p, ".te") + side
			if l.absent(q) {
				continue
			}
			if !l.sourceFile(rng, q, relative, dir) {
				return
			}
		}
	}
	m.Source = p
}

// reported tells whether an error was already given at rng.
func (l *loader) reported(rng hcl.Range) bool {
	for _, d := range l.diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && *d.Subject == rng {
			return true
		}
	}
	return false
}

// sourceFile checks one policy file: a regular file (a FIFO would hang the
// read, a device would be read from) of a sane size and, for a relative
// source, one whose real path is inside the configuration's directory: a
// symlink there to /etc/shadow would otherwise be read, and printed by
// plan --diff. The judgment is recorded for the parse cache, which makes
// it again on every hit (a file swapped for a symlink is seen).
func (l *loader) sourceFile(rng hcl.Range, p string, relative bool, dir string) bool {
	summary, detail := l.judgeSource(p, relative, dir)
	if summary != "" {
		l.errorf(&rng, summary, "%s", detail)
		return false
	}
	return true
}

// realPaths resolves symlinks as filepath.EvalSymlinks does, remembering
// each directory's answer for one load (or one cache check): a hundred
// sources in one directory would otherwise walk its every component twice
// apiece.
type realPaths map[string]realPath

type realPath struct {
	path string
	err  error
}

func (r realPaths) dir(d string) (string, error) {
	if r == nil {
		return filepath.EvalSymlinks(d)
	}
	if v, ok := r[d]; ok {
		return v.path, v.err
	}
	p, err := filepath.EvalSymlinks(d)
	r[d] = realPath{p, err}
	return p, err
}

// file is EvalSymlinks of p, whose Lstat is st: a p that is no symlink is
// its resolved directory's entry.
func (r realPaths) file(p string, st fs.FileInfo) (string, error) {
	base := filepath.Base(p)
	if st.Mode()&fs.ModeSymlink != 0 || base == "." || base == ".." || base == "/" {
		return filepath.EvalSymlinks(p)
	}
	d, err := r.dir(filepath.Dir(p))
	if err != nil {
		return "", err
	}
	return filepath.Join(d, base), nil
}

// sourceVerdict is sourceFile's judgment of p: "" when p will do, else the
// diagnostic's summary and detail. rp may be nil.
func sourceVerdict(p string, relative bool, dir string, rp realPaths) (string, string) {
	st, err := os.Lstat(p)
	if err != nil {
		return "Missing source file", fmt.Sprintf("%s does not exist or cannot be read (%v); paths are relative to the .hcl file that names them.", p, errors.Unwrap(err))
	}
	if relative {
		real, err := rp.file(p, st)
		realDir, errDir := rp.dir(dir)
		if err != nil || errDir != nil {
			return "Missing source file", fmt.Sprintf("%s is a symbolic link that leads nowhere; make it a file inside the configuration's directory.", p)
		}
		if real != realDir && !strings.HasPrefix(real, realDir+"/") {
			return "Source outside the configuration",
				fmt.Sprintf("%s is a symbolic link to %s, outside the configuration's directory %s. Copy the file into the directory, or give its absolute path as the source.", p, real, realDir)
		}
	}
	if err := checkRegular(p, MaxSourceSize); err != nil {
		summary := "Invalid source file"
		if errors.Is(err, errNotRegular) {
			summary = "Source is not a regular file"
		}
		return summary, fmt.Sprintf("%v. Give a regular file.", err)
	}
	return "", ""
}

// sourceAbsent tells whether nothing at all is at p (not even a dangling
// symlink).
func sourceAbsent(p string) bool {
	_, err := os.Lstat(p)
	return errors.Is(err, fs.ErrNotExist)
}

var (
	teModuleRe = lazyre.New(`(?m)^\s*policy_module\(\s*` + "`?" + `([A-Za-z0-9_.-]+)`)
	teRawRe    = lazyre.New(`(?m)^\s*module\s+([A-Za-z0-9_.-]+)\s`)
)

// checkTEName holds a .te module to the name the block gives it: semodule
// names a module after policy_module(), so a mismatch would install one name
// and then look for another forever.
func (l *loader) checkTEName(name, text string, rng hcl.Range) {
	found := ""
	if m := teModuleRe.FindStringSubmatch(text); m != nil {
		found = m[1]
	} else if m := teRawRe.FindStringSubmatch(text); m != nil {
		found = m[1]
	}
	switch {
	case found == "":
		l.errorf(&rng, "No module statement", "The policy has no policy_module(%s, VERSION) line; add one as its first statement.", name)
	case found != name:
		l.errorf(&rng, "Module name mismatch", "The policy declares module %q but the block is selinux_module %q. Rename one so that they match.", found, name)
	}
}

// PPName reads the module name from a policy package's header.
func PPName(data []byte) (string, error) {
	const pkgMagic, modMagic = 0xf97cff8f, 0xf97cff8d
	r := bytes.NewReader(data)
	var hdr [3]uint32 // magic, version, number of sections
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil || hdr[0] != pkgMagic || hdr[2] == 0 || hdr[2] > 16 {
		return "", fmt.Errorf("not a policy package")
	}
	offsets := make([]uint32, hdr[2])
	if err := binary.Read(r, binary.LittleEndian, offsets); err != nil || int(offsets[0]) >= len(data) {
		return "", fmt.Errorf("truncated policy package")
	}
	r = bytes.NewReader(data[offsets[0]:])
	var m [2]uint32 // module magic, length of the identifier string
	if err := binary.Read(r, binary.LittleEndian, &m); err != nil || m[0] != modMagic || m[1] > 64 {
		return "", fmt.Errorf("policy package holds no module")
	}
	// The identifier string, then policy type, version, config, symbol and
	// object-context counts, then the name.
	var fixed [5]uint32
	if _, err := r.Seek(int64(8+m[1]), 0); err != nil {
		return "", err
	}
	if err := binary.Read(r, binary.LittleEndian, &fixed); err != nil {
		return "", fmt.Errorf("truncated module header")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n == 0 || n > 256 {
		return "", fmt.Errorf("module has no name")
	}
	name := make([]byte, n)
	if _, err := r.Read(name); err != nil {
		return "", fmt.Errorf("truncated module name")
	}
	return string(name), nil
}

func (l *loader) checkPPName(m *Module) {
	rng := m.AttrRange("source")
	data, err := l.readFile(m.Source)
	if err != nil {
		l.errorf(&rng, "Cannot read source", "%v.", err)
		return
	}
	name, err := PPName(data)
	if err != nil {
		l.errorf(&rng, "Not a policy package", "%s: %v. Give a .pp built by checkmodule and semodule_package (or the devel Makefile).", m.Source, err)
		return
	}
	if name != m.Name {
		l.errorf(&rng, "Module name mismatch", "The package holds module %q but the block is selinux_module %q. Rename one so that they match.", name, m.Name)
	}
}
