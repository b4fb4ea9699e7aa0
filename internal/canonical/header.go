package canonical

import "encoding/binary"

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

// Bytes-in-a-word constants for the word-at-a-time loops below.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// lowerWord lowers the ASCII upper-case letters of eight bytes at once.
func lowerWord(x uint64) uint64 {
	low7 := x &^ highs
	geA := low7 + ones*(0x80-'A') // high bit set where the byte is >= 'A'
	gtZ := low7 + ones*(0x7f-'Z') // high bit set where the byte is > 'Z'
	upper := (geA &^ gtZ) &^ x & highs
	return x | upper>>2
}

func appendLower(b []byte, s string) []byte {
	n := len(b)
	b = append(b, s...)
	t := b[n:]
	for len(t) >= 8 {
		binary.LittleEndian.PutUint64(t, lowerWord(binary.LittleEndian.Uint64(t)))
		t = t[8:]
	}
	for i := range t {
		t[i] = lowerTable[t[i]]
	}
	return b
}

var spaceTable = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, '\v': true, '\f': true}

func space(c byte) bool { return spaceTable[c] }

// AppendHeaderValue appends a header value with leading and trailing white
// space removed and every inner run of white space turned into one space.
func AppendHeaderValue(b []byte, v string) []byte {
	if clean(v) {
		return append(b, v...)
	}
	// Copy, then compact in place: the write index never passes the read.
	n := len(b)
	b = append(b, v...)
	t := b[n:]
	w, pending := 0, false
	for _, c := range t {
		if space(c) {
			pending = w > 0
			continue
		}
		if pending {
			t[w] = ' '
			w++
			pending = false
		}
		t[w] = c
		w++
	}
	return b[:n+w]
}

// clean reports whether v needs no trimming or collapsing: no control
// bytes, no space at either end and no two spaces in a row. It looks at
// eight bytes at a time.
func clean(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	prev := uint64(0) // the high bit of the previous word's last byte, if a space
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := load64(v[i : i+8])
		if (x-ones*' ')&^x&highs != 0 { // a byte below ' '
			return false
		}
		sp := zeroBytes(x ^ ones*' ')
		if sp&(sp>>8|prev) != 0 {
			return false
		}
		prev = sp >> 56 & 0x80
	}
	for ; i < len(v); i++ {
		if v[i] < ' ' || v[i] == ' ' && (prev != 0 || v[i+1] == ' ') {
			return false
		}
		prev = 0
	}
	return true
}

// zeroBytes returns a word with the high bit set in exactly the bytes of
// x that are zero.
func zeroBytes(x uint64) uint64 {
	const low7s = ^uint64(highs)
	return ^((x&low7s + low7s) | x | low7s)
}

// load64 reads eight bytes of s little-endian; the compiler makes it one load.
func load64[T string | []byte](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
