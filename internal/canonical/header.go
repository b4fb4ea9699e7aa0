package canonical

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, lower(s[i]))
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
// allocating. Names must already be unique without regard to case.
func SortHeaders(h []Header) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && CompareFold(h[j].Name, h[j-1].Name) < 0; j-- {
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
