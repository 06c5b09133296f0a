package policydb

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"
)

// reader walks the image. Every read checks the bytes left, and every count
// read from the image is checked against the bytes left before anything is
// allocated for it (count times the smallest encoding of one element), so a
// forged count can neither panic nor make us allocate more than a small
// multiple of the input.
//
// The first error sticks: later reads return zeros and loops stop on r.err,
// so the parse code reads straight through and checks once per element.
type reader struct {
	data    []byte
	off     int
	section string // what is being read, for error messages
	err     error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &FormatError{Offset: r.off, Section: r.section, Msg: fmt.Sprintf(format, args...)}
	}
}

func (r *reader) left() int { return len(r.data) - r.off }

// take returns the next n bytes, or nil (and the error) if the image ends.
func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail("truncated: need %d bytes, %d left", n, r.left())
		return nil
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads an element count and checks that n elements of at least
// minSize bytes each fit in what is left of the image.
func (r *reader) count(what string, minSize int) int {
	n := r.u32()
	r.checkCount(what, n, minSize)
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *reader) checkCount(what string, n uint32, minSize int) {
	if r.err != nil {
		return
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(r.left()) {
		r.fail("%s count %d cannot fit in the %d bytes left", what, n, r.left())
	}
}

// str reads a string of length n (a length read earlier from the image).
// Names in a policy are never empty.
func (r *reader) str(n uint32, what string) string {
	if r.err != nil {
		return ""
	}
	if n == 0 {
		r.fail("empty %s name", what)
		return ""
	}
	if uint64(n) > uint64(r.left()) {
		r.fail("truncated %s name: length %d, %d bytes left", what, n, r.left())
		return ""
	}
	return string(r.take(int(n)))
}

// skipStr skips a string of length n, which may be empty.
func (r *reader) skipStr(n uint32) {
	if uint64(n) > uint64(r.left()) {
		r.fail("truncated string: length %d, %d bytes left", n, r.left())
		return
	}
	r.take(int(n))
}

// bitmap reads the image's extensible bitmap: a node size (always 64),
// the high bit, a node count, then per node its start bit and 64 bits of
// map. Nodes are sorted, non-empty and end exactly at the high bit. The
// nodes are kept as they are (16 bytes of memory for 12 of image), not
// expanded to a list of bits, which could take 21 times the image. limit
// bounds the bits (a bitmap of type values may not name a value beyond
// the table); a negative limit means no bound.
func (r *reader) bitmap(limit int) bitmap {
	var out bitmap
	r.readEbitmap(limit, func(start uint32, m uint64) { out = append(out, bitNode{start, m}) })
	return out
}

// walkEbitmap reads a bitmap and calls fn (if not nil) for each set bit.
func (r *reader) walkEbitmap(limit int, fn func(bit uint32)) {
	r.readEbitmap(limit, func(start uint32, m uint64) {
		if fn == nil {
			return
		}
		for b := uint32(0); m != 0; b++ {
			if m&1 != 0 {
				fn(start + b)
			}
			m >>= 1
		}
	})
}

// skipEbitmap checks a bitmap's structure without keeping its bits.
func (r *reader) skipEbitmap() { r.walkEbitmap(-1, nil) }

func (r *reader) readEbitmap(limit int, node func(start uint32, m uint64)) {
	mapSize := r.u32()
	high := r.u32()
	n := r.u32()
	if r.err != nil {
		return
	}
	if mapSize != 64 {
		r.fail("bitmap node size %d, want 64", mapSize)
		return
	}
	if high%64 != 0 {
		r.fail("bitmap high bit %d is not a multiple of 64", high)
		return
	}
	if (high == 0) != (n == 0) {
		r.fail("bitmap with high bit %d has %d nodes", high, n)
		return
	}
	r.checkCount("bitmap node", n, 12)
	var last uint32
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.u32()
		m := r.u64()
		if r.err != nil {
			return
		}
		switch {
		case start%64 != 0:
			r.fail("bitmap node start %d is not a multiple of 64", start)
		case start > high-64:
			r.fail("bitmap node start %d beyond high bit %d", start, high)
		case i > 0 && start <= last:
			r.fail("bitmap nodes out of order (%d after %d)", start, last)
		case m == 0:
			r.fail("empty bitmap node at %d", start)
		case i == n-1 && start+64 != high:
			r.fail("bitmap high bit %d does not follow its last node (%d)", high, start)
		case limit >= 0 && uint64(start)+uint64(63-bits.LeadingZeros64(m)) >= uint64(limit):
			r.fail("bitmap bit %d beyond the %d entries it indexes", start+uint32(63-bits.LeadingZeros64(m)), limit)
		}
		if r.err != nil {
			return
		}
		last = start
		node(start, m)
	}
}

type bitNode struct {
	start uint32
	m     uint64
}

// bitmap is a set of bits as the image stores it: sorted nodes of 64.
type bitmap []bitNode

// each calls fn for every set bit, in order.
func (b bitmap) each(fn func(bit uint32)) {
	for _, n := range b {
		for m, i := n.m, uint32(0); m != 0; i++ {
			if m&1 != 0 {
				fn(n.start + i)
			}
			m >>= 1
		}
	}
}

// bits lists the set bits.
func (b bitmap) bits() []uint32 {
	var out []uint32
	b.each(func(bit uint32) { out = append(out, bit) })
	return out
}

func (b bitmap) has(bit uint32) bool {
	i := sort.Search(len(b), func(i int) bool { return b[i].start+63 >= bit })
	return i < len(b) && b[i].start <= bit && b[i].m&(1<<(bit-b[i].start)) != 0
}

func (b bitmap) equal(c bitmap) bool {
	if len(b) != len(c) {
		return false
	}
	for i := range b {
		if b[i] != c[i] {
			return false
		}
	}
	return true
}

// FormatError is a malformed or truncated policy image.
type FormatError struct {
	Offset  int    // byte offset where the problem was found
	Section string // part of the policy being read
	Msg     string
}

func (e *FormatError) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("binary policy: byte %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("binary policy: %s, byte %d: %s", e.Section, e.Offset, e.Msg)
}
