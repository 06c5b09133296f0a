package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// Options are the inputs to Load besides the files.
type Options struct {
	// Vars are -var name=value pairs.
	Vars map[string]string
	// Environ is the process environment (os.Environ()), read for SECONF_VAR_name.
	Environ []string
}

var topSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: KindModule, LabelNames: []string{"name"}},
		{Type: KindContainer, LabelNames: []string{"name"}},
		{Type: KindMount, LabelNames: []string{"name"}},
		{Type: KindVolume, LabelNames: []string{"name"}},
		{Type: KindNetwork, LabelNames: []string{"name"}},
		{Type: KindBoolean, LabelNames: []string{"name"}},
		{Type: KindFContext, LabelNames: []string{"name"}},
		{Type: KindPort, LabelNames: []string{"name"}},
		{Type: KindFile, LabelNames: []string{"name"}},
		{Type: KindDirectory, LabelNames: []string{"name"}},
		{Type: KindSecret, LabelNames: []string{"name"}},
	},
}

// Load reads one configuration from paths: .hcl files and directories of
// them, all taken together. The returned files serve diagnostics even when
// Load fails.
func Load(paths []string, opts Options) (*Config, map[string]*hcl.File, hcl.Diagnostics) {
	cfg, files, _, diags := load(paths, opts, nil, false)
	return cfg, files, diags
}

// Cached is what the parse cache made of a LoadCached.
type Cached struct {
	// Entry is a new entry, to store once the configuration has applied;
	// nil after a hit, or when the files did not load cleanly.
	Entry []byte
	// Hit: the configuration came from the entry given, without parsing.
	Hit bool
	// Validated: the hit's entry was marked (MarkValidated) after its
	// providers validated it without a word. Validation looks at the
	// configuration alone, and the entry is of this very program.
	Validated bool
	// Drop: the configuration holds secrets (HoldsSecrets), so no entry is
	// made, and the one stored, perhaps another's secrets, is to go.
	Drop bool
}

// LoadCached is Load with the parse cache (cache.go): entry is what an
// earlier LoadCached returned for storing, or nil. When entry was made from
// the same inputs, its configuration comes back without parsing, and no new
// entry; otherwise the files are parsed, and a new entry comes back when
// they loaded without a diagnostic. After a hit the files hold only their
// bytes: pass them through Parsed before printing a diagnostic.
func LoadCached(paths []string, opts Options, entry []byte) (*Config, map[string]*hcl.File, Cached, hcl.Diagnostics) {
	return load(paths, opts, entry, true)
}

func load(paths []string, opts Options, entry []byte, caching bool) (*Config, map[string]*hcl.File, Cached, hcl.Diagnostics) {
	p := hclparse.NewParser()
	files := map[string]*hcl.File{}
	var names []string
	var diags hcl.Diagnostics
	for _, path := range paths {
		fs, d := SourceFiles(path)
		names = append(names, fs...)
		diags = append(diags, d...)
	}
	if diags.HasErrors() {
		return nil, files, Cached{}, diags
	}
	// Each file is read once: what is hashed for the cache is what is parsed.
	srcs := make([][]byte, len(names))
	for i, f := range names {
		src, d := ReadFile(f)
		if d.HasErrors() {
			diags = append(diags, d...)
			if src != nil {
				files[f] = snippetFile(src, d[0].Subject)
			}
			continue
		}
		srcs[i] = src
	}
	if diags.HasErrors() {
		return nil, files, Cached{}, diags
	}
	key := ""
	if caching {
		key = cacheKey(names, srcs, opts)
		if cfg, validated := fromCache(entry, key); cfg != nil {
			return cfg, unparsed(names, srcs), Cached{Hit: true, Validated: validated}, nil
		}
	}
	var bodies []*hcl.BodyContent
	for i, f := range names {
		file, d := p.ParseHCL(srcs[i], f)
		diags = append(diags, d...)
		if file == nil {
			continue
		}
		files[f] = file
		content, d := file.Body.Content(topSchema)
		diags = append(diags, d...)
		bodies = append(bodies, content)
	}
	if diags.HasErrors() {
		return nil, files, Cached{}, diags
	}
	cfg := &Config{Variables: map[string]*Variable{}}
	l := &loader{cfg: cfg, seen: map[string]hcl.Range{}, opts: opts}
	var deps []dep
	if caching {
		l.deps = &deps
	}
	l.decode(bodies)
	var c Cached
	switch {
	case !caching:
	case cfg.HoldsSecrets():
		// The entry would keep them in clear, beside a state record that
		// keeps only keyed hashes of them, and in an image built offline.
		c.Drop = true
	case len(diags) == 0 && len(l.diags) == 0:
		c.Entry = newEntry(key, deps, cfg)
	}
	return cfg, files, c, l.diags
}

// ReadFile reads one configuration file as Load does: a regular file of at
// most MaxFileSize bytes that passes the pre-scan. On a pre-scan error it
// returns the source too, for the diagnostic's snippet.
func ReadFile(path string) ([]byte, hcl.Diagnostics) {
	src, err := readRegular(path, MaxFileSize)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   readAdvice(err),
		}}
	}
	// HCL's parser and evaluator recurse without bound: what would
	// overflow Go's stack is refused before they run.
	if d := prescan(src, path); d.HasErrors() {
		return src, d
	}
	return src, nil
}

// snippetFile is what the diagnostic writer shows of a file the pre-scan
// refused: the source up to the line in question when that line is short,
// else nothing (a 400 KB line of brackets helps nobody).
func snippetFile(src []byte, rng *hcl.Range) *hcl.File {
	if rng == nil {
		return nil
	}
	end := rng.Start.Byte
	for end < len(src) && src[end] != '\n' {
		end++
	}
	start := rng.Start.Byte
	for start > 0 && src[start-1] != '\n' {
		start--
	}
	if end-start > 500 {
		return nil
	}
	return &hcl.File{Bytes: src[:end]}
}

// readAdvice turns a read error into what to do about it.
func readAdvice(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%v. Give an existing .hcl file or a directory of .hcl files.", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%v. Run seconf as a user that can read the configuration (root, for apply).", err)
	case errors.Is(err, errNotRegular):
		return fmt.Sprintf("%v. Give a .hcl file or a directory of .hcl files.", err)
	}
	return err.Error() + "."
}

// SourceFiles lists the .hcl files a path stands for: the file itself, or
// the regular *.hcl files of a directory, in name order. Names starting
// with "." are left out: editors keep their lock and swap files there
// (Emacs's .#host.hcl is a dangling symlink).
func SourceFiles(path string) ([]string, hcl.Diagnostics) {
	fail := func(format string, args ...any) ([]string, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration",
			Detail:   fmt.Sprintf(format, args...),
		}}
	}
	if path == "" {
		return fail("An empty path was given. Give a .hcl file or a directory of .hcl files.")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail("%s: %v.", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return fail("%s", readAdvice(err))
	}
	if !st.IsDir() {
		return []string{abs}, nil
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return fail("%s", readAdvice(err))
	}
	var files []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		files = append(files, filepath.Join(abs, e.Name()))
	}
	sort.Strings(files)
	if len(files) == 0 {
		return fail("The directory %s holds no *.hcl file. Give the directory that holds the configuration, or a .hcl file.", path)
	}
	return files, nil
}

type loader struct {
	cfg   *Config
	opts  Options
	diags hcl.Diagnostics
	seen  map[string]hcl.Range // "kind.name" → first declaration
	vars  map[string]cty.Value
	// deps, when set, records every file decoding consults (cache.go).
	deps *[]dep
	// real: the directories resolved so far (sourceVerdict).
	real realPaths
}

func (l *loader) errorf(rng *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng,
	})
}

func (l *loader) decode(bodies []*hcl.BodyContent) {
	byType := map[string][]*hcl.Block{}
	for _, b := range bodies {
		for _, blk := range b.Blocks {
			id := blk.Type + "." + blk.Labels[0]
			if first, dup := l.seen[id]; dup {
				l.errorf(&blk.LabelRanges[0], "Duplicate "+blk.Type+" block",
					"A %s named %q was already declared at %s. Each name may be used once; rename one of them.",
					blk.Type, blk.Labels[0], first)
				continue
			}
			l.seen[id] = blk.DefRange
			if !validName(blk.Labels[0]) {
				l.errorf(&blk.LabelRanges[0], "Invalid name",
					"%q is not a valid %s name: use letters, digits, '_', '-' and '.', starting with a letter, digit or '_', with no '..'.",
					blk.Labels[0], blk.Type)
				continue
			}
			byType[blk.Type] = append(byType[blk.Type], blk)
		}
	}
	l.decodeVariables(byType["variable"])
	if l.diags.HasErrors() {
		return
	}
	// Mounts are evaluated before containers so that a volume can use
	// mount.NAME.where; modules expose only their name.
	modules := map[string]cty.Value{}
	for _, b := range byType[KindModule] {
		modules[b.Labels[0]] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.Labels[0])})
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var":      cty.ObjectVal(l.vars),
		KindModule: objectOrEmpty(modules),
	}}
	for _, b := range byType[KindModule] {
		if m := l.decodeModule(b, ctx); m != nil {
			l.cfg.Modules = append(l.cfg.Modules, m)
		}
	}
	l.decodeSettings(byType, ctx)
	mounts := map[string]cty.Value{}
	for _, b := range byType[KindMount] {
		if m := l.decodeMount(b, ctx); m != nil {
			l.cfg.Mounts = append(l.cfg.Mounts, m)
			mounts[m.Name] = cty.ObjectVal(map[string]cty.Value{
				"name":  cty.StringVal(m.Name),
				"what":  cty.StringVal(m.What),
				"where": cty.StringVal(m.Where),
				"type":  cty.StringVal(m.Type),
				"unit":  cty.StringVal(MountUnitName(m.Where)),
			})
		}
	}
	containers := map[string]cty.Value{}
	for _, b := range byType[KindContainer] {
		containers[b.Labels[0]] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(b.Labels[0]),
			"unit": cty.StringVal(b.Labels[0] + ".service"),
		})
	}
	ctx.Variables[KindMount] = objectOrEmpty(mounts)
	ctx.Variables[KindContainer] = objectOrEmpty(containers)
	// Files, directories and secrets before containers, which mount and
	// use them (file.NAME.path, secret.NAME.name).
	l.decodeFiles(byType, ctx)
	l.decodeSecrets(byType[KindSecret], ctx)
	l.decodeNamed(byType, ctx)
	for _, b := range byType[KindContainer] {
		if c := l.decodeContainer(b, ctx); c != nil {
			l.cfg.Containers = append(l.cfg.Containers, c)
		}
	}
	l.checkConfinedNames()
	if !l.diags.HasErrors() {
		l.checkCycles()
	}
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// validName keeps names usable as file names, unit names and module names.
func validName(s string) bool {
	if s == "" || strings.Contains(s, "..") || len(s) > 200 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case (r == '-' || r == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}
