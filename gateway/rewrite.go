package gateway

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/sigv4/sigv4"
)

// Headers the gateway sends upstream. Inbound copies are always removed.
const (
	HeaderAccessKey = "X-Sigv4-Access-Key"
	HeaderPrincipal = "X-Sigv4-Principal"
	HeaderRequestID = "X-Sigv4-Request-Id"
	// HeaderService and HeaderRegion are the scope the request is signed
	// for: a key limited to some services or regions signed for these.
	// The region of a SigV4a request is the one it was sent to: empty.
	HeaderService = "X-Sigv4-Service"
	HeaderRegion  = "X-Sigv4-Region"
)

// identityPrefix is the lower-case prefix of the gateway's own headers.
const identityPrefix = "x-sigv4-"

// authHeaders are the request headers of the signature, removed upstream.
var authHeaders = []string{
	sigv4.HeaderAuthorization,
	sigv4.HeaderDate,
	sigv4.HeaderSecurityToken,
	sigv4.HeaderRegionSet, // SigV4a: where the signature is good
	"Expect",              // the gateway already decided to read the body
}

// upstreamHeader returns the headers of a verified request as the upstream
// gets them, copied once into a map with room for the gateway's own (see
// setForwarded and setIdentity): without the authentication, Content-Length
// (Request.ContentLength says it), identity headers sent by the client,
// override headers but those in keep, and Connection and Upgrade unless
// the route allows upgrades; a streamed body described as decoded.
func upstreamHeader(in http.Header, upgrade bool, keep map[string]bool, res *sigv4.Result) http.Header {
	h := make(http.Header, len(in)+8)
	for name, v := range in {
		if !dropped(name, upgrade, keep) {
			h[name] = v
		}
	}
	if streaming(res.PayloadHash) {
		h.Set(sigv4.HeaderContentSHA256, sigv4.UnsignedPayload)
		h.Del(sigv4.HeaderDecodedContentLength)
		h.Del(sigv4.HeaderTrailer)
		removeAWSChunked(h)
	}
	return h
}

// dropped reports whether upstreamHeader leaves the header name out.
// Names of the map are compared as they are: a server's are canonical.
func dropped(name string, upgrade bool, keep map[string]bool) bool {
	if name == "Content-Length" || slices.Contains(authHeaders, name) {
		return true
	}
	if name == "Connection" || name == "Upgrade" {
		return !upgrade
	}
	return isIdentityHeader(name) || isOverride(name) && !keep[normalName(name)]
}

// setIdentity sets the verified identity headers.
func setIdentity(h http.Header, res *sigv4.Result, requestID string) {
	// The identity headers share one backing array: one allocation, not
	// one per header (their names are canonical already).
	v := make([]string, 5)
	v[0], v[1], v[2], v[3], v[4] = res.Identity.AccessKeyID, requestID, res.Scope.Service, res.Identity.Principal, res.Scope.Region
	h[HeaderAccessKey], h[HeaderRequestID], h[HeaderService] = v[0:1:1], v[1:2:2], v[2:3:3]
	if v[3] != "" {
		h[HeaderPrincipal] = v[3:4:4]
	}
	if v[4] != "" {
		h[HeaderRegion] = v[4:5:5]
	}
}

// isIdentityHeader reports whether name is, or could be read by an
// upstream as, one of the gateway's headers: some servers (CGI, nginx with
// underscores_in_headers) read "_" as "-".
func isIdentityHeader(name string) bool {
	if len(name) < len(identityPrefix) {
		return false
	}
	for i := range len(identityPrefix) { // no allocation: every header goes through here
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != identityPrefix[i] {
			return false
		}
	}
	return true
}

func streaming(payloadHash string) bool { return strings.HasPrefix(payloadHash, "STREAMING-") }

// removeAWSChunked removes the aws-chunked coding from Content-Encoding,
// and the header if no other coding is left.
func removeAWSChunked(h http.Header) {
	var kept []string
	for _, v := range h.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "aws-chunked") {
				kept = append(kept, c)
			}
		}
	}
	if len(kept) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(kept, ", "))
}

// Response headers of the request ID: Amazon S3's and the JSON protocol's.
const (
	headerAmzRequestID  = "X-Amz-Request-Id"
	headerAmznRequestID = "X-Amzn-Requestid"
)

// setRequestID sets the request ID an AWS SDK reports with an answer or an
// error, under the names of both S3 and the JSON services.
func setRequestID(h http.Header, id string) {
	v := []string{id, id} // one backing array; the names are canonical
	h[headerAmzRequestID], h[headerAmznRequestID] = v[0:1:1], v[1:2:2]
}

// newRequestID returns 16 upper-case hex digits, as Amazon S3's look. It
// only has to be unique enough to find a request in the logs.
func newRequestID() string {
	const digits = "0123456789ABCDEF"
	var b [16]byte
	x := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i], x = digits[x&15], x>>4
	}
	return string(b[:])
}

// copyBuffers lends the proxies the buffers they copy answers through
// (32 KiB each, as ReverseProxy would allocate for every request).
var copyBuffers = &bufferPool{p: sync.Pool{New: func() any { return new([32 << 10]byte) }}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte { return b.p.Get().(*[32 << 10]byte)[:] }

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(buf))
	}
}
