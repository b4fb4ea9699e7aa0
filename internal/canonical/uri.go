package canonical

const upperHex = "0123456789ABCDEF"

// unreserved reports whether c is left as it is by URI encoding: A-Z, a-z,
// 0-9, '-', '.', '_' and '~'.
func unreserved(c byte) bool { return unreservedTable[c] }

var unreservedTable = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return t
}()

// appendEncoded appends c URI-encoded: unreserved bytes as they are, every
// other byte as %XX with upper-case hex.
func appendEncoded(b []byte, c byte) []byte {
	if unreserved(c) {
		return append(b, c)
	}
	return append(b, '%', upperHex[c>>4], upperHex[c&15])
}

// AppendEscaped appends s URI-encoded: every byte but the unreserved ones
// as %XX. It is how the canonical query writes names and values.
func AppendEscaped[T string | []byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		b = appendEncoded(b, s[i])
	}
	return b
}

// Unhex returns the value of a hexadecimal digit, in either case.
func Unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeAt returns the byte that s[i:] starts with after percent-decoding and
// how many bytes of s it took. A '%' not followed by two hex digits stands for
// itself. With plusIsSpace, '+' decodes to a space, as in a query string.
func decodeAt(s string, i int, plusIsSpace bool) (byte, int) {
	c := s[i]
	if c == '%' && i+2 < len(s) {
		hi, ok1 := Unhex(s[i+1])
		lo, ok2 := Unhex(s[i+2])
		if ok1 && ok2 {
			return hi<<4 | lo, 3
		}
	}
	if c == '+' && plusIsSpace {
		return ' ', 1
	}
	return c, 1
}

// AppendURI appends the canonical URI of a path as sent on the wire.
//
// With S3 rules the path is decoded and encoded once, byte by byte, keeping
// '/': any escaping the client chose gives the same result, as on Amazon S3.
// Otherwise dot segments and empty segments are removed and each segment is
// encoded again as it stands, so an escape %20 becomes %2520: the
// "encoded twice" rule of every service but S3.
func AppendURI(b []byte, path string, s3 bool) []byte {
	if path == "" {
		return append(b, '/')
	}
	if s3 {
		n := 0 // a prefix of '/' and unreserved bytes stays as it is
		for n < len(path) && (path[n] == '/' || unreserved(path[n])) {
			n++
		}
		b = append(b, path[:n]...)
		for i := n; i < len(path); {
			c, n := decodeAt(path, i, false)
			i += n
			b = appendPathByte(b, c)
		}
		return b
	}
	return appendNormalizedPath(b, path)
}

// AppendDecodedURI appends the S3 canonical URI of a path that is already
// decoded: every byte but '/' and the unreserved ones encoded once.
func AppendDecodedURI(b []byte, path string) []byte {
	if path == "" {
		return append(b, '/')
	}
	for i := 0; i < len(path); i++ {
		b = appendPathByte(b, path[i])
	}
	return b
}

// appendPathByte encodes a decoded path byte by S3 rules: '/' stays.
func appendPathByte(b []byte, c byte) []byte {
	if c == '/' {
		return append(b, '/')
	}
	return appendEncoded(b, c)
}

// appendNormalizedPath removes "." and ".." segments (RFC 3986 section
// 5.2.4) and empty ones, and encodes each remaining segment. As in the
// SDKs (botocore, the JS SDK v3, smithy-rs), the result ends with a slash
// only if the path does and something is left: "/a/b/." is "/a/b", and
// "/a/b/../" is "/a/".
func appendNormalizedPath(b []byte, path string) []byte {
	start := len(b)
	for i := 0; i <= len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		seg := path[i:j]
		i = j + 1
		switch seg {
		case "", ".":
		case "..":
			b = b[:lastSlash(b, start)]
		default:
			b = append(b, '/')
			for k := 0; k < len(seg); k++ {
				b = appendEncoded(b, seg[k])
			}
		}
	}
	if len(b) == start || path[len(path)-1] == '/' {
		b = append(b, '/')
	}
	return b
}

// lastSlash returns the index of the last '/' in b[start:], or start.
func lastSlash(b []byte, start int) int {
	for i := len(b) - 1; i > start; i-- {
		if b[i] == '/' {
			return i
		}
	}
	return start
}
