package canonical

import "bytes"

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
	for i := 0; i < len(rawQuery); {
		j := i
		for j < len(rawQuery) && rawQuery[j] != '&' {
			j++
		}
		s.addPair(rawQuery[i:j], omit)
		i = j + 1
	}
	s.sortPairs()
	for n, p := range s.pairs {
		if n > 0 {
			b = append(b, '&')
		}
		b = append(b, s.query[p.k0:p.k1]...)
		b = append(b, '=')
		b = append(b, s.query[p.k1:p.v1]...)
	}
	return b
}

func (s *Scratch) addPair(field string, omit Omit) {
	if field == "" {
		return
	}
	name, value := field, ""
	for i := 0; i < len(field); i++ {
		if field[i] == '=' {
			name, value = field[:i], field[i+1:]
			break
		}
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
	s.query = appendReencoded(s.query, value)
	s.pairs = append(s.pairs, pair{int32(k0), int32(k1), int32(len(s.query))})
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

func (s *Scratch) less(a, b pair) bool {
	if c := bytes.Compare(s.query[a.k0:a.k1], s.query[b.k0:b.k1]); c != 0 {
		return c < 0
	}
	return bytes.Compare(s.query[a.k1:a.v1], s.query[b.k1:b.v1]) < 0
}

// sortPairs sorts by insertion: queries are short, and this allocates
// nothing. Long queries fall back to a heap sort, still in place.
func (s *Scratch) sortPairs() {
	p := s.pairs
	if len(p) > 32 {
		s.heapSort()
		return
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && s.less(p[j], p[j-1]); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func (s *Scratch) heapSort() {
	p := s.pairs
	down := func(i, n int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && s.less(p[c], p[c+1]) {
				c++
			}
			if !s.less(p[i], p[c]) {
				return
			}
			p[i], p[c] = p[c], p[i]
			i = c
		}
	}
	for i := len(p)/2 - 1; i >= 0; i-- {
		down(i, len(p))
	}
	for n := len(p) - 1; n > 0; n-- {
		p[0], p[n] = p[n], p[0]
		down(0, n)
	}
}
