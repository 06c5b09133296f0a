package confine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Denial is one AVC denial: what the kernel refused a process.
type Denial struct {
	Event              string // the audit event (time:serial) its records share
	Perms              []string
	SContext, TContext string
	Source, Target     string // the types of the two contexts
	Class              string
	// Path is the object's path as the process saw it (inside the
	// container), when the AVC or the event's PATH and CWD records say.
	Path string
	Name string // the AVC's name=: the last component only
	// Ino is the object's inode (ino=), 0 when the AVC gives none: with
	// Name, what finds the object on the host when no PATH record says
	// (auditd without rules records none).
	Ino  uint64
	Comm string
	// Port is the port of a name_bind (src=) or name_connect (dest=).
	Port       int
	Permissive bool
}

// ParseAudit reads the AVC denials in audit records: audit.log's lines
// (type=AVC msg=audit(T:N): avc:  denied  { ... } for ...), ausearch -i's,
// or the kernel log's (audit: type=1400 audit(T:N): avc: ...). Records of
// one event (same T:N) are joined so that a denial gets the full path its
// PATH and CWD records give. Denials come in the order of the input; a line
// that is not an audit record is skipped.
func ParseAudit(data []byte) []Denial {
	type event struct {
		cwd   string
		items []map[string]string
	}
	events := map[string]*event{}
	var out []Denial
	for len(data) > 0 {
		// Every line, however long: a scanner's limit would end the
		// reading at the first overlong line, dropping the denials after it.
		var raw []byte
		raw, data = nextLine(data)
		typ, id, body, ok := splitRecord(string(raw))
		if !ok {
			continue
		}
		// ausearch -i stamps its records with a date and time, and writes
		// values as they are (never in hex, spaces and all).
		interpreted := strings.Contains(id, " ")
		ev := events[id]
		if ev == nil {
			ev = &event{}
			events[id] = ev
		}
		switch typ {
		case "AVC", "1400", "USER_AVC", "1107":
			if d, ok := parseAVC(body, interpreted); ok {
				d.Event = id
				out = append(out, d)
			}
		case "CWD", "1307":
			ev.cwd = fields(body, interpreted)["cwd"]
		case "PATH", "1302":
			ev.items = append(ev.items, fields(body, interpreted))
		}
	}
	for i := range out {
		d := &out[i]
		ev := events[d.Event]
		if d.Path != "" && !path.IsAbs(d.Path) {
			d.Path = ""
		}
		if d.Path == "" && ev != nil {
			d.Path = eventPath(d.Class, d.Name, ev.cwd, ev.items)
		}
	}
	return out
}

// splitRecord finds a record's type, event id and the text after the
// audit(...) stamp.
func splitRecord(line string) (typ, id, body string, ok bool) {
	i := strings.Index(line, "type=")
	if i < 0 {
		return "", "", "", false
	}
	rest := line[i+len("type="):]
	sp := strings.IndexAny(rest, " \t")
	if sp < 0 {
		return "", "", "", false
	}
	typ = rest[:sp]
	a := strings.Index(rest, "audit(")
	if a < 0 {
		return "", "", "", false
	}
	end := strings.IndexByte(rest[a:], ')')
	if end < 0 {
		return "", "", "", false
	}
	id = rest[a+len("audit(") : a+end]
	body = strings.TrimLeft(rest[a+end+1:], " :")
	return typ, id, body, true
}

// nextLine splits the first line off data, without its line ending.
func nextLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return bytes.TrimSuffix(data[:i], []byte("\r")), data[i+1:]
	}
	return data, nil
}

func parseAVC(body string, interpreted bool) (Denial, bool) {
	var d Denial
	i := strings.Index(body, "avc:")
	if i < 0 {
		return d, false
	}
	rest := strings.TrimSpace(body[i+len("avc:"):])
	if !strings.HasPrefix(rest, "denied") {
		return d, false // granted: an auditallow rule, not a denial
	}
	open, close := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
	if open < 0 || close < open {
		return d, false
	}
	d.Perms = strings.Fields(rest[open+1 : close])
	sort.Strings(d.Perms)
	f := fields(rest[close+1:], interpreted)
	d.SContext, d.TContext, d.Class = f["scontext"], f["tcontext"], f["tclass"]
	var ok1, ok2 bool
	d.Source, _, ok1 = splitContext(d.SContext)
	d.Target, _, ok2 = splitContext(d.TContext)
	if !ok1 || !ok2 || d.Class == "" || len(d.Perms) == 0 {
		return d, false
	}
	d.Path, d.Name, d.Comm = f["path"], f["name"], f["comm"]
	d.Permissive = f["permissive"] == "1"
	if n, err := strconv.ParseUint(f["ino"], 10, 64); err == nil {
		d.Ino = n
	}
	for _, k := range []string{"src", "dest"} {
		if n, err := strconv.Atoi(f[k]); err == nil && n > 0 && n < 65536 {
			d.Port = n
		}
	}
	return d, true
}

// untrusted are the fields the kernel writes in hex when they hold a space,
// a quote or a control character.
var untrusted = map[string]bool{"name": true, "path": true, "comm": true, "cwd": true, "exe": true}

// separators split fields: blanks, and the group separator auditd puts
// before the fields it adds (enriched format).
const separators = " \t\x1d"

// fields reads key=value pairs; a quoted value may hold spaces, an
// unquoted untrusted one is hex, unless the record is ausearch -i's
// (interpreted), which writes an untrusted value as it is: then the value
// runs to the next word holding '=' (a name such as "db" or "2024" is not
// hex, and "/srv/my data" is one path).
func fields(s string, interpreted bool) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, separators)
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		key := s[:eq]
		if sp := strings.LastIndexAny(key, separators); sp >= 0 {
			key = key[sp+1:]
		}
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, "\"") {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
		} else {
			end := strings.IndexAny(s, separators)
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
			switch {
			case untrusted[key] && interpreted:
				for {
					word := strings.TrimLeft(s, " ")
					if word == s {
						break
					}
					if end := strings.IndexAny(word, separators); end >= 0 {
						word = word[:end]
					}
					if word == "" || strings.Contains(word, "=") {
						break
					}
					n := strings.Index(s, word) + len(word)
					val, s = val+s[:n], s[n:]
				}
			case untrusted[key]:
				val = unhex(val)
			}
		}
		if _, dup := out[key]; !dup {
			out[key] = val
		}
	}
	return out
}

// unhex decodes a value the kernel wrote in hex, which it does only when
// the value holds a blank, a quote, or a byte outside printable ASCII; a
// value that decodes to none of those was not hex (ausearch -i writes
// interpreted values unquoted).
func unhex(v string) string {
	if len(v) == 0 || len(v)%2 != 0 {
		return v
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return v
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '"' {
			return string(b)
		}
	}
	return v
}

// eventPath joins what the PATH and CWD records of an event say into the
// object's path, made absolute with the working directory. A directory
// denied while a name is added or removed in it is the PARENT item (the
// AVC names the entry, not the directory); anything else is the item named
// as the AVC names the object, or the parent item and that name.
func eventPath(class, name, cwd string, items []map[string]string) string {
	var parent, named, only string
	n := 0
	for _, it := range items {
		v := it["name"]
		if v == "" || v == "(null)" {
			continue
		}
		n++
		only = v
		if it["nametype"] == "PARENT" && parent == "" {
			parent = v
		}
		if name != "" && path.Base(v) == name && named == "" {
			named = v
		}
	}
	var p string
	switch {
	case class == "dir" && parent != "":
		p = parent
	case named != "":
		p = named
	case parent != "" && name != "":
		p = path.Join(parent, name)
	case n == 1:
		p = only
	}
	if p == "" {
		return ""
	}
	if !path.IsAbs(p) {
		if !path.IsAbs(cwd) {
			return ""
		}
		p = path.Join(cwd, p)
	}
	return path.Clean(p)
}

// JournalToAudit turns journalctl -o json output (one object a line) into
// audit records ParseAudit reads: journald keeps an audit record's type and
// event id in fields of their own, and a kernel message as it was.
func JournalToAudit(data []byte) []byte {
	var out bytes.Buffer
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		var e map[string]any
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		msg, _ := e["MESSAGE"].(string)
		if msg == "" {
			continue
		}
		typ, _ := e["_AUDIT_TYPE_NAME"].(string)
		id, _ := e["_AUDIT_ID"].(string)
		if typ == "" || id == "" {
			out.WriteString(msg + "\n") // a kernel message carries its own stamp
			continue
		}
		// The records of one event share _AUDIT_ID, not always their
		// timestamps: the id keys the event, within its boot (the kernel
		// numbers events from 1 again at every boot, and the journal
		// keeps several boots).
		if boot, _ := e["_BOOT_ID"].(string); boot != "" {
			id = boot + ":" + id
		}
		msg = strings.TrimPrefix(msg, typ+" ")
		out.WriteString("type=" + typ + " msg=audit(journal:" + id + "): " + msg + "\n")
	}
	return out.Bytes()
}
