package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/sigv2"
)

// SigV2Source is a KeySource that can also check AWS Signature Version 2,
// the legacy form of Amazon S3, which signs with the secret access key
// itself instead of a key derived for one scope. A Verifier with SigV2 on
// accepts SigV2 requests only from a SigV2Source: [Keyring] and
// credstore's Store are; a source of scoped signing keys (a key
// authority's client) is not, and cannot be, since it never holds a
// secret.
//
// SigV2Signature returns the HMAC-SHA1 of stringToSign under the secret of
// accessKeyID, so that the secret itself need not leave the source. For an
// access key it does not know, it returns an error matching
// ErrInvalidAccessKeyID.
type SigV2Source interface {
	KeySource
	SigV2Signature(ctx context.Context, accessKeyID string, stringToSign []byte) ([]byte, Identity, error)
}

var _ SigV2Source = (*Keyring)(nil)

// SigV2Signature implements SigV2Source.
func (k *Keyring) SigV2Signature(_ context.Context, accessKeyID string, stringToSign []byte) ([]byte, Identity, error) {
	k.mu.RLock()
	e, ok := k.secrets[accessKeyID]
	k.mu.RUnlock()
	if !ok {
		return nil, Identity{}, ErrInvalidAccessKeyID
	}
	return SigV2MAC(e.secret, stringToSign), e.id, nil
}

// SigV2MAC is the HMAC-SHA1 of stringToSign under secret: the signature of
// AWS Signature Version 2, before its base64 encoding.
func SigV2MAC(secret string, stringToSign []byte) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(stringToSign)
	return m.Sum(nil)
}

// sigV2Form says whether req is signed with SigV2, and how: "" if not,
// else "Authorization header" or "presigned URL". A request that also has
// a SigV4 signature is not: Verify refuses the mix as SigV4 does.
func sigV2Form(req *http.Request) string {
	auth := req.Header[HeaderAuthorization]
	switch {
	case len(auth) == 1 && sigv2.IsHeader(auth[0]):
		return "Authorization header"
	case len(auth) == 0 && sigv2.IsPresigned(req.URL.RawQuery):
		return "presigned URL"
	}
	return ""
}

// errSigV2 refuses a request signed with AWS Signature Version 2 as
// Amazon S3 does where it accepts only SigV4, saying what it saw and why.
func errSigV2(form, why string) error {
	return newError(ErrInvalidRequest, "The authorization mechanism you have provided is not supported. Please use "+
		canonical.AlgorithmHMAC+". (This is an AWS Signature Version 2 "+form+", "+why+".)")
}

// Why a SigV2 request is refused.
const (
	sigV2Off      = "which this endpoint does not accept; its operator can accept it for Amazon S3 with sigv4 serve --sigv2 (Verifier.SigV2)"
	sigV2NotS3    = "which is accepted for Amazon S3 only"
	sigV2NoSecret = "which needs the secret access key, and this endpoint holds only derived keys"
)

// verifyV2 checks a SigV2 request (see Verifier.SigV2).
func (v *Verifier) verifyV2(req *http.Request, form string) (*Result, error) {
	keys, ok := v.Keys.(SigV2Source)
	switch {
	case form == "Authorization header" && sigv2.IsPresigned(req.URL.RawQuery),
		form == "presigned URL" && authz.IsPresigned(req.URL.RawQuery):
		return nil, newError(ErrInvalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case !v.SigV2:
		return nil, errSigV2(form, sigV2Off)
	case !allowed(v.Services, "s3"):
		return nil, errSigV2(form, sigV2NotS3)
	case !ok:
		return nil, errSigV2(form, sigV2NoSecret)
	}
	presigned := form == "presigned URL"
	r := &request{req: req, presigned: presigned}
	accessKeyID, signature, expires, err := v.parseV2(r)
	if err != nil {
		return nil, err
	}
	payloadHash, err := v2PayloadHash(req)
	if err != nil {
		return nil, err
	}
	id, err := v.checkSignatureV2(keys, r, accessKeyID, signature, expires)
	if err != nil {
		return nil, err
	}
	if err := v.checkToken(r, id); err != nil {
		return nil, err
	}
	body, err := v2Body(req, payloadHash)
	if err != nil {
		return nil, err
	}
	if body, err = checkDigests(req, body, authz.IsPresigned(req.URL.RawQuery)); err != nil {
		return nil, err
	}
	until := r.time // a URL's Expires
	if !presigned {
		until = v.expires(r)
	}
	return &Result{
		Algorithm: sigv2.Algorithm, Identity: id, Presigned: presigned, Time: r.time,
		Scope:       Scope{Date: r.time.UTC().Format("20060102"), Service: "s3"},
		PayloadHash: payloadHash, Body: body, ContentLength: req.ContentLength,
		CanonicalRequestHash: r.creqHash, Expires: until,
	}, nil
}

// parseV2 reads the signature and the time of a SigV2 request and checks
// the time: within MaxSkew for the header form, not past Expires for a
// presigned URL.
func (v *Verifier) parseV2(r *request) (accessKeyID, signature, expires string, err error) {
	req := r.req
	for _, name := range []string{"Date", "Content-Type", "Content-Md5", HeaderDate} {
		if len(req.Header[name]) > 1 {
			return "", "", "", newError(ErrInvalidArgument, "The "+name+" header is sent more than once.")
		}
	}
	for name := range req.Header {
		// SigV2 signs the x-amz-* headers; an x_amz_* one, which some
		// servers read as x-amz-*, it would not.
		if isAmzHeader(name) && !strings.EqualFold(name[:6], "x-amz-") {
			return "", "", "", newError(ErrAccessDenied, "There were headers present in the request which were not signed: "+strings.ToLower(name))
		}
	}
	if r.presigned {
		q, err := sigv2.ParseQuery(req.URL.RawQuery)
		if err != nil {
			return "", "", "", newError(ErrAccessDenied, err.Error())
		}
		r.auth.SecurityToken = q.SecurityToken
		return q.AccessKeyID, q.Signature, q.Expires, v.checkExpires(r, q.Expires)
	}
	accessKeyID, signature, err = sigv2.ParseHeader(req.Header[HeaderAuthorization][0])
	if err != nil {
		return "", "", "", newError(ErrInvalidArgument, err.Error())
	}
	if err := v.checkDateV2(r); err != nil {
		return "", "", "", err
	}
	return accessKeyID, signature, "", nil
}

// checkExpires checks the Expires of a SigV2 presigned URL: seconds since
// the epoch, not yet past.
func (v *Verifier) checkExpires(r *request, expires string) error {
	secs, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || secs < 0 || strconv.FormatInt(secs, 10) != expires {
		return newError(ErrAccessDenied, "Invalid date (should be seconds since epoch): "+expires)
	}
	r.time = time.Unix(secs, 0).UTC()
	if v.now().After(r.time) {
		return newError(ErrAccessDenied, "Request has expired")
	}
	return nil
}

// checkDateV2 reads the time of a SigV2 header-signed request from
// x-amz-date, else Date (both in the forms of RFC 2616 that S3 reads), and
// checks it is within MaxSkew of the clock.
func (v *Verifier) checkDateV2(r *request) error {
	values := r.req.Header[HeaderDate]
	if len(values) == 0 {
		values = r.req.Header["Date"]
	}
	t, ok := parseDateHeader(values)
	if !ok {
		return newError(ErrAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	}
	r.time = t
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if d := v.now().Sub(t); d > skew || d < -skew {
		return newError(ErrRequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
	}
	return nil
}

// checkSignatureV2 builds the string to sign, has the source sign it, and
// compares the result with the signature sent, in constant time. An
// unknown access key is signed for with the verifier's dummy secret, so
// that it costs what a known one costs.
func (v *Verifier) checkSignatureV2(keys SigV2Source, r *request, accessKeyID, signature, expires string) (Identity, error) {
	st := getState()
	defer putState(st)
	sr := sigv2.Request{
		Method: r.req.Method, Path: wirePath(r.req), RawQuery: r.req.URL.RawQuery, Header: r.req.Header,
		Bucket: sigv2.BucketOfHost(r.req.Host, v.VirtualHostDomains), Expires: expires,
	}
	st.out = sigv2.AppendStringToSign(st.out[:0], &sr)
	if len(st.out) > MaxCanonicalRequest {
		return Identity{}, newError(ErrRequestHeaderSectionTooLarge, "The x-amz-* headers and query of the request are too large.")
	}
	r.creqHash = sha256.Sum256(st.out)
	want, id, err := keys.SigV2Signature(r.req.Context(), accessKeyID, st.out)
	unknown := errors.Is(err, ErrInvalidAccessKeyID)
	switch {
	case unknown:
		want = SigV2MAC(v.dummySecret(), st.out)
	case err != nil:
		return Identity{}, keySourceError(err)
	}
	match := hmac.Equal(sigv2.DecodeSignature(signature), want)
	switch {
	case unknown:
		return Identity{}, errUnknownKey()
	case !match:
		e := newError(ErrSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		e.StringToSign, e.SignatureProvided, e.AccessKeyID = string(st.out), signature, accessKeyID
		return Identity{}, e
	}
	return id, nil
}

// v2PayloadHash is what a SigV2 request says of its body: SigV2 signs no
// body, but an x-amz-content-sha256 header, being an x-amz-* header, is
// signed, and a hex one is checked. A streaming (aws-chunked) upload needs
// a SigV4 seed signature.
func v2PayloadHash(req *http.Request) (string, error) {
	declared := headerValue(req.Header, HeaderContentSHA256)
	switch {
	case declared == "" || declared == UnsignedPayload:
		return UnsignedPayload, nil
	case isHexSHA256(declared):
		return declared, nil
	}
	return "", newError(ErrInvalidRequest, "A request signed with AWS Signature Version 2 cannot send x-amz-content-sha256: "+
		declared+"; streaming uploads need "+canonical.AlgorithmHMAC+".")
}

func v2Body(req *http.Request, payloadHash string) (io.ReadCloser, error) {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	if payloadHash == UnsignedPayload {
		return body, nil
	}
	var want [sha256.Size]byte
	hex.Decode(want[:], []byte(payloadHash))
	return &hashedBody{body: body, hash: sha256.New(), want: want}, nil
}

// dummySecret is a random secret fixed for the life of the verifier, for
// unknown access keys.
func (v *Verifier) dummySecret() string {
	v.dummyOnce.Do(v.initDummy)
	return v.dummy
}
