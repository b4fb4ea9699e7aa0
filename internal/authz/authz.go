// Package authz parses and formats the authentication parts of a signed
// request: the Authorization header and the X-Amz-* query parameters of a
// presigned URL. Parsing is strict: a part that is missing, repeated,
// unknown or out of bounds is an error whose text names it.
package authz

import (
	"errors"
	"slices"
	"strings"

	"github.com/sigv4/sigv4/internal/canonical"
)

// Bounds on what a client may send.
const (
	MaxHeaderLen     = 16 << 10 // Authorization header
	MaxQueryLen      = 64 << 10
	MaxQueryParams   = 1024
	MaxSignedHeaders = 256
	MaxNameLen       = 256 // a header name, region or service
	MaxAccessKeyLen  = 128
	MaxSignatureLen  = 160 // hex: 64 for HMAC, at most 144 for a DER ECDSA signature
)

// Credential is the parsed X-Amz-Credential / Credential= value:
// AccessKeyID/Date/Region/Service/aws4_request (SigV4a has no Region).
type Credential struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
	Terminal    string
}

// Auth is what a signed request says about its own signature.
type Auth struct {
	Algorithm     string
	Credential    Credential
	SignedHeaders string // "host;x-amz-date", validated
	Signature     string // hex, validated

	// Presigned requests only.
	Date          string // X-Amz-Date
	Expires       string // X-Amz-Expires
	SecurityToken string // X-Amz-Security-Token
	ContentSHA256 string // X-Amz-Content-Sha256
	RegionSet     string // X-Amz-Region-Set (SigV4a)
}

// ParseHeader parses an Authorization header value:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func ParseHeader(v string) (Auth, error) {
	var a Auth
	if len(v) > MaxHeaderLen {
		return a, errors.New("the Authorization header is too long")
	}
	alg, rest, ok := strings.Cut(v, " ")
	if !ok {
		return a, errors.New("the Authorization header has no credential")
	}
	a.Algorithm = alg
	if alg != canonical.AlgorithmHMAC && alg != canonical.AlgorithmECDSA {
		return a, errors.New("the authorization mechanism is not supported; use " + canonical.AlgorithmHMAC)
	}
	var cred string
	var seen [3]bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, value, ok := strings.Cut(strings.Trim(part, " "), "=")
		if !ok {
			return a, errors.New("the Authorization header has a part with no '=': " + quote(part))
		}
		var dst *string
		var i int
		switch name {
		case "Credential":
			dst, i = &cred, 0
		case "SignedHeaders":
			dst, i = &a.SignedHeaders, 1
		case "Signature":
			dst, i = &a.Signature, 2
		default:
			return a, errors.New("the Authorization header has an unknown part " + quote(name))
		}
		if seen[i] {
			return a, errors.New("the Authorization header repeats " + name)
		}
		seen[i], *dst = true, value
	}
	for i, name := range [3]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return a, errors.New("the Authorization header has no " + name)
		}
	}
	return a, a.validate(cred)
}

func (a *Auth) validate(cred string) error {
	var err error
	if a.Credential, err = ParseCredential(cred, a.Algorithm); err != nil {
		return err
	}
	if err := ValidateSignedHeaders(a.SignedHeaders); err != nil {
		return err
	}
	if a.Algorithm == canonical.AlgorithmHMAC && len(a.Signature) != 64 {
		return errors.New("the signature must be 64 hex digits")
	}
	return ValidateSignature(a.Signature)
}

// ParseCredential parses AccessKeyID/Date/Region/Service/Terminal. For
// SigV4a the region is left out.
func ParseCredential(s, algorithm string) (Credential, error) {
	var c Credential
	bad := func() error {
		return errors.New("the credential " + quote(s) + " is not AccessKeyId/Date/Region/Service/aws4_request")
	}
	var ok bool
	rest := s
	fields := []*string{&c.AccessKeyID, &c.Date, &c.Region, &c.Service}
	if algorithm == canonical.AlgorithmECDSA {
		fields = []*string{&c.AccessKeyID, &c.Date, &c.Service}
	}
	for _, f := range fields {
		if *f, rest, ok = strings.Cut(rest, "/"); !ok {
			return c, bad()
		}
	}
	c.Terminal = rest
	if strings.Contains(rest, "/") {
		return c, bad()
	}
	want := len(fields) + 1
	if c.AccessKeyID == "" || len(c.AccessKeyID) > MaxAccessKeyLen || !printable(c.AccessKeyID) {
		return c, errors.New("the access key ID in the credential is empty, too long or not printable")
	}
	if len(c.Date) != len(canonical.DateFormat) || !digits(c.Date) {
		return c, errors.New("the credential date " + quote(c.Date) + " is not YYYYMMDD")
	}
	if want == 5 && !token(c.Region) || !token(c.Service) {
		return c, errors.New("the credential has an empty or invalid region or service")
	}
	return c, nil
}

// ValidateSignedHeaders checks a signed headers list: lower-case header
// names, sorted, each once, separated by ';'.
func ValidateSignedHeaders(s string) error {
	if validSignedHeaders(s) {
		return nil
	}
	return signedHeadersError(s)
}

// validSignedHeaders is the check of ValidateSignedHeaders in one pass.
func validSignedHeaders(s string) bool {
	prev, start, n := "", 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ';' {
			if class[s[i]]&lowerTokenByte == 0 {
				return false
			}
			continue
		}
		name := s[start:i]
		if n++; n > MaxSignedHeaders || name == "" || len(name) > MaxNameLen || n > 1 && name <= prev {
			return false
		}
		prev, start = name, i+1
	}
	return true
}

// signedHeadersError says what is wrong with an invalid signed headers list.
func signedHeadersError(s string) error {
	if s == "" {
		return errors.New("SignedHeaders is empty")
	}
	prev, n := "", 0
	for rest := s; ; {
		name, next, more := strings.Cut(rest, ";")
		if n++; n > MaxSignedHeaders {
			return errors.New("SignedHeaders lists too many headers")
		}
		if !lowerToken(name) {
			return errors.New("SignedHeaders has an empty or invalid name " + quote(name) + " (names must be lower case)")
		}
		if n > 1 && name <= prev {
			return errors.New("SignedHeaders is not sorted, or repeats " + quote(name))
		}
		if !more {
			return errors.New("SignedHeaders is invalid")
		}
		prev, rest = name, next
	}
}

// ValidateSignature checks that a signature is lower-case hex of a sane length.
func ValidateSignature(s string) error {
	if s == "" || len(s) > MaxSignatureLen || len(s)%2 != 0 {
		return errors.New("the signature is empty or has a bad length")
	}
	for i := 0; i < len(s); i++ {
		if class[s[i]]&lowerHexByte == 0 {
			return errors.New("the signature is not lower-case hex")
		}
	}
	return nil
}

// Query parameters of a presigned URL.
const (
	ParamAlgorithm     = "X-Amz-Algorithm"
	ParamCredential    = "X-Amz-Credential"
	ParamDate          = "X-Amz-Date"
	ParamExpires       = "X-Amz-Expires"
	ParamSignedHeaders = "X-Amz-SignedHeaders"
	ParamSignature     = canonical.ParamSignature
	ParamSecurityToken = canonical.ParamSecurityToken
	ParamRegionSet     = "X-Amz-Region-Set"
	ParamContentSHA256 = "X-Amz-Content-Sha256"
)

// IsPresigned reports whether a raw query carries X-Amz-Algorithm,
// X-Amz-Credential or X-Amz-Signature: the marks of a presigned URL.
func IsPresigned(rawQuery string) bool {
	for rest := rawQuery; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		// The names sought start with X, or with an escape of it, and
		// are 15 bytes at least: no other field needs decoding.
		if len(field) < len(ParamSignature) || field[0] != 'X' && field[0] != '%' {
			continue
		}
		name, _, _ := strings.Cut(field, "=")
		switch ParamName(name) {
		case ParamAlgorithm, ParamCredential, ParamSignature:
			return true
		}
	}
	return false
}

// ParamName decodes a query parameter name as the canonical query does, so
// that X-Amz-%53ignature is recognised as X-Amz-Signature everywhere.
func ParamName(raw string) string {
	if name, err := unescape(raw); err == nil {
		return name
	}
	return raw
}

// QueryValue returns the decoded value of the last parameter called name
// (compared decoded) in a raw query.
func QueryValue(rawQuery, name string) string {
	value := ""
	for rest := rawQuery; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		n, v, _ := strings.Cut(field, "=")
		if ParamName(n) == name {
			if d, err := unescape(v); err == nil {
				value = d
			}
		}
	}
	return value
}

// authParams are the parameters of a presigned URL's signature.
// X-Amz-Content-Sha256 is not one: it describes the payload.
var authParams = map[string]bool{
	ParamAlgorithm: true, ParamCredential: true, ParamDate: true, ParamExpires: true,
	ParamSignedHeaders: true, ParamSignature: true, ParamSecurityToken: true, ParamRegionSet: true,
}

// WithoutAuthParams removes the authentication parameters of a presigned
// URL from a raw query and keeps every other byte as it came. Names are
// compared decoded, as the verifier reads them (X-Amz-%53ignature is
// X-Amz-Signature).
func WithoutAuthParams(rawQuery string) string {
	if !strings.Contains(rawQuery, "X-Amz-") && !strings.ContainsAny(rawQuery, "%+") {
		return rawQuery // no parameter name can decode to an X-Amz-* one
	}
	kept := make([]string, 0, strings.Count(rawQuery, "&")+1)
	for field := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(field, "=")
		if !authParams[ParamName(name)] {
			kept = append(kept, field)
		}
	}
	return strings.Join(kept, "&")
}

// ParseQuery reads the authentication parameters of a presigned URL.
func ParseQuery(rawQuery string) (Auth, error) {
	var a Auth
	if len(rawQuery) > MaxQueryLen {
		return a, errors.New("the query string is too long")
	}
	var cred string
	var seen uint16 // bit i: queryParams[i] was seen
	n := 0
	for rest := rawQuery; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		if field == "" {
			continue // empty fields are not parameters (see canonical.AppendQuery)
		}
		if n++; n > MaxQueryParams {
			return a, errors.New("the query string has too many parameters")
		}
		rawName, rawValue, _ := strings.Cut(field, "=")
		name := ParamName(rawName)
		i := slices.Index(queryParams[:], name)
		if i < 0 {
			continue // any other parameter is signed like any other
		}
		if seen&(1<<i) != 0 {
			return a, errors.New("the query string repeats " + name)
		}
		v, err := unescape(rawValue)
		if err != nil {
			return a, errors.New("the query parameter " + name + " is not correctly escaped")
		}
		seen |= 1 << i
		*[...]*string{&a.Algorithm, &cred, &a.Date, &a.SignedHeaders, &a.Signature, &a.Expires, &a.SecurityToken, &a.ContentSHA256, &a.RegionSet}[i] = v
	}
	for i, name := range queryParams[:requiredParams] {
		if seen&(1<<i) == 0 {
			return a, errors.New(MissingQueryParam(name))
		}
	}
	if seen&(1<<expiresParam) != 0 && a.Expires == "" {
		return a, errors.New(BadExpires)
	}
	if a.Algorithm != canonical.AlgorithmHMAC && a.Algorithm != canonical.AlgorithmECDSA {
		return a, errors.New("X-Amz-Algorithm only supports " + canonical.AlgorithmHMAC + " and " + canonical.AlgorithmECDSA)
	}
	return a, a.validate(cred)
}

// queryParams are the parameters ParseQuery reads; the first
// requiredParams must be present. X-Amz-Expires, next, is required by
// Amazon S3 but not by the query APIs of other services (their common
// parameters leave it out, and signers such as aws4 send none): the
// verifier decides.
var queryParams = [...]string{ParamAlgorithm, ParamCredential, ParamDate, ParamSignedHeaders,
	ParamSignature, ParamExpires, ParamSecurityToken, ParamContentSHA256, ParamRegionSet}

const (
	requiredParams = 5
	expiresParam   = 5 // index of X-Amz-Expires in queryParams
)

// BadExpires is the complaint about an X-Amz-Expires that is not a number.
const BadExpires = "X-Amz-Expires should be a number"

// MissingQueryParam is the complaint about a missing parameter of a
// presigned URL.
func MissingQueryParam(name string) string {
	return "query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; " + name + " is missing"
}

// indexEscape returns the index of the first '%' or '+' of s, or -1.
func indexEscape(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' {
			return i
		}
	}
	return -1
}

// errEscape is a '%' that starts no escape.
var errEscape = errors.New("invalid escape")

// unescape decodes a query component as url.QueryUnescape does ('+' is a
// space, a '%' must start an escape), in one pass and one allocation, and
// none if it has nothing to decode.
func unescape(v string) (string, error) {
	i := indexEscape(v)
	if i < 0 {
		return v, nil
	}
	var b strings.Builder
	b.Grow(len(v)) // at least the decoded length
	for i >= 0 {
		b.WriteString(v[:i])
		if v[i] == '+' {
			b.WriteByte(' ')
			v = v[i+1:]
		} else {
			if i+2 >= len(v) {
				return "", errEscape
			}
			hi, ok1 := canonical.Unhex(v[i+1])
			lo, ok2 := canonical.Unhex(v[i+2])
			if !ok1 || !ok2 {
				return "", errEscape
			}
			b.WriteByte(hi<<4 | lo)
			v = v[i+3:]
		}
		i = indexEscape(v)
	}
	b.WriteString(v)
	return b.String(), nil
}

// AppendHeader appends an Authorization header value.
func AppendHeader(b []byte, algorithm, accessKeyID, date, region, service string, signedHeaders, signature []byte) []byte {
	b = append(b, algorithm...)
	b = append(b, " Credential="...)
	b = append(b, accessKeyID...)
	b = append(b, '/')
	b = canonical.AppendScope(b, date, region, service)
	b = append(b, ", SignedHeaders="...)
	b = append(b, signedHeaders...)
	b = append(b, ", Signature="...)
	return append(b, signature...)
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "'" + s + "'"
}

func printable(s string) bool { return all(s, accessKeyByte) }

func digits(s string) bool { return all(s, digitByte) }

// lowerToken reports whether s is a non-empty RFC 9110 token without
// upper-case letters.
func lowerToken(s string) bool { return s != "" && len(s) <= MaxNameLen && all(s, lowerTokenByte) }

// token reports whether s is a non-empty RFC 9110 token.
func token(s string) bool { return s != "" && len(s) <= MaxNameLen && all(s, tokenByte) }

func all(s string, bit uint8) bool {
	for i := 0; i < len(s); i++ {
		if class[s[i]]&bit == 0 {
			return false
		}
	}
	return true
}

// Byte classes, as bits of class.
const (
	tokenByte      = 1 << iota // RFC 9110 tchar
	lowerTokenByte             // tchar, not upper case
	lowerHexByte               // 0-9 a-f
	digitByte                  // 0-9
	accessKeyByte              // printable ASCII but for '/', ',' and '='
)

var class = func() (t [256]uint8) {
	for c := range 256 {
		b := byte(c)
		tchar := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if tchar {
			t[c] |= tokenByte
			if !('A' <= c && c <= 'Z') {
				t[c] |= lowerTokenByte
			}
		}
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'f' {
			t[c] |= lowerHexByte
		}
		if '0' <= c && c <= '9' {
			t[c] |= digitByte
		}
		if c > ' ' && c < 0x7f && b != '/' && b != ',' && b != '=' {
			t[c] |= accessKeyByte
		}
	}
	return t
}()
