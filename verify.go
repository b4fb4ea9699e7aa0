package sigv4

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/v4a"
)

// Defaults of a Verifier's zero-valued fields.
const (
	DefaultMaxSkew       = 15 * time.Minute
	DefaultMaxBodyBuffer = 8 << 20
	// MaxCanonicalRequest bounds the canonical request a verifier builds,
	// and so the signed headers and query a client can make it hash.
	MaxCanonicalRequest = 64 << 10
)

// Verifier checks signed requests. Keys, Regions and Services are required;
// every other zero value is a safe default. A Verifier is safe for
// concurrent use and must not be copied after first use.
type Verifier struct {
	Keys KeySource
	// Regions and Services are those the verifier accepts in a credential
	// scope. "*" accepts any (the signature still binds the scope).
	Regions  []string
	Services []string

	// S3 applies Amazon S3's path rules to every request; a scope with
	// service "s3" implies them.
	S3 bool
	// OmitSessionToken accepts session tokens added after signing, as
	// Signer.OmitSessionToken sends them.
	OmitSessionToken bool
	// MaxSkew is the largest difference allowed between X-Amz-Date and the
	// clock (default 15 minutes).
	MaxSkew time.Duration
	// MaxBodyBuffer bounds the body read into memory to hash it when a
	// request declares no payload hash (default 8 MiB).
	MaxBodyBuffer int64
	// MaxChunkSize bounds a signed chunk of a streaming upload, which is
	// held in memory until its signature is checked (default 8 MiB).
	MaxChunkSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// SigV2 accepts Amazon S3's legacy AWS Signature Version 2 ("AWS
	// AccessKeyId:Signature" headers and AWSAccessKeyId/Signature/Expires
	// presigned URLs) when Services takes in "s3" and Keys is a
	// SigV2Source. Off, such a request is refused (InvalidRequest), saying
	// what it is. SigV2 signs neither the body nor the query but for S3's
	// sub-resources, nor the host of a path-style request: see "Signature
	// Version 2" in the package documentation.
	SigV2 bool
	// VirtualHostDomains are the host names under which a request names
	// its bucket in the host (virtual-hosted style): with "s3.example.com",
	// a request to photos.s3.example.com is for the bucket "photos". SigV2
	// signs the bucket, so it must know; any other host is path-style.
	VirtualHostDomains []string

	macs         macCache
	dummyOnce    sync.Once
	dummyPubOnce sync.Once
	dummyPub     *ecdsa.PublicKey // SigV4a's stand-in for unknown access keys
	dummy        string           // random secret for unknown access keys
	dummyKeys    *keyCache        // its signing keys, by scope only
}

// Result is a verified request.
type Result struct {
	// Algorithm is the signature's: AWS4-HMAC-SHA256 (SigV4),
	// AWS4-ECDSA-P256-SHA256 (SigV4a, whose Scope has no Region) or AWS
	// (SigV2, see "Signature Version 2" in the package documentation).
	Algorithm string
	Identity  Identity
	Scope     Scope
	Time      time.Time // X-Amz-Date
	Presigned bool
	// SignedHeaders lists the headers the signature covers: "host;x-amz-date".
	SignedHeaders string
	// PayloadHash is what the signature says of the body: a hex SHA-256,
	// UNSIGNED-PAYLOAD or a STREAMING-* mode.
	PayloadHash string
	// Body is the only body a handler may read. With a hex payload hash it
	// fails at the end with XAmzContentSHA256Mismatch if the bytes do not
	// match. With a streaming payload it is the decoded data: a signed
	// chunk is released only once its signature matched, and the end comes
	// only once the final chunk, the trailers and their checksums checked
	// out. For Amazon S3, whatever the mode, a body that does not match
	// its Content-MD5 or x-amz-checksum-* header fails at its end with
	// BadDigest (Verify refuses a malformed one: InvalidDigest,
	// InvalidRequest). A read that finds a failure returns no bytes.
	// Closing it closes the request body.
	Body io.ReadCloser
	// ContentLength is the length of Body: x-amz-decoded-content-length
	// for a streaming payload, otherwise the request's ContentLength (-1
	// when unknown).
	ContentLength int64
	// CanonicalRequestHash is the SHA-256 of the canonical request (of the
	// string to sign, for SigV2). With Algorithm, Time and Scope it names
	// what was signed, as a replay cache wants it: an ECDSA signature can
	// be re-encoded and still verify; what it signs cannot change.
	CanonicalRequestHash [sha256.Size]byte
	// Expires is when the signature stops being accepted: Time plus the
	// verifier's clock skew for a signed header, Time plus X-Amz-Expires
	// for a presigned URL, the Expires of a SigV2 URL.
	Expires time.Time
}

// request is the verifier's view of one request, parsed but not yet checked.
type request struct {
	req       *http.Request
	auth      authz.Auth
	presigned bool
	pub       *ecdsa.PublicKey // SigV4a: the key that verifies the seed
	key       SigningKey       // SigV4: the signing key of the scope
	id        Identity         // who the key belongs to
	unknown   bool             // no such access key: key or pub is a dummy
	amzDate   string
	time      time.Time
	scope     Scope
	creqHash  [sha256.Size]byte
}

// Verify checks the signature of req, in the Authorization header or as a
// presigned URL, and returns who signed it. It does not modify req. Every
// failure is an *Error.
func (v *Verifier) Verify(req *http.Request) (*Result, error) {
	st := getState()
	defer putState(st)
	if form := sigV2Form(req); form != "" {
		return v.verifyV2(req, form)
	}
	r := &st.req
	*r = request{req: req}
	if err := v.parse(r); err != nil {
		return nil, err
	}
	if err := v.checkScope(r); err != nil {
		return nil, err
	}
	if err := v.checkTime(r); err != nil {
		return nil, err
	}
	if err := v.collectSignedHeaders(st, r); err != nil {
		return nil, err
	}
	if err := v.lookupKey(r); err != nil {
		return nil, err
	}
	payloadHash, body, stream, err := v.payload(r)
	if err != nil {
		return nil, err
	}
	id, key, err := v.checkSignature(st, r, payloadHash)
	if err != nil {
		return nil, err
	}
	if err := v.checkToken(r, id); err != nil {
		return nil, err
	}
	length := req.ContentLength
	if stream != nil {
		body, length = stream.body(r, key, v.MaxChunkSize), stream.length
	}
	if v.s3(r) {
		if body, err = checkDigests(req, body, r.presigned); err != nil {
			return nil, err
		}
	}
	return &Result{
		Algorithm: r.auth.Algorithm, Identity: id, Scope: r.scope, Time: r.time, Presigned: r.presigned,
		SignedHeaders: r.auth.SignedHeaders, PayloadHash: payloadHash, Body: body,
		ContentLength: length, CanonicalRequestHash: r.creqHash, Expires: v.expires(r),
	}, nil
}

// expires is when the signature of r stops being accepted.
func (v *Verifier) expires(r *request) time.Time {
	if r.presigned && r.auth.Expires != "" { // Atoi of "" would allocate its error
		if secs, err := strconv.Atoi(r.auth.Expires); err == nil {
			return r.time.Add(time.Duration(secs) * time.Second)
		}
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	return r.time.Add(skew)
}

// parse finds the signature of the request and parses it.
func (v *Verifier) parse(r *request) error {
	req := r.req
	authHeaders := req.Header[HeaderAuthorization]
	r.presigned = authz.IsPresigned(req.URL.RawQuery)
	switch {
	case len(authHeaders) > 0 && r.presigned:
		return newError(ErrInvalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case len(authHeaders) > 1:
		return newError(ErrAuthorizationHeaderMalformed, "The authorization header is malformed; it is sent more than once.")
	case r.presigned:
		return v.parseQuery(r)
	case len(authHeaders) == 1:
		return v.parseHeader(r, authHeaders[0])
	}
	return newError(ErrAccessDenied, "Request is not signed: it has neither an Authorization header nor X-Amz-Signature.")
}

func (v *Verifier) parseHeader(r *request, value string) error {
	if !strings.HasPrefix(value, "AWS4-") {
		return newError(ErrInvalidRequest, "The authorization mechanism you have provided is not supported. Please use "+canonical.AlgorithmHMAC+".")
	}
	a, err := authz.ParseHeader(value)
	if err != nil {
		return newError(ErrAuthorizationHeaderMalformed, "The authorization header is malformed; "+err.Error()+".")
	}
	r.auth = a
	r.amzDate = headerValue(r.req.Header, HeaderDate)
	dateHeader := "x-amz-date"
	if r.amzDate == "" {
		// Without X-Amz-Date, AWS reads the time from the Date header.
		t, ok := parseDateHeader(r.req.Header["Date"])
		if !ok {
			return newError(ErrAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
		}
		r.amzDate, dateHeader = string(canonical.AppendTime(nil, t)), "date"
	}
	if !signed(a.SignedHeaders, dateHeader) {
		return newError(ErrAccessDenied, "The "+dateHeader+" header must be signed.")
	}
	return r.finishParse(ErrAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
}

func (v *Verifier) parseQuery(r *request) error {
	a, err := authz.ParseQuery(r.req.URL.RawQuery)
	if err != nil {
		return newError(ErrAuthorizationQueryParametersError, err.Error())
	}
	r.auth, r.amzDate = a, a.Date
	return r.finishParse(ErrAuthorizationQueryParametersError, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
}

func (r *request) finishParse(badDate *Error, badDateMsg string) error {
	t, ok := canonical.ParseTime(r.amzDate)
	if !ok {
		return newError(badDate, badDateMsg)
	}
	c := r.auth.Credential
	r.time = t
	r.scope = Scope{Date: c.Date, Region: c.Region, Service: c.Service}
	return nil
}

// signed reports whether a valid signed headers list contains name.
func signed(list, name string) bool {
	for i := 0; i < len(list); {
		j := strings.Index(list[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || list[j-1] == ';') && (end == len(list) || list[end] == ';') {
			return true
		}
		i = j + 1
	}
	return false
}

// headerValue is h.Get(key) for a key already in canonical form: a map
// lookup without canonicalizing the key again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// malformed returns the error for a bad part of the credential, in the
// header or the query form.
func (r *request) malformed(msg string) *Error {
	if r.presigned {
		return newError(ErrAuthorizationQueryParametersError, "Error parsing the X-Amz-Credential parameter; "+msg)
	}
	return newError(ErrAuthorizationHeaderMalformed, "The authorization header is malformed; "+msg)
}

func (v *Verifier) checkScope(r *request) error {
	c := r.auth.Credential
	if c.Date != r.amzDate[:8] {
		return r.malformed("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	if r.sigv4a() {
		if err := v.checkRegionSet(r); err != nil {
			return err
		}
	} else if !allowed(v.Regions, c.Region) {
		e := r.malformed("the region '" + c.Region + "' is wrong; expecting '" + first(v.Regions) + "'")
		e.Region = first(v.Regions)
		return e
	}
	switch {
	case !allowed(v.Services, c.Service):
		return r.malformed("incorrect service '" + c.Service + "'. This endpoint belongs to '" + first(v.Services) + "'.")
	case c.Terminal != canonical.Terminal:
		return r.malformed("incorrect terminal '" + c.Terminal + "'. This endpoint uses '" + canonical.Terminal + "'.")
	}
	return nil
}

func (r *request) sigv4a() bool { return r.auth.Algorithm == canonical.AlgorithmECDSA }

// HeaderRegionSet names the regions a SigV4a signature is good for.
const HeaderRegionSet = "X-Amz-Region-Set"

// checkRegionSet accepts a SigV4a request whose region set (a list of
// regions, each of which may hold '*' wildcards) takes in one of the
// verifier's regions. The region set is signed: in the query of a
// presigned URL, and as an x-amz-* header otherwise.
func (v *Verifier) checkRegionSet(r *request) error {
	set := headerValue(r.req.Header, HeaderRegionSet)
	if r.presigned {
		set = r.auth.RegionSet
	}
	if set == "" {
		return r.malformed("SigV4a requires X-Amz-Region-Set.")
	}
	for region := range strings.SplitSeq(set, ",") {
		region = strings.TrimSpace(region)
		for _, mine := range v.Regions {
			if mine == "*" || wildcardMatch(region, mine) {
				return nil
			}
		}
	}
	e := r.malformed("the region set '" + set + "' does not include '" + first(v.Regions) + "'")
	e.Region = first(v.Regions)
	return e
}

// wildcardMatch reports whether s matches pattern, in which '*' stands for
// any run of characters (none included). It backtracks to the last star
// only, so it takes at most len(pattern)*len(s) steps.
func wildcardMatch(pattern, s string) bool {
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p, i = p+1, i+1
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func allowed(list []string, s string) bool {
	return slices.Contains(list, s) || slices.Contains(list, "*")
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) checkTime(r *request) error {
	now := v.now()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if r.presigned && r.auth.Expires == "" && v.s3(r) {
		return newError(ErrAuthorizationQueryParametersError, authz.MissingQueryParam(authz.ParamExpires))
	}
	if !r.presigned || r.auth.Expires == "" {
		// Outside S3 a query signed without X-Amz-Expires is good for as
		// long as a signed header would be: its date within the skew.
		if d := now.Sub(r.time); d > skew || d < -skew {
			return newError(ErrRequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
		}
		return nil
	}
	secs, err := strconv.Atoi(r.auth.Expires)
	switch {
	case err != nil || secs < 0 || r.auth.Expires != strconv.Itoa(secs):
		return newError(ErrAuthorizationQueryParametersError, authz.BadExpires)
	case secs < int(MinExpires/time.Second):
		return newError(ErrAuthorizationQueryParametersError, "X-Amz-Expires must be non-negative and at least 1 second")
	case secs > int(MaxExpires/time.Second):
		return newError(ErrAuthorizationQueryParametersError, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	case r.time.Sub(now) > skew:
		return newError(ErrAccessDenied, "Request is not valid yet")
	case now.Sub(r.time) > time.Duration(secs)*time.Second:
		return newError(ErrAccessDenied, "Request has expired")
	}
	return nil
}

// collectSignedHeaders fills st.headers with the signed headers of the
// request, in SignedHeaders order, and checks that host and every x-amz-*
// header present are signed.
func (v *Verifier) collectSignedHeaders(st *state, r *request) error {
	names := r.auth.SignedHeaders
	if !signed(names, "host") {
		return newError(ErrAccessDenied, "The host header must be signed.")
	}
	h := &st.headers
	h.Reset()
	for rest := names; rest != ""; {
		var n string
		n, rest, _ = strings.Cut(rest, ";")
		h.AddLower(n) // validated: lower case, sorted, unique
	}
	n := h.Len()
	for name, values := range r.req.Header {
		i := h.Find(name, n)
		switch {
		case i < 0:
			if isAmzHeader(name) && !v.unsignedAllowed(r, name) {
				return newError(ErrAccessDenied, "There were headers present in the request which were not signed: "+strings.ToLower(name))
			}
		case h.Has(i): // a second spelling of the same name
			h.Add(name, values)
		default:
			h.SetSpelling(i, name)
			h.SetValues(i, values)
		}
	}
	fillImplicitHeaders(st, r.req, n)
	h.Sort()
	return nil
}

// isAmzHeader reports whether name is an x-amz-* header, or could be read
// as one by a server that takes "_" for "-" (CGI, nginx with
// underscores_in_headers): such a header must be signed too.
func isAmzHeader(name string) bool {
	if len(name) < 6 {
		return false
	}
	for i, c := range []byte("x-amz-") {
		b := name[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != c && !(c == '-' && b == '_') {
			return false
		}
	}
	return true
}

// unsignedAllowed lists the x-amz-* headers that may go unsigned:
//   - X-Amz-Security-Token with OmitSessionToken, for the services that
//     want it added after signing;
//   - X-Amz-Content-Sha256 outside Amazon S3 (which wants it signed), as
//     aws-requests-auth sends it. Its value is the last line of the
//     canonical request, so the signature covers it even so, and the body
//     is checked against it.
func (v *Verifier) unsignedAllowed(r *request, name string) bool {
	switch {
	case strings.EqualFold(name, HeaderSecurityToken):
		return v.OmitSessionToken
	case strings.EqualFold(name, HeaderContentSHA256):
		return !v.s3(r)
	}
	return false
}

// fillImplicitHeaders supplies the signed headers that Go's server keeps
// outside the header map: Host and Transfer-Encoding. Nothing else is
// inferred: a signed header that was not received is signed as empty.
func fillImplicitHeaders(st *state, req *http.Request, n int) {
	h := &st.headers
	if i := h.Find("host", n); i >= 0 {
		st.host[0] = req.Host
		h.SetValues(i, st.host[:])
	}
	if i := h.Find("transfer-encoding", n); i >= 0 && !h.Has(i) && len(req.TransferEncoding) > 0 {
		h.SetValues(i, []string{strings.Join(req.TransferEncoding, ",")})
	}
}

// payload returns the payload hash to verify against and the body to
// release, or, for a streaming payload, the stream to decode once the seed
// signature verified.
func (v *Verifier) payload(r *request) (string, io.ReadCloser, *stream, error) {
	body := r.req.Body
	if body == nil {
		body = http.NoBody
	}
	declared := headerValue(r.req.Header, HeaderContentSHA256)
	if r.presigned {
		// As Signer.Presign: the query parameter, else the header, else
		// UNSIGNED-PAYLOAD for Amazon S3.
		if r.auth.ContentSHA256 != "" {
			declared = r.auth.ContentSHA256
		}
		if declared == "" && canonical.IsS3Service(r.scope.Service) {
			declared = UnsignedPayload
		}
	}
	switch {
	case declared == "" && body != http.NoBody && v.s3(r) && !r.presigned:
		return "", nil, nil, newError(ErrInvalidRequest, "Missing required header for this request: x-amz-content-sha256")
	case declared == "" && body != http.NoBody && r.unknown:
		// Nothing this body could say changes the answer: not a byte of
		// it is read for a key that does not exist.
		return "", nil, nil, errUnknownKey()
	case declared == "":
		hash, body, err := v.bufferBody(body)
		return hash, body, nil, err
	case declared == EmptySHA256 && body == http.NoBody:
		return declared, body, nil, nil
	case declared == UnsignedPayload:
		return declared, body, nil, nil
	case isHexSHA256(declared):
		var want [sha256.Size]byte
		hex.Decode(want[:], []byte(declared))
		return declared, &hashedBody{body: body, hash: sha256.New(), want: want}, nil, nil
	}
	s, err := parseStream(r.req, declared, r.sigv4a())
	return declared, nil, s, err
}

func (v *Verifier) s3(r *request) bool { return v.S3 || canonical.IsS3Service(r.scope.Service) }

// bufferBody reads a body with no declared hash, which must be hashed
// before the signature can be checked.
func (v *Verifier) bufferBody(body io.ReadCloser) (string, io.ReadCloser, error) {
	if body == http.NoBody {
		return EmptySHA256, body, nil
	}
	limit := v.MaxBodyBuffer
	if limit <= 0 {
		limit = DefaultMaxBodyBuffer
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return "", nil, newError(ErrIncompleteBody, "The request body could not be read: "+err.Error())
	}
	if int64(len(data)) > limit {
		return "", nil, newError(ErrMaxMessageLengthExceeded, "The request body is too large to verify without an x-amz-content-sha256 header.")
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), &bufferedBody{Reader: bytes.NewReader(data), body: body}, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	return authz.ValidateSignature(s) == nil
}

// lookupKey asks the KeySource for the key of the request's credential:
// the signing key of its scope (SigV4) or the public key (SigV4a). An
// unknown access key gets a dummy key, so that checking its signature
// costs what a known one costs.
func (v *Verifier) lookupKey(r *request) error {
	ctx, c := r.req.Context(), r.auth.Credential
	var err error
	if r.sigv4a() {
		keys, ok := v.Keys.(PublicKeySource)
		if !ok {
			return newError(ErrNotImplemented, "This endpoint does not accept "+canonical.AlgorithmECDSA+" signatures.")
		}
		r.pub, r.id, err = keys.PublicKey(ctx, c.AccessKeyID)
	} else {
		r.key, r.id, err = v.Keys.SigningKey(ctx, c.AccessKeyID, r.scope)
	}
	r.unknown = errors.Is(err, ErrInvalidAccessKeyID)
	switch {
	case r.unknown && r.sigv4a():
		r.pub, r.id = v.dummyPublicKey(), Identity{}
	case r.unknown:
		r.key, r.id = v.dummyKey(r.scope), Identity{}
	case err != nil:
		return keySourceError(err)
	}
	return nil
}

// keySourceError is the answer to a KeySource failure: an *Error it gave
// (ServiceUnavailable from a key authority that cannot be reached, say)
// as it is, anything else as InternalError.
func keySourceError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Code != "" && e.Status != 0 {
		if e.Message == "" { // a sentinel
			e = &Error{Code: e.Code, Status: e.Status, Message: "The service is unavailable or failed. Please try again.", Err: err}
		}
		return e
	}
	return &Error{Code: ErrInternalError.Code, Status: ErrInternalError.Status,
		Message: "We encountered an internal error. Please try again.", Err: err}
}

func errUnknownKey() *Error {
	return newError(ErrInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
}

// checkSignature computes the signature of the request with the key
// lookupKey found and compares it with the one sent, in constant time.
func (v *Verifier) checkSignature(st *state, r *request, payloadHash string) (Identity, SigningKey, error) {
	if err := v.stringToSign(st, r, payloadHash); err != nil {
		return Identity{}, r.key, err
	}
	var match bool
	if r.sigv4a() {
		match = v4a.Verify(r.pub, st.out, r.auth.Signature)
	} else {
		want := v.macs.get(r.key).sum(st.sha, st.digest[:], st.out)
		var got [sha256.Size]byte
		hex.Decode(got[:], []byte(r.auth.Signature)) // validated hex; a short one leaves zeros
		match = hmac.Equal(got[:], want[:]) && len(r.auth.Signature) == 2*sha256.Size
	}
	switch {
	case r.unknown:
		return Identity{}, r.key, errUnknownKey()
	case !match:
		return Identity{}, r.key, signatureMismatch(st, r)
	}
	return r.id, r.key, nil
}

// stringToSign builds the canonical request into st.buf and the string to
// sign into st.out.
func (v *Verifier) stringToSign(st *state, r *request, payloadHash string) error {
	c := r.auth.Credential
	cr := canonical.Request{
		Method: r.req.Method, Path: wirePath(r.req), RawQuery: r.req.URL.RawQuery,
		Headers: &st.headers, PayloadHash: payloadHash,
		S3: v.s3(r), Presigned: r.presigned, OmitSecurityToken: v.OmitSessionToken,
	}
	st.buf = cr.Append(st.buf[:0], &st.scratch)
	if len(st.buf) > MaxCanonicalRequest {
		return newError(ErrRequestHeaderSectionTooLarge, "The signed headers and query of the request are too large.")
	}
	r.creqHash = sha256.Sum256(st.buf)
	st.out = canonical.AppendStringToSign(st.out[:0], r.auth.Algorithm, r.amzDate, c.Date, c.Region, c.Service, &r.creqHash)
	return nil
}

func signatureMismatch(st *state, r *request) *Error {
	e := newError(ErrSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	e.CanonicalRequest = string(st.buf)
	e.StringToSign = string(st.out)
	e.SignatureProvided = r.auth.Signature
	e.AccessKeyID = r.auth.Credential.AccessKeyID
	return e
}

// dummyPublicKey stands in for the public key of an unknown access key.
func (v *Verifier) dummyPublicKey() *ecdsa.PublicKey {
	v.dummyPubOnce.Do(func() {
		k, err := v4a.DeriveKey("AKIDUNKNOWN", rand.Text())
		if err == nil {
			v.dummyPub = &k.PublicKey
		}
	})
	return v.dummyPub
}

// dummyKey is the signing key, for scope, of a random secret fixed for the
// life of the verifier: it stands in for the key of an unknown access key,
// so that such a request costs what a known one costs, a cached key and a
// comparison. It is cached by scope alone: no unknown access key is kept.
func (v *Verifier) dummyKey(scope Scope) SigningKey {
	v.dummyOnce.Do(v.initDummy)
	ck := cacheKey{scope: scope}
	if e, ok := v.dummyKeys.get(ck); ok {
		return e.key
	}
	key := DeriveSigningKey(v.dummy, scope)
	v.dummyKeys.put(ck, cacheEntry{key: key})
	return key
}

func (v *Verifier) initDummy() { v.dummy, v.dummyKeys = rand.Text(), newKeyCache(keyringCacheSize) }

// checkToken enforces the session token and expiry of temporary
// credentials.
func (v *Verifier) checkToken(r *request, id Identity) error {
	sent := headerValue(r.req.Header, HeaderSecurityToken)
	if r.presigned {
		sent = r.auth.SecurityToken
	}
	switch {
	case id.SessionToken == "" && sent != "":
		return newError(ErrInvalidToken, "The provided token is malformed or otherwise invalid.")
	case id.SessionToken != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(id.SessionToken)) != 1:
		return newError(ErrInvalidToken, "The provided token is malformed or otherwise invalid.")
	case !id.Expiration.IsZero() && v.now().After(id.Expiration):
		if id.SessionToken != "" {
			return newError(ErrExpiredToken, "The provided token has expired.")
		}
		return newError(ErrInvalidAccessKeyID, "The AWS Access Key Id you provided has expired.")
	}
	return nil
}

// hashedBody releases a body whose SHA-256 was declared, and turns its end
// into XAmzContentSHA256Mismatch if the bytes do not match.
type hashedBody struct {
	body io.ReadCloser
	hash interface {
		io.Writer
		Sum([]byte) []byte
	}
	want [sha256.Size]byte
	err  error
}

func (b *hashedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	b.hash.Write(p[:n])
	switch {
	case err == io.EOF:
		var got [sha256.Size]byte
		if !hmac.Equal(b.hash.Sum(got[:0]), b.want[:]) {
			err = newError(ErrXAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
			n = 0 // the last bytes of a body that failed are not released
		}
		b.err = err
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = newError(ErrIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		b.err = err
	}
	return n, err
}

func (b *hashedBody) Close() error { return b.body.Close() }

type bufferedBody struct {
	*bytes.Reader
	body io.Closer
}

func (b *bufferedBody) Close() error { return b.body.Close() }
