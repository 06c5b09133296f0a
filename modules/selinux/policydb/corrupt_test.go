package policydb

import (
	"encoding/binary"
	"errors"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the committed seed policies from testdata/small.cil")

// seeds are small.cil compiled by secilc and committed, so that the fuzz
// target and the corruption tests run without the tools (TestSeeds keeps
// them in step with the source).
var seeds = []struct {
	file    string
	version int
	mls     bool
}{
	{"small-24.bin", 24, false},
	{"small-33-mls.bin", 33, true},
}

func seedData(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", s.file))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// checkConsistent asserts what any successful parse must satisfy, whatever
// bytes it came from: every query answers without panicking, and the
// answers agree with one another.
func checkConsistent(t testing.TB, p *Policy) {
	t.Helper()
	types, attrs := p.Types(), p.Attributes()
	members := map[string]map[string]bool{} // attribute -> types, as AttributeTypes says
	for _, a := range attrs {
		if p.HasType(a) || !p.IsAttribute(a) {
			t.Fatalf("attribute %q: HasType true or IsAttribute false", a)
		}
		members[a] = map[string]bool{}
		for _, ty := range p.AttributeTypes(a) {
			if !p.HasType(ty) {
				t.Fatalf("attribute %q lists %q, not a type", a, ty)
			}
			members[a][ty] = true
		}
	}
	for _, ty := range types {
		if !p.HasType(ty) || p.IsAttribute(ty) {
			t.Fatalf("type %q: HasType false or IsAttribute true", ty)
		}
		for _, a := range p.TypeAttributes(ty) {
			if !members[a][ty] {
				t.Fatalf("type %q has attribute %q, which does not list it", ty, a)
			}
			delete(members[a], ty)
		}
		for _, al := range p.Aliases(ty) {
			if got, ok := p.PrimaryType(al); got != ty || !ok {
				t.Fatalf("alias %q of %q resolves to %q", al, ty, got)
			}
		}
		p.TypeRoles(ty)
		p.IsPermissive(ty)
	}
	for a, left := range members {
		if len(left) > 0 {
			t.Fatalf("attribute %q lists types that do not have it: %v", a, left)
		}
	}
	for _, ty := range p.PermissiveTypes() {
		if !p.IsPermissive(ty) {
			t.Fatalf("permissive %q: IsPermissive false", ty)
		}
	}
	for name, v := range p.Booleans() {
		if got, ok := p.Boolean(name); got != v || !ok {
			t.Fatalf("boolean %q: %v, %v", name, got, ok)
		}
	}
	for _, pc := range p.PortCons() {
		if got, ok := p.PortType(pc.Protocol, pc.Low); !ok || got == "" {
			t.Fatalf("portcon %+v: PortType(%s, %d) = %q, %v", pc, pc.Protocol, pc.Low, got, ok)
		}
	}
	for _, r := range p.Roles() {
		p.RoleTypes(r)
	}
	p.Capabilities()
	classes := p.Classes()
	for _, c := range classes {
		p.Permissions(c)
	}
	// A few access queries, conditional rules and all.
	for i := 0; i < len(types) && i < 8; i++ {
		for j := 0; j < len(types) && j < 8; j++ {
			for _, c := range classes {
				perms, err := p.Allowed(types[i], types[j], c)
				if err != nil {
					t.Fatal(err)
				}
				for _, perm := range perms {
					if !contains(p.Permissions(c), perm) {
						t.Fatalf("Allowed(%s, %s, %s) grants %q, not a permission of the class", types[i], types[j], c, perm)
					}
				}
			}
		}
	}
	h, err := ParseHeader(nil)
	if err == nil {
		t.Fatalf("ParseHeader(nil) = %+v", h)
	}
}

// parseBounded parses data and fails the test if the parse allocated
// more than a small multiple of the input.
func parseBounded(t testing.TB, data []byte) (*Policy, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := Parse(data)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(8*len(data)+1<<20) {
		t.Fatalf("parsing %d bytes allocated %d bytes", len(data), alloc)
	}
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FormatError", err)
		}
	}
	return p, err
}

func FuzzParse(f *testing.F) {
	for _, data := range seedData(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, serr := ParseSymbols(data)
		p, err := parseBounded(t, data)
		if err != nil {
			return
		}
		if serr != nil {
			t.Fatalf("Parse succeeds, ParseSymbols fails: %v", serr)
		}
		if diff := cmp.Diff(policyDump(p).symbolsOnly(), symbolsDump(s)); diff != "" {
			t.Fatalf("ParseSymbols differs from Parse:\n%s", diff)
		}
		checkConsistent(t, p)
		if h, err := ParseHeader(data); err != nil || h != p.Header() {
			t.Fatalf("ParseHeader = %+v, %v; Parse says %+v", h, err, p.Header())
		}
	})
}

// TestTruncated cuts images short everywhere (the seeds) or at many places
// (the machine's policy): every cut must be refused.
func TestTruncated(t *testing.T) {
	for i, data := range seedData(t) {
		symbolsEnd := sections(t, data)["access vector table"]
		for n := 0; n < len(data); n++ {
			if p, err := parseBounded(t, data[:n]); err == nil {
				t.Fatalf("seed %d cut at %d of %d bytes: parsed (%d types)", i, n, len(data), len(p.Types()))
			}
			// ParseSymbols reads up to the access vector table.
			if _, err := ParseSymbols(data[:n]); (err == nil) != (n >= symbolsEnd) {
				t.Fatalf("seed %d cut at %d (symbols end at %d): ParseSymbols error %v", i, n, symbolsEnd, err)
			}
		}
	}
	data := readFile(t, machinePolicy)
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 300; i++ {
		n := rng.Intn(len(data))
		if i < 100 {
			n = len(data) - 1 - i // the last section, where a cut is the shortest
		}
		if _, err := parseBounded(t, data[:n]); err == nil {
			t.Fatalf("%s cut at %d: parsed", machinePolicy, n)
		}
	}
}

// TestCorrupted flips bits and plants huge counts. A corrupted image may
// still be a valid policy (a flipped permission bit is just another
// policy), so the test asks for no panic, bounded memory, and a
// self-consistent result whenever the parse succeeds.
func TestCorrupted(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	refused, total := 0, 0
	try := func(data []byte) {
		total++
		ParseSymbols(data) // must not panic either
		p, err := parseBounded(t, data)
		if err != nil {
			refused++
			return
		}
		checkConsistent(t, p)
	}
	for _, orig := range seedData(t) {
		data := append([]byte(nil), orig...)
		for off := range data {
			bit := byte(1) << rng.Intn(8)
			data[off] ^= bit
			try(data)
			data[off] ^= bit
		}
		// Every aligned 32-bit word made a huge count.
		for off := 0; off+4 <= len(data); off += 4 {
			old := binary.LittleEndian.Uint32(data[off:])
			for _, v := range []uint32{0xffffffff, 0x7fffffff, 0x10000, uint32(len(data))} {
				binary.LittleEndian.PutUint32(data[off:], v)
				try(data)
			}
			binary.LittleEndian.PutUint32(data[off:], old)
		}
	}
	orig := readFile(t, machinePolicy)
	data := append([]byte(nil), orig...)
	for i := 0; i < 100; i++ {
		off := rng.Intn(len(data))
		bit := byte(1) << rng.Intn(8)
		data[off] ^= bit
		try(data)
		data[off] ^= bit
	}
	t.Logf("%d of %d corrupted images refused", refused, total)
}

func TestParseHeader(t *testing.T) {
	good := seedData(t)[1] // version 33, MLS
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	put := func(off int, v uint32) []byte {
		return edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b })
	}
	// Header layout: magic, string length, "SE Linux", version, config,
	// symbol table count, object context count.
	for _, c := range []struct {
		name string
		data []byte
		want string // error text, "" for success
	}{
		{"good", good, ""},
		{"empty", nil, "binary policy: header, byte 0: truncated: need 4 bytes, 0 left"},
		{"module", put(0, 0xf97cff8d), "binary policy: header, byte 4: this is a policy module (.pp content), not a kernel policy"},
		{"magic", put(0, 0x12345678), "binary policy: header, byte 4: magic 0x12345678 is not a kernel policy's (0xf97cff8c)"},
		{"xen", edit(func(b []byte) []byte { copy(b[8:], "XenFlask"); return b }), `binary policy: header, byte 16: a Xen policy ("XenFlask"); only SELinux policies are read`},
		{"old", put(16, 23), "binary policy: header, byte 32: policy version 23; versions 24 to 35 are supported"},
		{"new", put(16, 36), "binary policy: header, byte 32: policy version 36; versions 24 to 35 are supported"},
		{"unknown", put(20, 7), "binary policy: header, byte 32: configuration 0x7 asks to both reject and allow unknown classes"},
		{"ocons", put(28, 7), "binary policy: header, byte 32: table sizes (8 symbol tables, 7 object context lists) are not version 33's (8, 9)"},
		{"cut", good[:20], "binary policy: header, byte 20: truncated: need 4 bytes, 0 left"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHeader(c.data)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("ParseHeader error %q, want %q", got, c.want)
			}
		})
	}
}

// sections returns where each section of an image starts.
func sections(t testing.TB, data []byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	if _, err := parse(data, false, func(s string, off int) { out[s] = off }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNewerVersions covers versions 34 and 35, which this machine's
// secilc cannot write, by editing a version 33 image the way those
// versions differ: 34 allows extended permissions in conditional rules,
// 35 adds a neveraudit type map after the permissive map.
func TestNewerVersions(t *testing.T) {
	base := seedData(t)[1]
	setVersion := func(b []byte, v uint32) []byte {
		b = append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(b[16:], v)
		return b
	}
	want := policyDump(mustParse(t, base))

	v34 := mustParse(t, setVersion(base, 34))
	if diff := cmp.Diff(want, policyDump(v34)); diff != "" {
		t.Errorf("version 34 differs from 33:\n%s", diff)
	}

	// Version 35: an empty neveraudit map, then one naming a type, then
	// one naming a type that does not exist.
	secs := sections(t, base)
	at := secs["neveraudit map"]
	insert := func(b []byte, off int, ins []byte) []byte {
		return append(append(append([]byte(nil), b[:off]...), ins...), b[off:]...)
	}
	bitmap := func(bit int) []byte {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint32(b, 64)
		binary.LittleEndian.PutUint32(b[4:], uint32(bit/64*64+64))
		binary.LittleEndian.PutUint32(b[8:], 1)
		binary.LittleEndian.PutUint32(b[12:], uint32(bit/64*64))
		binary.LittleEndian.PutUint64(b[16:], 1<<(bit%64))
		return b
	}
	empty := []byte{64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := Parse(insert(base, at, empty)); err == nil {
		t.Errorf("a neveraudit map in a version 33 image: parsed")
	}
	v35 := mustParse(t, insert(setVersion(base, 35), at, empty))
	if diff := cmp.Diff(want, policyDump(v35)); diff != "" {
		t.Errorf("version 35 differs from 33:\n%s", diff)
	}
	app := int(mustParse(t, base).typeIndex["app_t"])
	domain := int(mustParse(t, base).typeIndex["domain"])
	mustParse(t, insert(setVersion(base, 35), at, bitmap(app)))
	for _, bad := range []int{0, domain, 1000} {
		if _, err := Parse(insert(setVersion(base, 35), at, bitmap(bad))); err == nil {
			t.Errorf("neveraudit type value %d: parsed", bad)
		}
	}

	// Version 34: turn the first conditional rule into an allowxperm
	// rule. The conditional list: node count, then per node its state,
	// expression length and expression, then the true list's length and
	// entries (source, target, class, kind as 16 bits, 32-bit data).
	off := secs["conditional rules"]
	nexpr := int(binary.LittleEndian.Uint32(base[off+8:]))
	list := off + 12 + 8*nexpr
	if binary.LittleEndian.Uint32(base[list:]) == 0 {
		t.Fatal("the first conditional's true list is empty")
	}
	item := list + 4
	if kind := binary.LittleEndian.Uint16(base[item+6:]) &^ avEnabled; kind != avAllowed {
		t.Fatalf("first conditional rule of kind %#x, want allow", kind)
	}
	xp := append([]byte(nil), base[:item+6]...)
	xp = binary.LittleEndian.AppendUint16(xp, avXpermsAllow)
	xp = append(xp, 1, 0x89)              // ioctl function numbers of driver 0x89
	xp = append(xp, make([]byte, 32)...)  // 256 bits
	xp[len(xp)-32] = 0x0f                 // 0x8900-0x8903
	xp = append(xp, base[item+6+2+4:]...) // skip the old kind and access vector
	if _, err := Parse(xp); err == nil {
		t.Errorf("conditional extended permissions in version 33: parsed")
	}
	p := mustParse(t, setVersion(xp, 34))
	// The entry is no longer an allow rule (extended permissions are not
	// kept); the rest of the policy is unchanged.
	before := mustParse(t, base)
	count := func(p *Policy) (n int) {
		for _, l := range p.condRules {
			n += len(l)
		}
		return n
	}
	if count(p) != count(before)-1 {
		t.Errorf("%d conditional allow entries, want %d", count(p), count(before)-1)
	}
	if diff := cmp.Diff(want, policyDump(p)); diff != "" {
		t.Errorf("version 34 with a conditional xperm rule:\n%s", diff)
	}
}

// TestDenseBitmaps replaces the first two bitmaps of an image with dense
// ones, 64 bits for every 12 bytes: kept as the image stores them, they
// cost no more memory than their bytes.
func TestDenseBitmaps(t *testing.T) {
	base := seedData(t)[1]
	secs := sections(t, base)
	dense := func(nodes int) []byte {
		b := binary.LittleEndian.AppendUint32(nil, 64)
		b = binary.LittleEndian.AppendUint32(b, uint32(64*nodes))
		b = binary.LittleEndian.AppendUint32(b, uint32(nodes))
		for i := 0; i < nodes; i++ {
			b = binary.LittleEndian.AppendUint32(b, uint32(64*i))
			b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
		}
		return b
	}
	for _, c := range []struct {
		section, next string
		ok            bool // still a valid policy
	}{
		{"policy capabilities", "permissive map", true}, // unknown capabilities are allowed
		{"permissive map", "neveraudit map", false},     // types that do not exist
	} {
		data := append(append(append([]byte(nil), base[:secs[c.section]]...), dense(20000)...), base[secs[c.next]:]...)
		p, err := parseBounded(t, data)
		if (err == nil) != c.ok {
			t.Errorf("dense %s: error %v", c.section, err)
		}
		if err == nil {
			if n := len(p.Capabilities()); n != 64*20000 {
				t.Errorf("%d capabilities, want %d", n, 64*20000)
			}
		}
	}
}

// TestConcurrentQueries runs the first queries (which build the rule
// index) from several goroutines at once; go test -race checks them.
func TestConcurrentQueries(t *testing.T) {
	p := mustParse(t, seedData(t)[1])
	want, err := p.Allowed("app_t", "data_t", "file")
	if err != nil {
		t.Fatal(err)
	}
	p = mustParse(t, seedData(t)[1])
	done := make(chan []string)
	for i := 0; i < 8; i++ {
		go func() {
			got, _ := p.Allowed("app_t", "data_t", "file")
			p.TypeAttributes("app_t")
			done <- got
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; !cmp.Equal(got, want) {
			t.Errorf("concurrent Allowed = %v, want %v", got, want)
		}
	}
}
