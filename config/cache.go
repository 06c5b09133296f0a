package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// The parse cache. Parsing is most of a no-change run of a large
// configuration (hclsyntax walks every byte of every token as grapheme
// clusters), so LoadCached takes an earlier Load's result when every input is
// what it was then, byte for byte: the .hcl files' names and contents, the
// variables given, this very program (a rebuilt seconf decodes anew), and
// each file decoding consulted beyond the .hcl files (a module's source:
// whether it is a file, or its content), re-checked on every hit. Anything
// else is a miss and a full parse; an entry is made only from a Load without
// a single diagnostic, so a hit has none to repeat.

const cacheFormat = "seconf parse cache 2"

// dep is a file decoding consulted, and what it saw of it: for a stat,
// "file", "dir" or "error"; for a read, the content's sha256 or "error".
type dep struct {
	Path string `json:"path"`
	Read bool   `json:"read,omitempty"`
	// Check names a judgment made again on a hit instead of a stat:
	// "source" (sourceVerdict of Path, Relative, Dir) or "absent".
	Check    string `json:"check,omitempty"`
	Relative bool   `json:"relative,omitempty"`
	Dir      string `json:"dir,omitempty"`
	Saw      string `json:"saw"`
}

// cacheHead is an entry's first line; the configuration follows it, in gob
// (a quarter of JSON's decoding time) when that gives it back exactly, else
// in JSON (gob drops a pointer to false and empties maps into nil).
type cacheHead struct {
	Key   string `json:"key"`
	Deps  []dep  `json:"deps"`
	Codec string `json:"codec"`
	// Validated: see Cached.Validated.
	Validated bool `json:"validated,omitempty"`
}

// Every file decoding looks at goes through these two, which record it
// (TestConfigReadsThroughDeps holds the package to that).

func (l *loader) stat(p string) (fs.FileInfo, error) {
	st, err := os.Stat(p)
	if l.deps != nil {
		*l.deps = append(*l.deps, dep{Path: p, Saw: statSaw(st, err)})
	}
	return st, err
}

func (l *loader) readFile(p string) ([]byte, error) {
	data, err := readRegular(p, MaxSourceSize)
	if l.deps != nil {
		*l.deps = append(*l.deps, dep{Path: p, Read: true, Saw: readSaw(data, err)})
	}
	return data, err
}

func (l *loader) judgeSource(p string, relative bool, dir string) (string, string) {
	if l.real == nil {
		l.real = realPaths{}
	}
	summary, detail := sourceVerdict(p, relative, dir, l.real)
	if l.deps != nil {
		*l.deps = append(*l.deps, dep{Path: p, Check: "source", Relative: relative, Dir: dir, Saw: summary + "\x00" + detail})
	}
	return summary, detail
}

func (l *loader) absent(p string) bool {
	a := sourceAbsent(p)
	if l.deps != nil {
		*l.deps = append(*l.deps, dep{Path: p, Check: "absent", Saw: fmt.Sprint(a)})
	}
	return a
}

func statSaw(st fs.FileInfo, err error) string {
	switch {
	case err != nil:
		return "error"
	case st.IsDir():
		return "dir"
	}
	return "file"
}

func readSaw(data []byte, err error) string {
	if err != nil {
		return "error"
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// unchanged re-checks a dependency as decoding would see it now; rp is
// shared by one entry's checks.
func (d dep) unchanged(rp realPaths) bool {
	switch d.Check {
	case "source":
		summary, detail := sourceVerdict(d.Path, d.Relative, d.Dir, rp)
		return summary+"\x00"+detail == d.Saw
	case "absent":
		return fmt.Sprint(sourceAbsent(d.Path)) == d.Saw
	case "":
	default:
		return false
	}
	if d.Read {
		data, err := readRegular(d.Path, MaxSourceSize)
		return readSaw(data, err) == d.Saw
	}
	st, err := os.Stat(d.Path)
	return statSaw(st, err) == d.Saw
}

var program struct {
	once sync.Once
	id   string
}

// programID identifies the running executable without reading it: its
// device, inode, size and modification and change times. A rebuilt or
// replaced seconf has another, and the change time cannot be set back.
// "" (unknown) turns the cache off.
func programID() string {
	program.once.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		st, err := os.Stat(exe)
		if err != nil {
			return
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return
		}
		program.id = fmt.Sprintf("%s %d %d %d %d.%d %d.%d", exe, sys.Dev, sys.Ino, sys.Size,
			sys.Mtim.Sec, sys.Mtim.Nsec, sys.Ctim.Sec, sys.Ctim.Nsec)
	})
	return program.id
}

// cacheKey hashes the inputs known before parsing, each length-prefixed so
// that no two sets of inputs run together into the same bytes.
func cacheKey(files []string, srcs [][]byte, opts Options) string {
	id := programID()
	if id == "" {
		return ""
	}
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	field(cacheFormat)
	field(id)
	for i, f := range files {
		field(f)
		field(string(srcs[i]))
	}
	var vars []string
	for k, v := range opts.Vars {
		vars = append(vars, k+"="+v)
	}
	sort.Strings(vars)
	field(fmt.Sprint(len(vars)))
	for _, kv := range vars {
		field(kv)
	}
	var env []string
	for _, kv := range opts.Environ {
		if strings.HasPrefix(kv, "SECONF_VAR_") {
			env = append(env, kv)
		}
	}
	sort.Strings(env)
	field(fmt.Sprint(len(env)))
	for _, kv := range env {
		field(kv)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fromCache returns entry's configuration when it was made from the inputs
// key names and its dependencies are as they were, else nil; and whether
// the entry was marked validated.
func fromCache(entry []byte, key string) (*Config, bool) {
	if key == "" || len(entry) == 0 {
		return nil, false
	}
	line, rest, ok := bytes.Cut(entry, []byte("\n"))
	if !ok {
		return nil, false
	}
	var head cacheHead
	if json.Unmarshal(line, &head) != nil || head.Key != key {
		return nil, false
	}
	rp := realPaths{}
	for _, d := range head.Deps {
		if !d.unchanged(rp) {
			return nil, false
		}
	}
	cfg, err := decodeConfig(head.Codec, rest)
	if err != nil {
		return nil, false
	}
	return cfg, head.Validated
}

// MarkValidated returns entry (a Cached.Entry) marked as a configuration
// the providers validated without a diagnostic, so that a hit on it skips
// validating again; an entry it cannot read comes back as it was.
func MarkValidated(entry []byte) []byte {
	line, rest, ok := bytes.Cut(entry, []byte("\n"))
	var head cacheHead
	if !ok || json.Unmarshal(line, &head) != nil {
		return entry
	}
	head.Validated = true
	out, err := json.Marshal(head)
	if err != nil {
		return entry
	}
	return append(append(out, '\n'), rest...)
}

func decodeConfig(codec string, data []byte) (*Config, error) {
	var cfg Config
	var err error
	switch codec {
	case "gob":
		err = gob.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	case "json":
		err = json.Unmarshal(data, &cfg)
	default:
		err = fmt.Errorf("unknown codec %q", codec)
	}
	return &cfg, err
}

// encodeConfig encodes cfg in the first codec that gives it back exactly.
func encodeConfig(cfg *Config) (string, []byte) {
	var b bytes.Buffer
	if gob.NewEncoder(&b).Encode(cfg) == nil {
		if back, err := decodeConfig("gob", b.Bytes()); err == nil && reflect.DeepEqual(back, cfg) {
			return "gob", b.Bytes()
		}
	}
	if data, err := json.Marshal(cfg); err == nil {
		if back, err := decodeConfig("json", data); err == nil && reflect.DeepEqual(back, cfg) {
			return "json", data
		}
	}
	return "", nil
}

// newEntry is what a later LoadCached needs to skip parsing these inputs.
func newEntry(key string, deps []dep, cfg *Config) []byte {
	if key == "" {
		return nil
	}
	codec, body := encodeConfig(cfg)
	if codec == "" {
		return nil
	}
	head, err := json.Marshal(cacheHead{Key: key, Deps: deps, Codec: codec})
	if err != nil {
		return nil
	}
	return append(append(head, '\n'), body...)
}

// unparsed is the files of a cache hit for diagnostics: their bytes, enough
// for the source lines a diagnostic shows; Parsed adds the rest.
func unparsed(files []string, srcs [][]byte) map[string]*hcl.File {
	out := make(map[string]*hcl.File, len(files))
	for i, f := range files {
		out[f] = &hcl.File{Bytes: srcs[i]}
	}
	return out
}

// Parsed returns files with each one parsed: LoadCached's files after a hit
// are bytes only, and a diagnostic's "in container ..." context needs the
// syntax tree. It parses only then, when there is something to print.
func Parsed(files map[string]*hcl.File) map[string]*hcl.File {
	p := hclparse.NewParser()
	for name, f := range files {
		if f != nil && f.Body == nil && f.Bytes != nil {
			if parsed, _ := p.ParseHCL(f.Bytes, name); parsed != nil {
				files[name] = parsed
			}
		}
	}
	return files
}
