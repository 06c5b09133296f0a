package filecontexts

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
)

// Kind is what a File holds.
type Kind uint8

const (
	// Specs: lines of REGEX [FILETYPE] CONTEXT, as in file_contexts,
	// file_contexts.homedirs and file_contexts.local.
	Specs Kind = iota
	// Subs: equivalences "ALIAS ORIGINAL" made locally (semanage fcontext
	// -a -e), file_contexts.subs.
	Subs
	// SubsDist: the distribution's equivalences, file_contexts.subs_dist.
	SubsDist
)

// File is one input: its name (for messages), what it holds, and its bytes.
type File struct {
	Name string
	Kind Kind
	Data []byte
}

// Error is a problem with one line of one file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Spec is one line of a Specs file.
type Spec struct {
	File    string
	Line    int
	Regex   string   // the path expression as written
	Type    FileType // Any when the line has no file type field
	Context Context  // zero when None
	None    bool     // <<none>>: paths it matches get no label (and are left alone)

	pat  pattern
	once sync.Once
	re   *regexp.Regexp // compiled at first use; nil if that failed

	onceNeedles sync.Once
	needles     []string // see needles, for simple expressions

	onceRetry sync.Once
	reRetry   *regexp.Regexp // for a pattern with \z, see matches
}

// String is the spec as a file_contexts line.
func (s *Spec) String() string {
	ctx := "<<none>>"
	if !s.None {
		ctx = s.Context.String()
	}
	if s.Type == Any {
		return s.Regex + "\t" + ctx
	}
	return s.Regex + "\t" + s.Type.String() + "\t" + ctx
}

// Where is FILE:LINE.
func (s *Spec) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

func (s *Spec) regexp() *regexp.Regexp {
	s.once.Do(func() {
		// analyze has already parsed the expression, so this does not
		// fail short of RE2's size limits; libselinux too gives up on the
		// lookup (no label) when a regex fails to compile at lookup time.
		s.re, _ = s.pat.compile()
	})
	return s.re
}

// Subst is one equivalence: paths under From are looked up as if they were
// under To.
type Subst struct {
	File     string
	Line     int
	From, To string
	Dist     bool // from file_contexts.subs_dist
}

// apply is libselinux's selabel_sub for one equivalence.
func (e *Subst) apply(key string) (string, bool) {
	n := len(e.From)
	if len(key) < n || key[:n] != e.From || len(key) > n && key[n] != '/' {
		return "", false
	}
	if len(key) > n && e.To == "/" {
		n++ // "/alias/x" with To "/" is "/x", not "//x"
	}
	return e.To + key[n:], true
}

// maxErrors bounds the errors one Load reports.
const maxErrors = 20

// Load reads file contexts the way libselinux's file backend does. Specs
// files come in order of precedence, lowest first: file_contexts, then
// file_contexts.homedirs, then file_contexts.local. Every malformed line is
// reported as an *Error (joined with errors.Join), up to 20.
func Load(files ...File) (*Set, error) {
	s := &Set{contexts: map[string]Context{}}
	var errs []error
	for _, f := range files {
		if len(errs) >= maxErrors {
			break
		}
		lineno := 0
		// One string for the whole file: fields are substrings of it.
		for data := string(f.Data); len(data) > 0; {
			var line string
			if i := strings.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				line, data = data, ""
			}
			lineno++
			var err error
			switch f.Kind {
			case Specs:
				err = s.addSpec(f.Name, lineno, line)
			case Subs, SubsDist:
				s.addSubst(f.Name, lineno, line, f.Kind == SubsDist)
			default:
				return nil, fmt.Errorf("%s: unknown kind %d", f.Name, f.Kind)
			}
			if err != nil {
				errs = append(errs, &Error{File: f.Name, Line: lineno, Msg: err.Error()})
				if len(errs) >= maxErrors {
					break
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.contexts = nil
	s.sort()
	return s, nil
}

// isSpace is C's isspace in the C locale, which libselinux splits fields on.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// fields splits a line as libselinux's read_spec_entries does: at most
// len(out) white-space separated fields, substrings of line; what follows
// them is ignored (so a "# comment" after REGEX TYPE CONTEXT is allowed,
// but after REGEX CONTEXT it is read as the context).
func fields(line string, out []string) int {
	n := 0
	for i := 0; i < len(line) && n < len(out); {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		start := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		if i > start {
			out[n] = line[start:i]
			n++
		}
	}
	return n
}

func (s *Set) addSpec(file string, lineno int, line string) error {
	var buf [3]string
	n := fields(line, buf[:])
	f := buf[:n]
	if n == 0 || f[0][0] == '#' {
		return nil
	}
	for _, x := range f {
		for i := 0; i < len(x); i++ {
			switch {
			case x[i] >= 0x80:
				return fmt.Errorf("non-ASCII characters in %q (libselinux refuses them)", x)
			case x[i] == 0:
				return fmt.Errorf("NUL byte in %q", x)
			}
		}
	}
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]Spec, 0, 256)
	}
	s.slab = s.slab[:len(s.slab)+1]
	sp := &s.slab[len(s.slab)-1]
	sp.File, sp.Line, sp.Regex = file, lineno, f[0]
	switch n {
	case 1:
		return fmt.Errorf("missing fields: want REGEX [FILETYPE] CONTEXT, got %q", f[0])
	case 3:
		t, err := ParseFileType(f[1])
		if err != nil {
			return err
		}
		sp.Type = t
	}
	if ctx := f[n-1]; ctx == "<<none>>" {
		sp.None = true
	} else {
		// A policy has a few hundred distinct contexts on thousands of lines.
		c, ok := s.contexts[ctx]
		if !ok {
			var err error
			if c, err = ParseContext(ctx); err != nil {
				return err
			}
			s.contexts[ctx] = c
		}
		sp.Context = c
	}
	p, err := analyze(sp.Regex)
	if err != nil {
		return fmt.Errorf("%s: %v", sp.Regex, err)
	}
	sp.pat = p
	s.all = append(s.all, sp)
	return nil
}

// addSubst reads an equivalence line as selabel_subs_init does: two fields,
// comments and incomplete lines skipped.
func (s *Set) addSubst(file string, lineno int, line string, dist bool) {
	var f [2]string
	if fields(line, f[:]) < 2 || f[0][0] == '#' {
		return
	}
	s.subs = append(s.subs, Subst{File: file, Line: lineno, From: f[0], To: f[1], Dist: dist})
}

// sort orders the specs as libselinux's sort_specs does: specs with a
// metacharacter first, exact ones after, each in input order. Lookups walk
// this order backwards and take the first match, so an exact spec beats
// every regex and, among equals, the later line (.local after the base)
// wins.
func (s *Set) sort() {
	s.order = make([]*Spec, 0, len(s.all))
	for _, meta := range []bool{true, false} {
		for _, sp := range s.all {
			if sp.pat.meta == meta {
				s.order = append(s.order, sp)
			}
		}
	}
	stems := map[string]int{}
	var stemSpecs [][]int32
	for i, sp := range s.order {
		if sp.pat.stem == "" {
			s.noStem = append(s.noStem, int32(i))
			continue
		}
		j, ok := stems[sp.pat.stem]
		if !ok {
			j = len(stemSpecs)
			stems[sp.pat.stem] = j
			stemSpecs = append(stemSpecs, nil)
		}
		stemSpecs[j] = append(stemSpecs[j], int32(i))
	}
	s.byStem = make(map[string][]int32, len(stems))
	for stem, j := range stems {
		s.byStem[stem] = stemSpecs[j]
	}
}

// PolicyFile is where a policy of the given type (SELINUXTYPE in
// /etc/selinux/config) keeps its file contexts.
func PolicyFile(policyType string) string {
	return path.Join("/etc/selinux", policyType, "contexts/files/file_contexts")
}

// Open loads the file contexts at path (as PolicyFile gives) and what
// libselinux reads beside it: path.homedirs and path.local if present, and
// the equivalences in path.subs_dist and path.subs. read reads one file (a
// host.FS's ReadFile, rooted where the caller likes); a missing optional
// file is an error matching fs.ErrNotExist. libselinux prefers a compiled
// path.bin when it is as new as the text; the text is what it was compiled
// from, and what this package reads.
func Open(read func(name string) ([]byte, error), path string) (*Set, error) {
	var files []File
	for _, f := range []struct {
		suffix   string
		kind     Kind
		optional bool
	}{{"", Specs, false}, {".homedirs", Specs, true}, {".local", Specs, true}, {".subs_dist", SubsDist, true}, {".subs", Subs, true}} {
		name := path + f.suffix
		data, err := read(name)
		if err != nil {
			if f.optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read file contexts: %w", err)
		}
		files = append(files, File{Name: name, Kind: f.kind, Data: data})
	}
	return Load(files...)
}
