package canonical

import "bytes"

// HeaderSet collects the headers of a canonical request. Names are lowered
// once into scratch memory and sorted through an index, so that building
// the set moves no pointers and allocates nothing in steady state.
type HeaderSet struct {
	lower  []byte
	ents   []headerEnt
	order  []uint16
	same   []bool // same[k]: order[k] has the name of order[k-1]
	unique int
}

type headerEnt struct {
	name   string // as given
	lo, hi uint32 // the name in lower case: lower[lo:hi]
	values []string
}

// Reset empties the set, keeping its memory.
func (h *HeaderSet) Reset() {
	clear(h.ents) // drop references to the request's strings
	h.lower, h.ents, h.order, h.same, h.unique = h.lower[:0], h.ents[:0], h.order[:0], h.same[:0], 0
}

// Add adds a header. Names that differ only in case are one header in the
// canonical request, their values joined in the byte order of the names,
// as net/http writes them on the wire.
func (h *HeaderSet) Add(name string, values []string) {
	lo := len(h.lower)
	h.lower = appendLower(h.lower, name)
	h.ents = append(h.ents, headerEnt{name: name, lo: uint32(lo), hi: uint32(len(h.lower)), values: values})
}

// Len returns the number of headers added, counting each spelling.
func (h *HeaderSet) Len() int { return len(h.ents) }

// Name returns the lower-case name of the i-th header added.
func (h *HeaderSet) Name(i int) []byte { return h.lower[h.ents[i].lo:h.ents[i].hi] }

// SetValues sets the values of the i-th header added.
func (h *HeaderSet) SetValues(i int, values []string) { h.ents[i].values = values }

// Values returns the values of the i-th header added.
func (h *HeaderSet) Values(i int) []string { return h.ents[i].values }

// Sort orders the headers by lower-case name. It must be called after the
// last Add and before appending.
func (h *HeaderSet) Sort() {
	h.order = h.order[:0]
	for i := range h.ents {
		h.order = append(h.order, uint16(i))
	}
	o := h.order
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && h.less(o[j], o[j-1]); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
	h.same, h.unique = h.same[:0], 0
	for k := range o {
		same := k > 0 && bytes.Equal(h.name(o[k-1]), h.name(o[k]))
		h.same = append(h.same, same)
		if !same {
			h.unique++
		}
	}
}

func (h *HeaderSet) name(i uint16) []byte { e := &h.ents[i]; return h.lower[e.lo:e.hi] }

func (h *HeaderSet) less(a, b uint16) bool {
	ea, eb := &h.ents[a], &h.ents[b]
	if c := bytes.Compare(h.lower[ea.lo:ea.hi], h.lower[eb.lo:eb.hi]); c != 0 {
		return c < 0
	}
	return ea.name < eb.name
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
			b = append(b, h.lower[e.lo:e.hi]...)
			b = append(b, ':')
			started = false
		}
		for _, v := range e.values {
			if started {
				b = append(b, ',')
			}
			b = AppendHeaderValue(b, v)
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
		e := &h.ents[i]
		b = append(b, h.lower[e.lo:e.hi]...)
	}
	return b
}

// Unique returns the number of distinct names. It needs Sort.
func (h *HeaderSet) Unique() int { return h.unique }

// Find returns the index of name (any case) among the first n headers
// added, which must have been added sorted and in lower case, or -1.
func (h *HeaderSet) Find(name string, n int) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		e := &h.ents[m]
		switch c := compareFoldBytes(name, h.lower[e.lo:e.hi]); {
		case c == 0:
			return m
		case c > 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// compareFoldBytes compares a name in any case with a lower-case name.
func compareFoldBytes(a string, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := lower(a[i]), b[i]; ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
