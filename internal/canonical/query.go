package canonical

import (
	"bytes"
	"slices"
)

// Query parameter names that take part in authentication.
const (
	ParamSignature     = "X-Amz-Signature"
	ParamSecurityToken = "X-Amz-Security-Token"
)

// Omit says which authentication parameters a canonical query leaves out.
type Omit uint8

const (
	OmitNone          Omit = 0
	OmitSignature     Omit = 1 << iota // X-Amz-Signature, of a presigned URL
	OmitSecurityToken                  // X-Amz-Security-Token, added after signing
)

// AppendQuery appends the canonical query string of a raw query as sent on
// the wire: each name and value is decoded ('+' is a space) and encoded
// again, pairs are sorted by encoded name and then by encoded value, a
// missing value is written as "k=", repeated names are all kept, and the
// parameters named by omit are left out. Names are compared decoded, so
// X-Amz-%53ignature is X-Amz-Signature.
func (s *Scratch) AppendQuery(b []byte, rawQuery string, omit Omit) []byte {
	s.query = s.query[:0]
	s.pairs = s.pairs[:0]
	for i := 0; i < len(rawQuery); i++ { // at a field's start, or its '&'
		if rawQuery[i] != '&' {
			i = s.addPair(rawQuery, i, omit)
		}
	}
	s.sortPairs()
	for n, p := range s.pairs {
		if n > 0 {
			b = append(b, '&')
		}
		b = append(b, s.query[p.k0:p.v1]...) // name=value
	}
	return b
}

// addPair adds the field of q that starts at i, re-encoded, and returns
// where it ends: at its '&', or the end of q.
func (s *Scratch) addPair(q string, i int, omit Omit) int {
	k0 := len(s.query)
	s.query, i = appendReencoded(s.query, q, i, true)
	k1 := len(s.query)
	key := s.query[k0:k1]
	if omit&OmitSignature != 0 && string(key) == ParamSignature ||
		omit&OmitSecurityToken != 0 && string(key) == ParamSecurityToken {
		s.query = s.query[:k0]
		for i < len(q) && q[i] != '&' {
			i++
		}
		return i
	}
	if i < len(q) && q[i] == '=' {
		i++
	}
	s.query = append(s.query, '=')
	s.query, i = appendReencoded(s.query, q, i, false)
	s.pairs = append(s.pairs, pair{prefixKey(key), int32(k0), int32(k1), int32(len(s.query))})
	return i
}

// appendReencoded decodes the query component of q that starts at i, up to
// the next '&' (or, in a name, '='), encodes it again, and returns where
// it stopped. Runs of unreserved bytes, and escapes already in canonical
// form (%XX, upper-case hex, of a byte that must stay escaped), are copied
// as they are. No escape holds '&' or '=': those end a component wherever
// they are.
func appendReencoded(b []byte, q string, i int, name bool) ([]byte, int) {
	for i < len(q) {
		n := i
		for n < len(q) && unreserved(q[n]) {
			n++
		}
		b = append(b, q[i:n]...)
		if i = n; i == len(q) || q[i] == '&' || name && q[i] == '=' {
			break
		}
		if canonicalEscape(q, i) {
			b = append(b, q[i:i+3]...)
			i += 3
			continue
		}
		c, w := decodeAt(q, i, true)
		i += w
		b = appendEncoded(b, c)
	}
	return b, i
}

// canonicalEscape reports whether s[i:] starts with an escape that the
// canonical query writes as it is.
func canonicalEscape(s string, i int) bool {
	if s[i] != '%' || i+2 >= len(s) || !upperHexDigit(s[i+1]) || !upperHexDigit(s[i+2]) {
		return false
	}
	hi, _ := Unhex(s[i+1])
	lo, _ := Unhex(s[i+2])
	return !unreserved(hi<<4 | lo)
}

func upperHexDigit(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// compare orders pairs by encoded name, then encoded value: by the names'
// prefix keys first, and by their bytes only where those are equal.
func (s *Scratch) compare(a, b pair) int {
	if a.key != b.key {
		if a.key < b.key {
			return -1
		}
		return 1
	}
	if c := bytes.Compare(s.query[a.k0:a.k1], s.query[b.k0:b.k1]); c != 0 {
		return c
	}
	return bytes.Compare(s.query[a.k1+1:a.v1], s.query[b.k1+1:b.v1]) // the values, after '='

}

func (s *Scratch) less(a, b pair) bool { return s.compare(a, b) < 0 }

// sortPairs sorts by insertion: queries are short, and this allocates
// nothing. Long queries are sorted by pdqsort, in place.
func (s *Scratch) sortPairs() {
	p := s.pairs
	if len(p) > 12 {
		slices.SortFunc(p, s.compare)
		return
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && s.less(p[j], p[j-1]); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}
