package canonical

var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

func lower(c byte) byte { return lowerTable[c] }

func appendLower(b []byte, s string) []byte {
	n := len(b)
	b = append(b, s...)
	for i := n; i < len(b); i++ {
		b[i] = lowerTable[b[i]]
	}
	return b
}

// CompareFold compares two ASCII header names as their lower-case forms.
func CompareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// SortHeaders sorts headers by lower-case name, in place and without
// allocating. Names that differ only in case are ordered by their bytes,
// as net/http writes them on the wire, so that merging them (see
// AppendHeaders) gives the values in the order a server receives them.
func SortHeaders(h []Header) {
	less := func(a, b string) bool {
		if c := CompareFold(a, b); c != 0 {
			return c < 0
		}
		return a < b
	}
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && less(h[j].Name, h[j-1].Name); j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

func space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// AppendHeaderValue appends a header value with leading and trailing white
// space removed and every inner run of white space turned into one space.
func AppendHeaderValue(b []byte, v string) []byte {
	if clean(v) {
		return append(b, v...)
	}
	pending, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if space(c) {
			pending = started
			continue
		}
		if pending {
			b = append(b, ' ')
			pending = false
		}
		started = true
		b = append(b, c)
	}
	return b
}

// clean reports whether v needs no trimming or collapsing: no control
// bytes, no space at either end and no two spaces in a row.
func clean(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] == ' ' && v[i+1] == ' ' {
			return false
		}
	}
	return true
}

// AppendHeaders appends the canonical headers: "name:value\n" for each
// header, the name in lower case and repeated values joined by ','.
func AppendHeaders(b []byte, h []Header) []byte {
	for _, e := range h {
		b = appendLower(b, e.Name)
		b = append(b, ':')
		for i, v := range e.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendHeaderValue(b, v)
		}
		b = append(b, '\n')
	}
	return b
}

// AppendSignedHeaders appends the signed headers list: lower-case names
// joined by ';'.
func AppendSignedHeaders(b []byte, h []Header) []byte {
	for i, e := range h {
		if i > 0 {
			b = append(b, ';')
		}
		b = appendLower(b, e.Name)
	}
	return b
}
