package canonical

import (
	"bytes"
	"slices"
	"strings"
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
	for rest := rawQuery; rest != ""; {
		field := rest
		if j := strings.IndexByte(rest, '&'); j >= 0 {
			field, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
		}
		s.addPair(field, omit)
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

func (s *Scratch) addPair(field string, omit Omit) {
	if field == "" {
		return
	}
	name, value := field, ""
	if i := strings.IndexByte(field, '='); i >= 0 {
		name, value = field[:i], field[i+1:]
	}
	k0 := len(s.query)
	s.query = appendReencoded(s.query, name)
	k1 := len(s.query)
	key := s.query[k0:k1]
	if omit&OmitSignature != 0 && string(key) == ParamSignature ||
		omit&OmitSecurityToken != 0 && string(key) == ParamSecurityToken {
		s.query = s.query[:k0]
		return
	}
	s.query = append(s.query, '=')
	s.query = appendReencoded(s.query, value)
	s.pairs = append(s.pairs, pair{prefixKey(key), int32(k0), int32(k1), int32(len(s.query))})
}

// appendReencoded decodes a query component and encodes it again. Runs of
// unreserved bytes, and escapes already in canonical form (%XX, upper-case
// hex, of a byte that must stay escaped), are copied as they are.
func appendReencoded(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		n := i
		for n < len(s) && unreserved(s[n]) {
			n++
		}
		b = append(b, s[i:n]...)
		if i = n; i == len(s) {
			break
		}
		if canonicalEscape(s, i) {
			b = append(b, s[i:i+3]...)
			i += 3
			continue
		}
		c, w := decodeAt(s, i, true)
		i += w
		b = appendEncoded(b, c)
	}
	return b
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
