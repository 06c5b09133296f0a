package config

import (
	"fmt"
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
		{Type: KindFile, LabelNames: []string{"name"}},
		{Type: KindDirectory, LabelNames: []string{"name"}},
		{Type: KindSecret, LabelNames: []string{"name"}},
	},
}

// Load reads one configuration from paths: .hcl files and directories of
// them, all taken together. The returned files serve diagnostics even when
// Load fails.
func Load(paths []string, opts Options) (*Config, map[string]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	var files []string
	var diags hcl.Diagnostics
	for _, path := range paths {
		fs, d := sourceFiles(path)
		files = append(files, fs...)
		diags = append(diags, d...)
	}
	if diags.HasErrors() {
		return nil, p.Files(), diags
	}
	var bodies []*hcl.BodyContent
	for _, f := range files {
		file, d := p.ParseHCLFile(f)
		diags = append(diags, d...)
		if file == nil {
			continue
		}
		content, d := file.Body.Content(topSchema)
		diags = append(diags, d...)
		bodies = append(bodies, content)
	}
	if diags.HasErrors() {
		return nil, p.Files(), diags
	}
	cfg := &Config{Variables: map[string]*Variable{}}
	l := &loader{cfg: cfg, seen: map[string]hcl.Range{}, opts: opts}
	l.decode(bodies)
	return cfg, p.Files(), l.diags
}

func sourceFiles(path string) ([]string, hcl.Diagnostics) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration",
			Detail:   fmt.Sprintf("%v. Give a .hcl file or a directory of .hcl files.", err),
		}}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration", Detail: err.Error()}}
	}
	if !st.IsDir() {
		return []string{abs}, nil
	}
	files, _ := filepath.Glob(filepath.Join(abs, "*.hcl"))
	sort.Strings(files)
	if len(files) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s holds no *.hcl file.", path),
		}}
	}
	return files, nil
}

type loader struct {
	cfg   *Config
	opts  Options
	diags hcl.Diagnostics
	seen  map[string]hcl.Range // "kind.name" → first declaration
	vars  map[string]cty.Value
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
