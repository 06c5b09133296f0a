package filecontexts

import (
	"fmt"
	"io/fs"
	"strings"
)

// Context is a security context, user:role:type[:range]. Range is empty for
// a policy without MLS.
type Context struct {
	User, Role, Type, Range string
}

// String is the context as file_contexts and the kernel write it.
func (c Context) String() string {
	s := c.User + ":" + c.Role + ":" + c.Type
	if c.Range != "" {
		s += ":" + c.Range
	}
	return s
}

// ParseContext parses a raw (untranslated) context: three identifiers and an
// optional MLS range such as s0, s0-s15:c0.c1023 or s0:c1,c3.c7.
func ParseContext(s string) (Context, error) {
	var c Context
	var ok1, ok2 bool
	c.User, c.Role, ok1 = strings.Cut(s, ":")
	c.Role, c.Type, ok2 = strings.Cut(c.Role, ":")
	if !ok1 || !ok2 {
		return Context{}, fmt.Errorf("context %q: want user:role:type[:range]", s)
	}
	c.Type, c.Range, _ = strings.Cut(c.Type, ":")
	for _, f := range [...]struct{ what, v string }{{"user", c.User}, {"role", c.Role}, {"type", c.Type}} {
		if !isIdent(f.v) {
			return Context{}, fmt.Errorf("context %q: %s %q is not an SELinux identifier", s, f.what, f.v)
		}
	}
	if strings.Count(s, ":") >= 3 {
		if err := checkRange(c.Range); err != nil {
			return Context{}, fmt.Errorf("context %q: %v", s, err)
		}
	}
	return c, nil
}

// isIdent accepts what checkpolicy and secilc accept as a name; file
// contexts are checked against the policy by semodule, this only catches
// text that cannot be a name at all.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '$') {
			return false
		}
	}
	return true
}

// checkRange checks LOW[-HIGH], each level SENS[:CAT[.CAT][,CAT[.CAT]]...].
func checkRange(r string) error {
	low, high, two := strings.Cut(r, "-")
	if two && strings.Contains(high, "-") {
		return fmt.Errorf("range %q has more than two levels", r)
	}
	for i, l := range [2]string{low, high} {
		if i == 1 && !two {
			break
		}
		sens, cats, hasCats := strings.Cut(l, ":")
		if !isName(sens) {
			return fmt.Errorf("range %q: bad sensitivity %q", r, sens)
		}
		for hasCats {
			var c string
			c, cats, hasCats = strings.Cut(cats, ",")
			lo, hi, dot := strings.Cut(c, ".")
			if !isName(lo) || dot && !isName(hi) {
				return fmt.Errorf("range %q: bad category %q", r, c)
			}
		}
	}
	return nil
}

// isName is an MLS sensitivity or category name: an identifier without the
// separators of a range.
func isName(s string) bool {
	return isIdent(s) && !strings.ContainsAny(s, ".-")
}

// FileType is the kind of file a spec applies to, the optional second
// field of a file_contexts line. Any (0) in a spec means every kind; given
// to Lookup it means "unknown", and then every spec applies, typed or not,
// as selabel_lookup does with mode 0.
type FileType uint8

const (
	Any         FileType = iota
	Regular              // --
	Directory            // -d
	Symlink              // -l
	Socket               // -s
	NamedPipe            // -p
	BlockDevice          // -b
	CharDevice           // -c
)

var fileTypeFields = [...]string{"", "--", "-d", "-l", "-s", "-p", "-b", "-c"}

// String is the type as file_contexts writes it ("" for Any).
func (t FileType) String() string {
	if int(t) < len(fileTypeFields) {
		return fileTypeFields[t]
	}
	return fmt.Sprintf("FileType(%d)", t)
}

// ParseFileType parses the second field of a file_contexts line: --, -d,
// -l, -s, -p, -b or -c.
func ParseFileType(s string) (FileType, error) {
	for i, f := range fileTypeFields {
		if i > 0 && f == s {
			return FileType(i), nil
		}
	}
	return Any, fmt.Errorf("invalid file type %q: want one of -- -d -l -s -p -b -c", s)
}

// FileTypeOf is the FileType of a file with the given mode (as from
// lstat): what to pass to Lookup for an existing file.
func FileTypeOf(m fs.FileMode) FileType {
	switch m.Type() {
	case 0:
		return Regular
	case fs.ModeDir:
		return Directory
	case fs.ModeSymlink:
		return Symlink
	case fs.ModeSocket:
		return Socket
	case fs.ModeNamedPipe:
		return NamedPipe
	case fs.ModeDevice:
		return BlockDevice
	case fs.ModeDevice | fs.ModeCharDevice:
		return CharDevice
	}
	return Any
}
