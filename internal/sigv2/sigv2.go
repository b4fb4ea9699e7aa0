// Package sigv2 reads Amazon S3's AWS Signature Version 2: the
// "AWS AccessKeyId:Signature" Authorization header and the AWSAccessKeyId,
// Signature and Expires query parameters, and builds the string to sign of
// a request as S3 defines it:
//
//	HTTP-Verb \n Content-MD5 \n Content-Type \n Date \n
//	CanonicalizedAmzHeaders CanonicalizedResource
//
// The signature is the base64 HMAC-SHA1 of that string under the secret
// access key itself: SigV2 has no derived, scoped key.
package sigv2

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Algorithm is the scheme of a SigV2 Authorization header, and the
// algorithm a verifier reports for it.
const Algorithm = "AWS"

// Query parameters of a SigV2 presigned URL.
const (
	ParamAccessKeyID = "AWSAccessKeyId"
	ParamSignature   = "Signature"
	ParamExpires     = "Expires"
)

// Bounds on what a client may send.
const (
	MaxAccessKeyLen = 128
	// SignatureLen is the length of a base64 HMAC-SHA1: 20 bytes.
	SignatureLen = 28
)

// subResources are the query parameters that the CanonicalizedResource
// carries: those of the S3 documentation (sub-resources, the response-*
// overrides of GetObject, delete) and those botocore's HmacV1Auth signs
// besides, the most used SigV2 signer against S3. Any other parameter is
// not signed.
var subResources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "cors": true, "defaultObjectAcl": true,
	"delete": true, "inventory": true, "lifecycle": true, "location": true, "logging": true,
	"metrics": true, "notification": true, "object-lock": true, "partNumber": true, "policy": true,
	"replication": true, "requestPayment": true, "restore": true, "select": true, "select-type": true,
	"storageClass": true, "tagging": true, "torrent": true, "uploadId": true, "uploads": true,
	"versionId": true, "versioning": true, "versions": true, "website": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
}

// IsHeader reports whether an Authorization header value is SigV2's.
func IsHeader(v string) bool { return strings.HasPrefix(v, Algorithm+" ") }

// ParseHeader reads "AWS AccessKeyId:Signature".
func ParseHeader(v string) (accessKeyID, signature string, err error) {
	rest, ok := strings.CutPrefix(v, Algorithm+" ")
	if !ok {
		return "", "", errors.New("not a SigV2 Authorization header")
	}
	accessKeyID, signature, ok = strings.Cut(strings.TrimSpace(rest), ":")
	if !ok || !validAccessKeyID(accessKeyID) || signature == "" || len(signature) > 2*SignatureLen {
		return "", "", errors.New("AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
	}
	return accessKeyID, signature, nil
}

// Query is what a SigV2 presigned URL says of its signature.
type Query struct {
	AccessKeyID   string
	Signature     string
	Expires       string
	SecurityToken string
}

// ErrQueryIncomplete is the complaint about a SigV2 presigned URL that
// lacks one of its three parameters.
var ErrQueryIncomplete = errors.New("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")

// IsPresigned reports whether a raw query carries a SigV2 signature: the
// AWSAccessKeyId and Signature parameters.
func IsPresigned(rawQuery string) bool {
	var a, s bool
	for rest := rawQuery; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		// The names sought start with A or S, or with an escape, and are
		// 9 bytes at least: no other field needs decoding.
		if len(field) < len(ParamSignature) || field[0] != 'A' && field[0] != 'S' && field[0] != '%' {
			continue
		}
		name, _, _ := strings.Cut(field, "=")
		switch decodeName(name) {
		case ParamAccessKeyID:
			a = true
		case ParamSignature:
			s = true
		}
	}
	return a && s
}

// ParseQuery reads the parameters of a SigV2 presigned URL. Each must be
// there once.
func ParseQuery(rawQuery string) (Query, error) {
	var q Query
	seen := map[string]bool{}
	for field := range strings.SplitSeq(rawQuery, "&") {
		name, value, _ := strings.Cut(field, "=")
		name = decodeName(name)
		var dst *string
		switch {
		case name == ParamAccessKeyID:
			dst = &q.AccessKeyID
		case name == ParamSignature:
			dst = &q.Signature
		case name == ParamExpires:
			dst = &q.Expires
		case strings.EqualFold(name, "x-amz-security-token"):
			dst, name = &q.SecurityToken, "x-amz-security-token"
		default:
			continue
		}
		if seen[name] {
			return Query{}, errors.New("the " + name + " query parameter is sent more than once")
		}
		seen[name] = true
		v, err := url.QueryUnescape(value)
		if err != nil {
			return Query{}, errors.New("the " + name + " query parameter is not URL-encoded")
		}
		*dst = v
	}
	switch {
	case q.AccessKeyID == "" || q.Signature == "" || q.Expires == "":
		return Query{}, ErrQueryIncomplete
	case !validAccessKeyID(q.AccessKeyID) || len(q.Signature) > 2*SignatureLen:
		return Query{}, errors.New("the AWSAccessKeyId or Signature query parameter is malformed")
	}
	return q, nil
}

// IsAuthParam reports whether a decoded query parameter name belongs to a
// SigV2 presigned URL's signature, to be removed before forwarding.
func IsAuthParam(name string) bool {
	return name == ParamAccessKeyID || name == ParamSignature || name == ParamExpires ||
		strings.EqualFold(name, "x-amz-security-token")
}

// WithoutAuthParams removes the parameters of a SigV2 presigned URL's
// signature from a raw query (names compared decoded) and keeps every
// other byte as it came.
func WithoutAuthParams(rawQuery string) string {
	kept := make([]string, 0, strings.Count(rawQuery, "&")+1)
	for field := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(field, "=")
		if !IsAuthParam(decodeName(name)) {
			kept = append(kept, field)
		}
	}
	return strings.Join(kept, "&")
}

// DecodeSignature decodes a base64 signature. A malformed one decodes to
// nothing, which matches no signature.
func DecodeSignature(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

func validAccessKeyID(s string) bool {
	if s == "" || len(s) > MaxAccessKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// Request is what the string to sign is made of.
type Request struct {
	Method   string
	Path     string // as received: still URL-encoded
	RawQuery string
	Header   http.Header
	// Bucket is the bucket a virtual-hosted request names in its host, ""
	// for a path-style request.
	Bucket string
	// Expires is the Expires parameter of a presigned URL, which takes the
	// place of the date; "" for the header form.
	Expires string
}

// AppendStringToSign appends the string to sign of r.
func AppendStringToSign(b []byte, r *Request) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, headerValue(r.Header, "Content-Md5")...)
	b = append(b, '\n')
	b = append(b, headerValue(r.Header, "Content-Type")...)
	b = append(b, '\n')
	b = append(b, dateLine(r)...)
	b = append(b, '\n')
	b = appendAmzHeaders(b, r)
	return AppendResource(b, r)
}

// dateLine is Expires for a presigned URL; otherwise the Date header, or
// nothing when the time is in x-amz-date, which the amz headers carry.
func dateLine(r *Request) string {
	switch {
	case r.Expires != "":
		return r.Expires
	case len(r.Header["X-Amz-Date"]) > 0:
		return ""
	}
	return headerValue(r.Header, "Date")
}

func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

type amzHeader struct {
	name   string // lower case
	values []string
}

// appendAmzHeaders appends the CanonicalizedAmzHeaders: every x-amz-*
// header, named in lower case, sorted, the values of one name joined by
// commas, each trimmed; and for a presigned URL, the x-amz-* query
// parameters too, decoded, as botocore's HmacV1QueryAuth moves the x-amz-*
// headers it signed into the query.
func appendAmzHeaders(b []byte, r *Request) []byte {
	var hs []amzHeader
	add := func(name string, values ...string) {
		name = strings.ToLower(name)
		for i := range hs {
			if hs[i].name == name {
				hs[i].values = append(hs[i].values, values...)
				return
			}
		}
		hs = append(hs, amzHeader{name, slices.Clone(values)})
	}
	for name, values := range r.Header {
		if hasPrefixFold(name, "x-amz-") {
			add(name, values...)
		}
	}
	if r.Expires != "" {
		for field := range strings.SplitSeq(r.RawQuery, "&") {
			name, value, _ := strings.Cut(field, "=")
			if name = decodeName(name); hasPrefixFold(name, "x-amz-") {
				add(name, decodeValue(value))
			}
		}
	}
	slices.SortFunc(hs, func(a, b amzHeader) int { return strings.Compare(a.name, b.name) })
	for _, h := range hs {
		b = append(b, h.name...)
		b = append(b, ':')
		for i, v := range h.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, unfold(v)...)
		}
		b = append(b, '\n')
	}
	return b
}

// unfold trims a value and turns each line break within it, with the white
// space around it, into one space.
func unfold(v string) string {
	v = strings.TrimSpace(v)
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	lines := strings.FieldsFunc(v, func(c rune) bool { return c == '\r' || c == '\n' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// AppendResource appends the CanonicalizedResource: "/bucket" for a
// virtual-hosted request, the path as received (but that the path of a
// path-style bucket request, "/bucket", is signed as its resource,
// "/bucket/", as botocore signs it and S3 checks it), and the
// sub-resources of the query, sorted by name, with their decoded values.
func AppendResource(b []byte, r *Request) []byte {
	if r.Bucket != "" {
		b = append(b, '/')
		b = append(b, r.Bucket...)
	}
	b = append(b, r.Path...)
	if r.Bucket == "" && len(r.Path) > 1 && strings.IndexByte(r.Path[1:], '/') < 0 {
		b = append(b, '/') // "/bucket": S3 signs the bucket's resource, "/bucket/"
	}
	type param struct{ name, value string }
	var ps []param
	for field := range strings.SplitSeq(r.RawQuery, "&") {
		name, value, hasValue := strings.Cut(field, "=")
		if name = decodeName(name); subResources[name] {
			if hasValue {
				value = "=" + decodeValue(value)
			}
			ps = append(ps, param{name, value})
		}
	}
	slices.SortStableFunc(ps, func(a, b param) int { return strings.Compare(a.name, b.name) })
	for i, p := range ps {
		sep := byte('&')
		if i == 0 {
			sep = '?'
		}
		b = append(b, sep)
		b = append(b, p.name...)
		b = append(b, p.value...)
	}
	return b
}

// decodeName decodes a query parameter name as a server would read it, so
// that an escaped sub-resource ("ac%6C") is signed as the one it names.
func decodeName(raw string) string {
	if !strings.ContainsAny(raw, "%+") {
		return raw
	}
	if n, err := url.QueryUnescape(raw); err == nil {
		return n
	}
	return raw
}

// decodeValue percent-decodes a value as botocore does before signing it
// ('+' stays '+'); a malformed escape is kept as sent.
func decodeValue(raw string) string {
	if !strings.Contains(raw, "%") {
		return raw
	}
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// BucketOfHost returns the bucket a virtual-hosted request names in its
// host: the labels before one of domains ("photos.s3.example.com" names
// "photos" under "s3.example.com"). A host that is one of domains, or
// under none, names no bucket: the request is path-style.
func BucketOfHost(host string, domains []string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if b, ok := strings.CutSuffix(host, "."+d); ok && b != "" {
			return b
		}
	}
	return ""
}
