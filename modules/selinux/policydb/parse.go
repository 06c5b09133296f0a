package policydb

import "encoding/binary"

const (
	magic         = 0xf97cff8c
	targetSELinux = "SE Linux"
	targetXen     = "XenFlask"

	// MinVersion and MaxVersion bound the kernel policy versions Parse
	// reads.
	MinVersion = 24 // type bounds; attributes kept in the kernel policy
	MaxVersion = 35 // neveraudit types

	verFilenameTrans = 25
	verRoleTrans     = 26
	verObjDefaults   = 27
	verDefaultType   = 28
	verConstrNames   = 29
	verXpermsIoctl   = 30
	verInfiniband    = 31
	verCompFtrans    = 33
	verCondXperms    = 34
	verNeverAudit    = 35

	symNum = 8 // commons, classes, roles, types, users, booleans, sensitivities, categories

	configMLS     = 1
	configUnknown = 6 // deny 0, reject 2, allow 4
)

// Header is what the first bytes of a policy image say about it.
type Header struct {
	Version int
	MLS     bool
	// HandleUnknown is what the kernel does with classes and permissions
	// the policy does not define: "deny", "reject" or "allow".
	HandleUnknown string
}

// ParseHeader reads only the header: magic, platform, version and
// configuration. It costs nothing and refuses what Parse would refuse
// for its header.
func ParseHeader(data []byte) (Header, error) {
	r := &reader{data: data, section: "header"}
	h, _ := readHeader(r)
	return h, r.err
}

func readHeader(r *reader) (Header, int) {
	var h Header
	m := r.u32()
	if r.err != nil {
		return h, 0
	}
	if m != magic {
		if m == 0xf97cff8d {
			r.fail("this is a policy module (.pp content), not a kernel policy")
		} else {
			r.fail("magic %#08x is not a kernel policy's (%#08x)", m, magic)
		}
		return h, 0
	}
	n := r.u32()
	if r.err == nil && (n == 0 || n > 32) {
		r.fail("platform string length %d", n)
	}
	target := r.str(n, "platform")
	if r.err != nil {
		return h, 0
	}
	switch target {
	case targetSELinux:
	case targetXen:
		r.fail("a Xen policy (%q); only SELinux policies are read", target)
		return h, 0
	default:
		r.fail("unknown platform %q", target)
		return h, 0
	}
	vers, config, syms, ocons := r.u32(), r.u32(), r.u32(), r.u32()
	if r.err != nil {
		return h, 0
	}
	if vers < MinVersion || vers > MaxVersion {
		r.fail("policy version %d; versions %d to %d are supported", vers, MinVersion, MaxVersion)
		return h, 0
	}
	h.Version = int(vers)
	h.MLS = config&configMLS != 0
	switch config & configUnknown {
	case 0:
		h.HandleUnknown = "deny"
	case 2:
		h.HandleUnknown = "reject"
	case 4:
		h.HandleUnknown = "allow"
	default:
		r.fail("configuration %#x asks to both reject and allow unknown classes", config)
		return h, 0
	}
	wantOcons := uint32(7)
	if vers >= verInfiniband {
		wantOcons = 9
	}
	if syms != symNum || ocons != wantOcons {
		r.fail("table sizes (%d symbol tables, %d object context lists) are not version %d's (%d, %d)",
			syms, ocons, vers, symNum, wantOcons)
		return h, 0
	}
	return h, int(ocons)
}

// Parse reads a whole kernel policy image (policy.NN, policy.kern) and
// checks all of it. It keeps nothing of data.
func Parse(data []byte) (*Policy, error) { return parse(data, false, nil) }

// ParseSymbols reads the header and the symbol tables only (about a third
// of Parse's work on a full policy): enough for HasType, Booleans,
// IsPermissive and the like. The rest of the image is not read, so not
// checked either.
func ParseSymbols(data []byte) (*Symbols, error) {
	p, err := parse(data, true, nil)
	if err != nil {
		return nil, err
	}
	return &p.Symbols, nil
}

// parse is Parse, or ParseSymbols when symbolsOnly, telling mark where
// each section starts (for tests that edit an image).
func parse(data []byte, symbolsOnly bool, mark func(section string, off int)) (*Policy, error) {
	r := &reader{data: data, section: "header"}
	p := &Policy{}
	var ocons int
	p.hdr, ocons = readHeader(r)
	if r.err != nil {
		return nil, r.err
	}
	type step struct {
		section string
		read    func(*reader)
	}
	steps := []step{
		{"policy capabilities", func(r *reader) { p.caps = r.bitmap(-1) }},
		{"permissive map", func(r *reader) { p.permissiveBits = r.bitmap(-1) }},
		{"neveraudit map", func(r *reader) {
			if p.hdr.Version >= verNeverAudit {
				p.neverAudit = r.bitmap(-1)
			}
		}},
		{"commons", p.readCommons},
		{"classes", p.readClasses},
		{"roles", p.readRoles},
		{"types", p.readTypes},
		{"users", p.readUsers},
		{"booleans", p.readBools},
		{"sensitivities", p.readSens},
		{"categories", p.readCats},
		{"permissive types", p.checkPermissive},
	}
	if !symbolsOnly {
		steps = append(steps, []step{
			{"access vector table", p.readAvtab},
			{"conditional rules", p.readConds},
			{"role transitions", p.readRoleTrans},
			{"role allow rules", p.readRoleAllow},
			{"filename transitions", p.readFilenameTrans},
			{"object contexts", func(r *reader) { p.readOcontexts(r, ocons) }},
			{"genfs contexts", p.readGenfs},
			{"range transitions", p.readRangeTrans},
			{"type attribute map", p.readTypeAttrMap},
		}...)
	}
	for _, s := range steps {
		r.section = s.section
		if mark != nil {
			mark(s.section, r.off)
		}
		s.read(r)
		if r.err != nil {
			return nil, r.err
		}
	}
	if symbolsOnly {
		return p, nil
	}
	r.section = ""
	if r.left() != 0 {
		r.fail("%d bytes after the end of the policy", r.left())
		return nil, r.err
	}
	p.index()
	return p, nil
}

// symtab reads a symbol table's header: the number of values (nprim) and
// of entries (nel, which counts aliases too). Both are bounded by the
// bytes left: every value costs at least 12 bytes somewhere in the image
// (libsepol's bound), every entry at least minEntry.
func symtab(r *reader, what string, minEntry int) (nprim, nel int) {
	np := r.u32()
	r.checkCount(what+" value", np, 12)
	ne := r.count(what, minEntry)
	if r.err == nil && ne > 0 && np == 0 {
		r.fail("%d %s entries but no values", ne, what)
	}
	if r.err != nil {
		return 0, 0 // np may be huge: allocate nothing for it
	}
	return int(np), ne
}

// value checks a symbol's value against its table's size.
func value(r *reader, what string, v uint32, nprim int) int {
	if r.err == nil && (v == 0 || uint64(v) > uint64(nprim)) {
		r.fail("%s value %d outside 1..%d", what, v, nprim)
		return 0
	}
	return int(v)
}

// named stores name at value v of names, refusing a second primary name
// for the same value.
func named(r *reader, what string, names []string, v int, name string) {
	if r.err != nil {
		return
	}
	if names[v-1] != "" {
		r.fail("%s value %d named twice (%q, %q)", what, v, names[v-1], name)
		return
	}
	names[v-1] = name
}

// unique refuses a name already in the index.
func unique(r *reader, what string, idx map[string]uint32, name string, v int) {
	if r.err != nil {
		return
	}
	if _, dup := idx[name]; dup {
		r.fail("%s %q declared twice", what, name)
		return
	}
	idx[name] = uint32(v)
}

// readPerms reads nel permission entries of a common or class whose
// permissions take values 1..nprim (bit value-1 of an access vector).
func readPerms(r *reader, what string, nprim uint32, nel uint32) []string {
	if nprim > 32 {
		r.fail("%s has %d permissions; an access vector holds 32", what, nprim)
		return nil
	}
	r.checkCount("permission", nel, 9)
	perms := make([]string, nprim)
	for i := uint32(0); i < nel && r.err == nil; i++ {
		n, v := r.u32(), r.u32()
		name := r.str(n, "permission")
		v2 := value(r, "permission of "+what, v, int(nprim))
		for _, q := range perms {
			if r.err == nil && q == name {
				r.fail("permission %q of %s declared twice", name, what)
			}
		}
		named(r, "permission of "+what, perms, v2, name)
	}
	return perms
}

func (p *Symbols) readCommons(r *reader) {
	nprim, nel := symtab(r, "common", 17)
	p.commons = make([]common, nprim)
	p.commonIndex = make(map[string]uint32, nel)
	names := make([]string, nprim)
	for i := 0; i < nel && r.err == nil; i++ {
		n, v, np, ne := r.u32(), r.u32(), r.u32(), r.u32()
		name := r.str(n, "common")
		val := value(r, "common", v, nprim)
		named(r, "common", names, val, name)
		unique(r, "common", p.commonIndex, name, val)
		perms := readPerms(r, "common "+name, np, ne)
		if r.err == nil {
			p.commons[val-1] = common{name: name, perms: perms}
		}
	}
}

// Constraint expression node types and the deepest stack they may build.
const (
	cexprNot   = 1
	cexprAnd   = 2
	cexprOr    = 3
	cexprAttr  = 4
	cexprNames = 5

	cexprXtarget  = 16
	cexprMaxDepth = 5
)

// skipConstraints checks and skips n constraints (or validatetrans rules):
// a permission mask, then a postfix expression whose leaves may carry
// bitmaps of names.
func (p *Symbols) skipConstraints(r *reader, n uint32, validatetrans bool) {
	r.checkCount("constraint", n, 8)
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.u32() // permissions
		nexpr := r.u32()
		r.checkCount("constraint expression", nexpr, 12)
		depth := -1
		for j := uint32(0); j < nexpr && r.err == nil; j++ {
			typ, attr, _ := r.u32(), r.u32(), r.u32()
			if r.err != nil {
				return
			}
			switch typ {
			case cexprNot:
				if depth < 0 {
					r.fail("constraint: 'not' with no operand")
				}
			case cexprAnd, cexprOr:
				if depth < 1 {
					r.fail("constraint: 'and'/'or' with fewer than two operands")
				}
				depth--
			case cexprAttr, cexprNames:
				if depth == cexprMaxDepth-1 {
					r.fail("constraint expression deeper than %d", cexprMaxDepth)
				}
				depth++
				if typ == cexprNames {
					if !validatetrans && attr&cexprXtarget != 0 {
						r.fail("constraint names a third target outside validatetrans")
					}
					r.skipEbitmap()
					if p.hdr.Version >= verConstrNames {
						// The type set the names came from: types,
						// negated types, flags.
						r.skipEbitmap()
						r.skipEbitmap()
						r.u32()
					}
				}
			default:
				r.fail("constraint expression node type %d", typ)
			}
		}
		if r.err == nil && depth != 0 {
			r.fail("constraint expression leaves %d values", depth+1)
		}
	}
}

func (p *Symbols) readClasses(r *reader) {
	nprim, nel := symtab(r, "class", 25)
	p.classes = make([]class, nprim)
	p.classIndex = make(map[string]uint32, nel)
	names := make([]string, nprim)
	for i := 0; i < nel && r.err == nil; i++ {
		n, ncom, v, np, ne, ncons := r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32()
		name := r.str(n, "class")
		val := value(r, "class", v, nprim)
		if r.err == nil && val > 0xffff {
			r.fail("class value %d does not fit the access vector table's 16 bits", val)
		}
		named(r, "class", names, val, name)
		unique(r, "class", p.classIndex, name, val)
		var com uint32
		if ncom != 0 {
			cname := r.str(ncom, "common")
			c, ok := p.commonIndex[cname]
			if r.err == nil && !ok {
				r.fail("class %s inherits unknown common %q", name, cname)
			}
			com = c
		}
		perms := readPerms(r, "class "+name, np, ne)
		if r.err == nil && com != 0 && len(p.commons[com-1].perms) > len(perms) {
			r.fail("class %s has %d permissions, fewer than its common %s's %d",
				name, len(perms), p.commons[com-1].name, len(p.commons[com-1].perms))
		}
		p.skipConstraints(r, ncons, false)
		p.skipConstraints(r, r.u32(), true)
		if p.hdr.Version >= verObjDefaults {
			r.u32() // default user
			r.u32() // default role
			r.u32() // default range
		}
		if p.hdr.Version >= verDefaultType {
			r.u32()
		}
		if r.err == nil {
			p.classes[val-1] = class{name: name, common: com, perms: perms}
		}
	}
}

func (p *Symbols) readRoles(r *reader) {
	nprim, nel := symtab(r, "role", 37)
	p.roles = make([]role, nprim)
	p.roleIndex = make(map[string]uint32, nel)
	names := make([]string, nprim)
	for i := 0; i < nel && r.err == nil; i++ {
		n, v, bounds := r.u32(), r.u32(), r.u32()
		name := r.str(n, "role")
		val := value(r, "role", v, nprim)
		if r.err == nil && name == "object_r" && val != 1 {
			r.fail("role object_r has value %d, not 1", val)
		}
		if bounds != 0 {
			value(r, "role bound", bounds, nprim)
		}
		named(r, "role", names, val, name)
		unique(r, "role", p.roleIndex, name, val)
		r.walkEbitmap(nprim, nil) // dominated roles
		// Type values fit in 16 bits; the types are checked once known.
		types := r.bitmap(0xffff)
		if r.err == nil {
			p.roles[val-1] = role{name: name, types: types}
		}
	}
}

// Type properties in a kernel policy's type entries.
const (
	typePrimary   = 1
	typeAttribute = 2
)

func (p *Symbols) readTypes(r *reader) {
	nprim, nel := symtab(r, "type", 17)
	if r.err == nil && nprim > 0xffff {
		r.fail("%d types do not fit the access vector table's 16 bits", nprim)
		return
	}
	p.types = make([]typeDatum, nprim)
	p.typeIndex = make(map[string]uint32, nel)
	type alias struct {
		name string
		val  int
	}
	var aliases []alias
	for i := 0; i < nel && r.err == nil; i++ {
		n, v, props, bounds := r.u32(), r.u32(), r.u32(), r.u32()
		name := r.str(n, "type")
		val := value(r, "type", v, nprim)
		if bounds != 0 {
			value(r, "type bound", bounds, nprim)
		}
		unique(r, "type", p.typeIndex, name, val)
		if r.err != nil {
			break
		}
		if props&typePrimary == 0 {
			if props&typeAttribute != 0 {
				r.fail("attribute %q is an alias", name)
			}
			aliases = append(aliases, alias{name, val})
			continue
		}
		t := &p.types[val-1]
		if t.name != "" {
			r.fail("type value %d named twice (%q, %q)", val, t.name, name)
			break
		}
		t.name, t.attr, t.bounds = name, props&typeAttribute != 0, bounds
	}
	for _, a := range aliases {
		if r.err != nil {
			return
		}
		t := &p.types[a.val-1]
		switch {
		case t.name == "":
			r.fail("alias %q of type value %d, which has no name", a.name, a.val)
		case t.attr:
			r.fail("alias %q of attribute %q", a.name, t.name)
		}
		t.aliases = append(t.aliases, a.name)
	}
	for i := range p.types {
		if r.err == nil && p.types[i].bounds != 0 && p.types[p.types[i].bounds-1].name == "" {
			r.fail("type %q bounded by unnamed type value %d", p.types[i].name, p.types[i].bounds)
		}
	}
	for i := range p.roles {
		p.roles[i].types.each(func(b uint32) {
			if r.err == nil && (int(b) >= nprim || p.types[b].name == "") {
				r.fail("role %q holds type value %d, which has no name", p.roles[i].name, b+1)
			}
		})
	}
}

// typeOK checks a type value read after the type table.
func (p *Symbols) typeOK(r *reader, what string, v uint32) bool {
	if r.err != nil {
		return false
	}
	if v == 0 || uint64(v) > uint64(len(p.types)) || p.types[v-1].name == "" {
		r.fail("%s: type value %d is not a declared type", what, v)
		return false
	}
	return true
}

func (p *Symbols) readUsers(r *reader) {
	nprim, nel := symtab(r, "user", 33)
	p.users = make([]string, nprim)
	idx := make(map[string]uint32, nel)
	for i := 0; i < nel && r.err == nil; i++ {
		n, v, bounds := r.u32(), r.u32(), r.u32()
		name := r.str(n, "user")
		val := value(r, "user", v, nprim)
		if bounds != 0 {
			value(r, "user bound", bounds, nprim)
		}
		unique(r, "user", idx, name, val)
		named(r, "user", p.users, val, name)
		r.walkEbitmap(len(p.roles), func(b uint32) {
			if r.err == nil && p.roles[b].name == "" {
				r.fail("user %q has unnamed role value %d", name, b+1)
			}
		})
		// The levels are checked once the categories are known.
		rg := p.readRange(r)
		p.pending = append(p.pending, rg.low, rg.high, p.readLevel(r))
	}
}

func (p *Symbols) readBools(r *reader) {
	nprim, nel := symtab(r, "boolean", 13)
	p.bools = make([]boolean, nprim)
	p.boolIndex = make(map[string]uint32, nel)
	for i := 0; i < nel && r.err == nil; i++ {
		v, state, n := r.u32(), r.u32(), r.u32()
		name := r.str(n, "boolean")
		val := value(r, "boolean", v, nprim)
		if r.err == nil && state > 1 {
			r.fail("boolean %q has state %d", name, state)
		}
		unique(r, "boolean", p.boolIndex, name, val)
		if r.err == nil {
			if p.bools[val-1].name != "" {
				r.fail("boolean value %d named twice", val)
			}
			p.bools[val-1] = boolean{name: name, state: state == 1}
		}
	}
}

func (p *Symbols) readSens(r *reader) {
	nprim, nel := symtab(r, "sensitivity", 25)
	p.sens = make([]string, nprim)
	idx := make(map[string]uint32, nel)
	for i := 0; i < nel && r.err == nil; i++ {
		n, isAlias := r.u32(), r.u32()
		name := r.str(n, "sensitivity")
		l := p.readLevel(r)
		p.pending = append(p.pending, l)
		val := value(r, "sensitivity", l.sens, nprim)
		unique(r, "sensitivity", idx, name, val)
		if r.err == nil && isAlias == 0 {
			named(r, "sensitivity", p.sens, val, name)
		}
	}
}

func (p *Symbols) readCats(r *reader) {
	nprim, nel := symtab(r, "category", 13)
	p.cats = make([]string, nprim)
	idx := make(map[string]uint32, nel)
	for i := 0; i < nel && r.err == nil; i++ {
		n, v, isAlias := r.u32(), r.u32(), r.u32()
		name := r.str(n, "category")
		val := value(r, "category", v, nprim)
		unique(r, "category", idx, name, val)
		if r.err == nil && isAlias == 0 {
			named(r, "category", p.cats, val, name)
		}
	}
	// Levels read before the categories (sensitivities, users) are
	// checked now that both tables are known.
	for _, l := range p.pending {
		p.checkLevel(r, "user or sensitivity", l)
	}
	p.pending = nil
}

// checkPermissive checks the permissive and neveraudit maps, read before
// the type table. Unlike the other type bitmaps, they are indexed by the
// type value itself (bit 0 unused), as the kernel looks them up.
func (p *Symbols) checkPermissive(r *reader) {
	p.permitted = make([]bool, len(p.types))
	for _, m := range []struct {
		what string
		bits bitmap
	}{{"permissive type", p.permissiveBits}, {"neveraudit type", p.neverAudit}} {
		m.bits.each(func(v uint32) {
			if p.typeOK(r, m.what, v) && p.types[v-1].attr {
				r.fail("%s %q is an attribute", m.what, p.types[v-1].name)
			}
			if r.err == nil && m.what == "permissive type" {
				p.permitted[v-1] = true
			}
		})
	}
}

// level is an MLS level: a sensitivity value and category bits (value-1).
type level struct {
	sens uint32
	cats bitmap
}

type mlsRange struct{ low, high level }

func (p *Symbols) readLevel(r *reader) level {
	s := r.u32()
	return level{sens: s, cats: r.bitmap(-1)}
}

// readRange reads a range: a count (1 or 2) of sensitivities, the
// sensitivities, then the low categories and, with two, the high ones.
func (p *Symbols) readRange(r *reader) mlsRange {
	n := r.u32()
	if r.err == nil && (n < 1 || n > 2) {
		r.fail("MLS range with %d levels", n)
		return mlsRange{}
	}
	var rg mlsRange
	rg.low.sens = r.u32()
	rg.high.sens = rg.low.sens
	if n == 2 {
		rg.high.sens = r.u32()
	}
	rg.low.cats = r.bitmap(-1)
	rg.high.cats = rg.low.cats
	if n == 2 {
		rg.high.cats = r.bitmap(-1)
	}
	return rg
}

// checkLevel holds an MLS level to the declared sensitivities and
// categories. A non-MLS policy's levels are zero and not checked.
func (p *Symbols) checkLevel(r *reader, what string, l level) {
	if r.err != nil || !p.hdr.MLS {
		return
	}
	// checkpolicy counts sensitivity aliases as values: a value may have
	// no name, and a level may not use it.
	if l.sens == 0 || uint64(l.sens) > uint64(len(p.sens)) || p.sens[l.sens-1] == "" {
		r.fail("%s: sensitivity value %d is not declared", what, l.sens)
		return
	}
	l.cats.each(func(c uint32) {
		if r.err == nil && (uint64(c) >= uint64(len(p.cats)) || p.cats[c] == "") {
			r.fail("%s: category value %d is not declared", what, c+1)
		}
	})
}

type secContext struct {
	user, role, typ uint32
	rng             mlsRange
}

// readContext reads a security context and checks that it names a
// declared user, role, type and levels.
func (p *Symbols) readContext(r *reader, what string) secContext {
	c := secContext{user: r.u32(), role: r.u32(), typ: r.u32()}
	c.rng = p.readRange(r)
	if r.err != nil {
		return c
	}
	switch {
	case c.user == 0 || uint64(c.user) > uint64(len(p.users)) || p.users[c.user-1] == "":
		r.fail("%s: user value %d is not declared", what, c.user)
	case c.role == 0 || uint64(c.role) > uint64(len(p.roles)) || p.roles[c.role-1].name == "":
		r.fail("%s: role value %d is not declared", what, c.role)
	}
	p.typeOK(r, what, c.typ)
	p.checkLevel(r, what, c.rng.low)
	p.checkLevel(r, what, c.rng.high)
	return c
}

// Access vector table entry kinds (the key's "specified" field).
const (
	avAllowed     = 0x0001
	avAuditAllow  = 0x0002
	avAuditDeny   = 0x0004
	avTransition  = 0x0010
	avMember      = 0x0020
	avChange      = 0x0040
	avXpermsAllow = 0x0100
	avXpermsAudit = 0x0200
	avXpermsDont  = 0x0400
	avEnabled     = 0x8000 // set on conditional entries whose branch is on

	avKinds  = avAllowed | avAuditAllow | avAuditDeny | avTransition | avMember | avChange
	avXperms = avXpermsAllow | avXpermsAudit | avXpermsDont
	avTypes  = avTransition | avMember | avChange
)

// readAvItems reads n access vector table entries and appends the allow
// entries to dst, tagged with cond. An entry is source, target, class and
// kind as 16-bit numbers, then a 32-bit access vector or new type, or for
// extended permissions a kind, a driver and 256 bits. This loop runs for
// every rule of the policy (over a hundred thousand), so it works on the
// bytes directly and checks the length once per entry.
func (p *Policy) readAvItems(r *reader, n int, cond int32, dst []avRule) []avRule {
	if r.err != nil {
		return dst
	}
	valid := p.validTypes()
	data, off := r.data, r.off
	defer func() { r.off = off }()
	for i := 0; i < n; i++ {
		if len(data)-off < 12 {
			r.off = off
			r.fail("truncated access vector entry %d of %d", i, n)
			return dst
		}
		e := data[off : off+12]
		src, tgt := binary.LittleEndian.Uint16(e), binary.LittleEndian.Uint16(e[2:])
		cls, spec := binary.LittleEndian.Uint16(e[4:]), binary.LittleEndian.Uint16(e[6:])
		kind := spec &^ avEnabled
		if kind&^(avKinds|avXperms) != 0 || kind&(kind-1) != 0 || kind == 0 ||
			int(src) >= len(valid) || !valid[src] || int(tgt) >= len(valid) || !valid[tgt] ||
			cls == 0 || int(cls) > len(p.classes) || p.classes[cls-1].name == "" {
			r.off = off
			p.badAvItem(r, uint32(src), uint32(tgt), cls, spec)
			return dst
		}
		if kind&avXperms != 0 {
			r.off = off
			switch {
			case p.hdr.Version < verXpermsIoctl:
				r.fail("extended permissions in a version %d policy", p.hdr.Version)
			case cond >= 0 && p.hdr.Version < verCondXperms:
				r.fail("conditional extended permissions in a version %d policy", p.hdr.Version)
			}
			r.take(8 + 2 + 32) // key, kind, driver, 256 bits
			off = r.off
			if r.err != nil {
				return dst
			}
			continue
		}
		v := binary.LittleEndian.Uint32(e[8:])
		if kind == avAllowed {
			dst = append(dst, avRule{src: src, tgt: tgt, cls: cls, perms: v, cond: cond})
		} else if kind&avTypes != 0 && (uint64(v) >= uint64(len(valid)) || !valid[v]) {
			r.off = off + 8
			r.fail("type rule's new type value %d is not a declared type", v)
			return dst
		}
		off += 12
	}
	return dst
}

// validTypes is, by type value, whether the value names a type or
// attribute (index 0 is never valid): the hot loops check values
// against it.
func (p *Symbols) validTypes() []bool {
	if p.valid == nil {
		p.valid = make([]bool, len(p.types)+1)
		for i := range p.types {
			p.valid[i+1] = p.types[i].name != ""
		}
	}
	return p.valid
}

// badAvItem names what is wrong with an entry's key.
func (p *Symbols) badAvItem(r *reader, src, tgt uint32, cls, spec uint16) {
	kind := spec &^ avEnabled
	switch {
	case kind&^(avKinds|avXperms) != 0 || kind == 0 || kind&(kind-1) != 0:
		r.fail("access vector entry kind %#04x", spec)
	case !p.isType(src):
		r.fail("access vector source: type value %d is not a declared type", src)
	case !p.isType(tgt):
		r.fail("access vector target: type value %d is not a declared type", tgt)
	default:
		r.fail("access vector class value %d is not declared", cls)
	}
}

// isType is typeOK without the error, for the hot loops.
func (p *Symbols) isType(v uint32) bool {
	return v != 0 && v <= uint32(len(p.types)) && p.types[v-1].name != ""
}

func (p *Policy) readAvtab(r *reader) {
	n := r.count("access vector entry", 12)
	if r.err == nil && n == 0 {
		r.fail("empty access vector table")
	}
	p.rules = p.readAvItems(r, n, -1, make([]avRule, 0, n))
}

// Conditional expression operators, in postfix order in the image.
const (
	condBool = 1
	condNot  = 2
	condOr   = 3
	condAnd  = 4
	condXor  = 5
	condEq   = 6
	condNeq  = 7

	condMaxDepth = 10
)

func (p *Policy) readConds(r *reader) {
	n := r.count("conditional", 16)
	p.conds = make([]condNode, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		r.u32() // the state the writer computed; we evaluate ourselves
		ne := r.count("conditional expression", 8)
		expr := make([]condTok, 0, ne)
		depth := 0
		for j := 0; j < ne && r.err == nil; j++ {
			op, b := r.u32(), r.u32()
			if r.err != nil {
				break
			}
			switch op {
			case condBool:
				value(r, "conditional boolean", b, len(p.bools))
				depth++
			case condNot:
				if depth < 1 {
					r.fail("conditional %d: 'not' with no operand", i)
				}
			case condOr, condAnd, condXor, condEq, condNeq:
				if depth < 2 {
					r.fail("conditional %d: binary operator with fewer than two operands", i)
				}
				depth--
			default:
				r.fail("conditional %d: operator %d", i, op)
			}
			if r.err == nil && depth > condMaxDepth {
				r.fail("conditional %d: expression deeper than %d", i, condMaxDepth)
			}
			expr = append(expr, condTok{op: uint8(op), b: b})
		}
		if r.err == nil && depth != 1 {
			r.fail("conditional %d: expression leaves %d values", i, depth)
		}
		node := int32(len(p.conds))
		p.conds = append(p.conds, condNode{expr: expr})
		for branch := int32(0); branch < 2 && r.err == nil; branch++ {
			// The true list is branch 0, the false list 1.
			m := r.count("conditional rule", 12)
			if m > 0 {
				p.condRules = append(p.condRules, p.readAvItems(r, m, node<<1|branch, make([]avRule, 0, m)))
			}
		}
	}
}

func (p *Policy) readRoleTrans(r *reader) {
	size := 12
	if p.hdr.Version >= verRoleTrans {
		size = 16
	}
	n := r.count("role transition", size)
	for i := 0; i < n && r.err == nil; i++ {
		role, typ, newRole := r.u32(), r.u32(), r.u32()
		value(r, "role transition role", role, len(p.roles))
		p.typeOK(r, "role transition", typ)
		value(r, "role transition new role", newRole, len(p.roles))
		if p.hdr.Version >= verRoleTrans {
			value(r, "role transition class", r.u32(), len(p.classes))
		}
	}
}

func (p *Policy) readRoleAllow(r *reader) {
	n := r.count("role allow rule", 8)
	for i := 0; i < n && r.err == nil; i++ {
		value(r, "role allow role", r.u32(), len(p.roles))
		value(r, "role allow new role", r.u32(), len(p.roles))
	}
}

func (p *Policy) readFilenameTrans(r *reader) {
	if p.hdr.Version < verFilenameTrans {
		return
	}
	if p.hdr.Version < verCompFtrans {
		// One entry per source type: name, source, target, class, new type.
		n := r.count("filename transition", 21)
		for i := 0; i < n && r.err == nil; i++ {
			r.str(r.u32(), "filename transition")
			p.typeOK(r, "filename transition source", r.u32())
			p.typeOK(r, "filename transition target", r.u32())
			value(r, "filename transition class", r.u32(), len(p.classes))
			p.typeOK(r, "filename transition new type", r.u32())
		}
		return
	}
	// Version 33 groups sources: name, target, class, then per new type
	// a bitmap of source types.
	n := r.count("filename transition", 17)
	for i := 0; i < n && r.err == nil; i++ {
		r.str(r.u32(), "filename transition")
		p.typeOK(r, "filename transition target", r.u32())
		value(r, "filename transition class", r.u32(), len(p.classes))
		m := r.count("filename transition new type", 16)
		if r.err == nil && m == 0 {
			r.fail("filename transition with no new type")
		}
		for j := 0; j < m && r.err == nil; j++ {
			r.walkEbitmap(len(p.types), func(b uint32) {
				if !p.isType(b + 1) {
					p.typeOK(r, "filename transition source", b+1)
				}
			})
			p.typeOK(r, "filename transition new type", r.u32())
		}
	}
}

// Object context lists, in image order.
const (
	oconISID = iota
	oconFS
	oconPort
	oconNetif
	oconNode
	oconFSUse
	oconNode6
	oconIBPkey
	oconIBEndport
)

func (p *Policy) readOcontexts(r *reader, n int) {
	for i := 0; i < n && r.err == nil; i++ {
		m := r.count("object context", 20)
		for j := 0; j < m && r.err == nil; j++ {
			switch i {
			case oconISID:
				r.u32() // initial SID number
				p.readContext(r, "initial SID")
			case oconFS, oconNetif:
				r.str(r.u32(), "file system or interface")
				p.readContext(r, "file system or interface")
				p.readContext(r, "file system or interface")
			case oconPort:
				proto, low, high := r.u32(), r.u32(), r.u32()
				c := p.readContext(r, "portcon")
				if r.err == nil && (low > 0xffff || high > 0xffff || low > high) {
					r.fail("portcon port range %d-%d", low, high)
				}
				if r.err == nil {
					p.ports = append(p.ports, portcon{proto: proto, low: low, high: high, ctx: c})
				}
			case oconNode:
				r.take(8) // address, mask
				p.readContext(r, "nodecon")
			case oconFSUse:
				r.u32() // behaviour
				r.str(r.u32(), "fs_use")
				p.readContext(r, "fs_use")
			case oconNode6:
				r.take(32)
				p.readContext(r, "nodecon")
			case oconIBPkey:
				r.take(16) // subnet prefix, low, high
				p.readContext(r, "ibpkeycon")
			case oconIBEndport:
				n, port := r.u32(), r.u32()
				r.str(n, "ibendport device")
				if r.err == nil && (port == 0 || port > 0xff) {
					r.fail("ibendportcon port %d", port)
				}
				p.readContext(r, "ibendportcon")
			}
		}
	}
}

func (p *Policy) readGenfs(r *reader) {
	n := r.count("genfs file system", 8)
	for i := 0; i < n && r.err == nil; i++ {
		r.str(r.u32(), "genfs file system")
		m := r.count("genfs entry", 24)
		for j := 0; j < m && r.err == nil; j++ {
			r.str(r.u32(), "genfs path")
			if c := r.u32(); c != 0 {
				value(r, "genfs class", c, len(p.classes))
			}
			p.readContext(r, "genfscon")
		}
	}
}

func (p *Policy) readRangeTrans(r *reader) {
	n := r.count("range transition", 28)
	for i := 0; i < n && r.err == nil; i++ {
		p.typeOK(r, "range transition source", r.u32())
		p.typeOK(r, "range transition target", r.u32())
		value(r, "range transition class", r.u32(), len(p.classes))
		rg := p.readRange(r)
		p.checkLevel(r, "range transition", rg.low)
		p.checkLevel(r, "range transition", rg.high)
	}
}

// readTypeAttrMap reads one bitmap per type value: the attributes of a
// type (and the type itself); an attribute's holds only itself.
func (p *Policy) readTypeAttrMap(r *reader) {
	n := len(p.types)
	r.checkCount("type attribute map", uint32(n), 12)
	if r.err != nil {
		return
	}
	off := make([]int32, 1, n+1)
	var vals []uint32
	for i := 0; i < n && r.err == nil; i++ {
		t := &p.types[i]
		r.walkEbitmap(n, func(b uint32) {
			if int(b) == i || r.err != nil {
				return
			}
			switch {
			case t.name == "":
				r.fail("unnamed type value %d has attributes", i+1)
			case t.attr:
				r.fail("attribute %q has attribute value %d", t.name, b+1)
			case p.types[b].name == "" || !p.types[b].attr:
				r.fail("type %q has attribute value %d, which is not an attribute", t.name, b+1)
			}
			vals = append(vals, b+1)
		})
		off = append(off, int32(len(vals)))
	}
	p.typeAttrs = lists{off: off, vals: vals}
}
