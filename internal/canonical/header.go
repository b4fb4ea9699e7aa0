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
