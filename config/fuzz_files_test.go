package config

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// hclString quotes s as an HCL string literal that means s exactly: Go's
// escapes HCL shares, and template introducers doubled.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzFileBlocks declares a file and a directory from arbitrary path, mode,
// owner, group, type and content values. It must never panic, every error
// must point at a line of the file, and what it accepts is what seconf may
// write:
//   - both paths absolute and normalised, not refused by WriteRefused even
//     through an alias (/bin, /var/run), the directory not a system
//     directory itself;
//   - modes within what a block may set: the file's within 0777, the
//     directory's within 01777, never setuid or setgid;
//   - owner and group a name useradd would accept or a number;
//   - the file's content byte for byte what was declared.
func FuzzFileBlocks(f *testing.F) {
	f.Add("/etc/app/app.conf", "0640", "root", "adm", "etc_t", "key = value\n", "/var/lib/app")
	f.Add("/bin/../etc/shadow", "4755", "0", "", "", "", "/var/run/x")
	f.Add("/usr/local/etc/a", "01777", "www-data", "1000", "shadow_t", "${x}", "/srv")
	f.Add("relative", "644", "Root", "a b", "a-b", "\x00", "/var/log")
	dir := f.TempDir()
	file := filepath.Join(dir, "host.hcl")
	f.Fuzz(func(t *testing.T, fpath, mode, owner, group, typ, content, dpath string) {
		src := "file \"f\" {\n  path = " + hclString(fpath) + "\n  mode = " + hclString(mode) +
			"\n  owner = " + hclString(owner) + "\n  group = " + hclString(group) +
			"\n  selinux_type = " + hclString(typ) + "\n  content = " + hclString(content) + "\n}\n" +
			"directory \"d\" {\n  path = " + hclString(dpath) + "\n  mode = " + hclString(mode) + "\n}\n"
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _, diags := Load([]string{file}, Options{})
		for _, d := range diags {
			if d.Severity == hcl.DiagError && (d.Subject == nil || d.Subject.Filename != file) {
				t.Fatalf("error without a line of %s: %s: %s", file, d.Summary, d.Detail)
			}
		}
		if diags.HasErrors() {
			return
		}
		if len(cfg.Files) != 1 || len(cfg.Directories) != 1 {
			t.Fatalf("%d files, %d directories", len(cfg.Files), len(cfg.Directories))
		}
		fl, d := cfg.Files[0], cfg.Directories[0]
		for _, p := range []string{fl.Path, d.Path} {
			if !path.IsAbs(p) || path.Clean(p) != p {
				t.Fatalf("path %q accepted", p)
			}
			if why, refused := WriteRefused(p); refused {
				t.Fatalf("path %q accepted, which %s", p, why)
			}
		}
		if sys, ok := SystemPath(d.Path); ok && Canonical(d.Path) == sys {
			t.Fatalf("system directory %q accepted", d.Path)
		}
		if fl.Mode&^0o777 != 0 || d.Mode&^0o1777 != 0 {
			t.Fatalf("modes %04o, %04o accepted", fl.Mode, d.Mode)
		}
		for _, a := range []string{fl.Owner, fl.Group} {
			if a != "" && !accountRe.MatchString(a) {
				t.Fatalf("account %q accepted", a)
			}
		}
		// hclString writes each byte that is not UTF-8 as U+FFFD (a raw one
		// is refused as HCL's "Invalid character encoding"), as []rune does.
		if want := string([]rune(content)); string(fl.Content) != want {
			t.Fatalf("content %q, declared %q", fl.Content, want)
		}
	})
}
