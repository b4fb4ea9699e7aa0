package canonical

import (
	"bytes"
	"encoding/binary"
)

// HeaderSet collects the headers of a canonical request. Each header is
// copied once into scratch memory, its name lowered and its values
// canonicalized, and sorted through an index: building the set stores no
// pointers and allocates nothing in steady state.
type HeaderSet struct {
	buf    []byte
	ents   []headerEnt
	order  []uint16
	same   []bool // same[k]: order[k] has the name of order[k-1]
	unique int
	table  []uint16 // open addressing over the first tableN names: index+1, 0 free
	tableN int      // the names indexed, plus one; 0: no table
	sorted bool     // every header came from AddLower: in order, distinct
}

// span is buf[lo:hi].
type span struct{ lo, hi uint32 }

type headerEnt struct {
	key   uint64 // the first 8 bytes of the lower-case name, for sorting
	orig  span   // the name as given
	name  span   // the name in lower case
	value span   // the canonical values, joined by ','
	set   bool   // values were given, even none
	empty bool   // no value was given
}

// Reset empties the set, keeping its memory.
func (h *HeaderSet) Reset() {
	h.buf, h.ents, h.order, h.same, h.unique = h.buf[:0], h.ents[:0], h.order[:0], h.same[:0], 0
	h.tableN, h.sorted = 0, true
}

// Add adds a header. Names that differ only in case are one header in the
// canonical request, their values joined in the byte order of the names,
// as net/http writes them on the wire. Nil values mean the values are not
// known yet (see SetValues).
func (h *HeaderSet) Add(name string, values []string) {
	h.sorted = false
	var e headerEnt
	e.orig = h.appendSpan(name)
	lo := len(h.buf)
	h.buf = appendLower(h.buf, name)
	e.name = span{uint32(lo), uint32(len(h.buf))}
	e.key = prefixKey(h.buf[lo:])
	h.ents = append(h.ents, e)
	if values != nil {
		h.SetValues(len(h.ents)-1, values)
	}
}

// AddLower adds a header whose name is already in lower case and sorts
// after every name added before (a validated SignedHeaders entry), with
// its values to come (see SetValues).
func (h *HeaderSet) AddLower(name string) {
	var e headerEnt
	e.name = h.appendSpan(name)
	e.orig = e.name
	e.key = prefixKey(h.bytes(e.name))
	h.ents = append(h.ents, e)
}

func (h *HeaderSet) appendSpan(s string) span {
	lo := len(h.buf)
	h.buf = append(h.buf, s...)
	return span{uint32(lo), uint32(len(h.buf))}
}

// prefixKey is the first eight bytes of b, big-endian, zero-padded:
// comparing keys orders names as bytes.Compare does, but for names that
// share those eight bytes (a header name or an encoded query name holds no
// zero byte).
func prefixKey(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.BigEndian.Uint64(b)
	}
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(b) {
			k |= uint64(b[i])
		}
	}
	return k
}

// Len returns the number of headers added, counting each spelling.
func (h *HeaderSet) Len() int { return len(h.ents) }

// Name returns the lower-case name of the i-th header added.
func (h *HeaderSet) Name(i int) []byte { return h.bytes(h.ents[i].name) }

// SetValues sets the values of the i-th header added, canonicalized.
func (h *HeaderSet) SetValues(i int, values []string) {
	lo := len(h.buf)
	for k, v := range values {
		if k > 0 {
			h.buf = append(h.buf, ',')
		}
		h.buf = AppendHeaderValue(h.buf, v)
	}
	e := &h.ents[i]
	e.value = span{uint32(lo), uint32(len(h.buf))}
	e.set, e.empty = true, len(values) == 0
}

// SetSpelling records the name of the i-th header as received, which
// orders it among other spellings of the same name.
func (h *HeaderSet) SetSpelling(i int, name string) { h.ents[i].orig = h.appendSpan(name) }

// AddBytes adds a header with one value given as bytes.
func (h *HeaderSet) AddBytes(name string, value []byte) {
	h.Add(name, nil)
	lo := len(h.buf)
	h.buf = AppendHeaderValue(h.buf, string(value))
	e := &h.ents[len(h.ents)-1]
	e.value = span{uint32(lo), uint32(len(h.buf))}
	e.set = true
}

// Has reports whether the values of the i-th header added were set.
func (h *HeaderSet) Has(i int) bool { return h.ents[i].set }

func (h *HeaderSet) bytes(s span) []byte { return h.buf[s.lo:s.hi] }

// Sort orders the headers by lower-case name. It must be called after the
// last Add and before appending.
func (h *HeaderSet) Sort() {
	h.order = h.order[:0]
	for i := range h.ents {
		h.order = append(h.order, uint16(i))
	}
	if h.sorted { // in order already, one spelling each
		h.same = append(h.same[:0], make([]bool, len(h.ents))...)
		h.unique = len(h.ents)
		return
	}
	o := h.order
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && h.less(o[j], o[j-1]); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
	h.same, h.unique = h.same[:0], 0
	for k := range o {
		same := k > 0 && h.ents[o[k-1]].key == h.ents[o[k]].key &&
			bytes.Equal(h.bytes(h.ents[o[k-1]].name), h.bytes(h.ents[o[k]].name))
		h.same = append(h.same, same)
		if !same {
			h.unique++
		}
	}
}

func (h *HeaderSet) less(a, b uint16) bool {
	ea, eb := &h.ents[a], &h.ents[b]
	if ea.key != eb.key {
		return ea.key < eb.key
	}
	if c := bytes.Compare(h.bytes(ea.name), h.bytes(eb.name)); c != 0 {
		return c < 0
	}
	return bytes.Compare(h.bytes(ea.orig), h.bytes(eb.orig)) < 0
}

// AppendCanonical appends the canonical headers: "name:value\n" for each
// name, repeated values joined by ','.
func (h *HeaderSet) AppendCanonical(b []byte) []byte {
	started := false // whether the current line has a value yet
	for k, i := range h.order {
		e := &h.ents[i]
		if h.same[k] {
			b = b[:len(b)-1] // continue the previous line
		} else {
			b = append(b, h.bytes(e.name)...)
			b = append(b, ':')
			started = false
		}
		if e.set && !e.empty {
			if started {
				b = append(b, ',')
			}
			b = append(b, h.bytes(e.value)...)
			started = true
		}
		b = append(b, '\n')
	}
	return b
}

// AppendSigned appends the signed headers list: names joined by ';'.
func (h *HeaderSet) AppendSigned(b []byte) []byte {
	for k, i := range h.order {
		if h.same[k] {
			continue
		}
		if k > 0 {
			b = append(b, ';')
		}
		b = append(b, h.bytes(h.ents[i].name)...)
	}
	return b
}

// Unique returns the number of distinct names. It needs Sort.
func (h *HeaderSet) Unique() int { return h.unique }

// Find returns the index of name (any case) among the first n headers
// added, which must have been added in lower case with distinct names, or
// -1. The first call for an n indexes those names in a hash table: each
// later Find hashes name once and compares it with one candidate, however
// many names share a prefix (x-amz-meta-*).
func (h *HeaderSet) Find(name string, n int) int {
	if h.tableN != n+1 {
		h.index(n)
	}
	mask := uint32(len(h.table) - 1)
	for i := foldHash(name) & mask; ; i = (i + 1) & mask {
		k := h.table[i]
		if k == 0 {
			return -1
		}
		if equalFold(name, h.bytes(h.ents[k-1].name)) {
			return int(k - 1)
		}
	}
}

// index builds the hash table of the first n names, at most half full.
func (h *HeaderSet) index(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	h.table = append(h.table[:0], make([]uint16, size)...)
	mask := uint32(size - 1)
	for k := range n {
		i := foldHash(h.bytes(h.ents[k].name)) & mask
		for h.table[i] != 0 {
			i = (i + 1) & mask
		}
		h.table[i] = uint16(k + 1)
	}
	h.tableN = n + 1
}

// foldHash hashes a name as its lower-case form, eight bytes at a time, so
// that a name in any case and its lower-case copy hash alike.
func foldHash[T string | []byte](s T) uint32 {
	const prime = 0x9e3779b97f4a7c15
	x := uint64(len(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x = (x ^ lowerWord(load64(s[i:i+8]))) * prime
		x ^= x >> 29
	}
	var t uint64
	for j := len(s) - 1; j >= i; j-- {
		t = t<<8 | uint64(lower(s[j]))
	}
	x = (x ^ t) * prime
	return uint32(x >> 32)
}

// equalFold reports whether a name in any case is the lower-case name b,
// eight bytes at a time, the last eight overlapping the word before.
func equalFold(a string, b []byte) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if n < 8 {
		for i := range n {
			if lower(a[i]) != b[i] {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 < n; i += 8 {
		if lowerWord(load64(a[i:])) != load64(b[i:]) {
			return false
		}
	}
	return lowerWord(load64(a[n-8:])) == load64(b[n-8:])
}
