package sigv4

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
)

// Bounds of X-Amz-Expires.
const (
	MinExpires = time.Second
	MaxExpires = 7 * 24 * time.Hour
)

// Presign signs req as a presigned URL valid for expires (1 s to 7 days):
// it adds the X-Amz-* authentication parameters to req.URL, which can then
// be handed to anyone. Headers present on req (other than those never
// signed) are signed too, and whoever uses the URL must send them.
//
// The payload hash is an X-Amz-Content-Sha256 header or query parameter
// already on req, or UNSIGNED-PAYLOAD for Amazon S3 or with UnsignedPayload,
// or the SHA-256 of the body.
func (s *Signer) Presign(req *http.Request, expires time.Duration) error {
	if err := s.check(req); err != nil {
		return err
	}
	if expires < MinExpires || expires > MaxExpires || expires%time.Second != 0 {
		return errors.New("sigv4: presign expiry must be a whole number of seconds from 1s to 7 days")
	}
	query := authz.WithoutAuthParams(req.URL.RawQuery) // an earlier presigning's
	hash, err := s.presignPayloadHash(req, query)
	if err != nil {
		return err
	}
	if hash == UnsignedPayload && !canonical.IsS3Service(s.Service) && authz.QueryValue(query, authz.ParamContentSHA256) == "" &&
		req.Header.Get(HeaderContentSHA256) == "" {
		// Outside S3 a verifier hashes the body unless told otherwise.
		if query != "" {
			query += "&"
		}
		query += authz.ParamContentSHA256 + "=" + UnsignedPayload
	}
	st := getState()
	defer putState(st)

	var amzDate [len(canonical.TimeFormat)]byte
	canonical.AppendTime(amzDate[:0], s.now())
	s.collectHeaders(st, req, nil)
	if err := checkHeaders(&st.headers); err != nil {
		return err
	}

	token := s.Credentials.SessionToken
	signToken := token != "" && !s.OmitSessionToken
	q := s.appendAuthParams(st, append(st.q[:0], query...), string(amzDate[:]), expires, signToken)
	st.q = q
	unsigned := string(q)
	sig, err := s.signature(st, req, unsigned, amzDate[:], hash)
	if err != nil {
		return err
	}
	tail := append(st.out[:0], "&X-Amz-Signature="...)
	tail = append(tail, sig...)
	if token != "" && !signToken {
		tail = appendParam(append(tail, '&'), authz.ParamSecurityToken, token)
	}
	if len(st.buf) > MaxCanonicalRequest || len(unsigned)+len(tail) > authz.MaxQueryLen {
		return errTooLarge
	}
	req.URL.RawQuery = unsigned + string(tail)
	return nil
}

// appendAuthParams appends the X-Amz-* parameters of a presigned URL but
// the signature, escaped as the canonical query escapes them.
func (s *Signer) appendAuthParams(st *state, q []byte, amzDate string, expires time.Duration, token bool) []byte {
	if len(q) > 0 {
		q = append(q, '&')
	}
	q = appendParam(q, authz.ParamAlgorithm, s.algorithm())
	q = append(q, "&X-Amz-Credential="...)
	q = canonical.AppendEscaped(q, s.Credentials.AccessKeyID)
	for _, part := range [...]string{amzDate[:8], s.scopeRegion(), s.Service, canonical.Terminal} {
		if part != "" {
			q = canonical.AppendEscaped(append(q, "%2F"...), part)
		}
	}
	q = appendParam(append(q, '&'), authz.ParamDate, amzDate)
	q = append(q, "&X-Amz-Expires="...)
	q = strconv.AppendInt(q, int64(expires/time.Second), 10)
	q = append(q, "&X-Amz-SignedHeaders="...)
	st.buf = st.headers.AppendSigned(st.buf[:0])
	q = canonical.AppendEscaped(q, st.buf)
	if token {
		q = appendParam(append(q, '&'), authz.ParamSecurityToken, s.Credentials.SessionToken)
	}
	if s.sigv4a() {
		q = appendParam(append(q, '&'), authz.ParamRegionSet, strings.Join(s.RegionSet, ","))
	}
	return q
}

// presignPayloadHash returns the payload hash of a presigned URL: an
// X-Amz-Content-Sha256 query parameter, else the header, else
// UNSIGNED-PAYLOAD for Amazon S3; Verifier follows the same order.
func (s *Signer) presignPayloadHash(req *http.Request, query string) (string, error) {
	if v := authz.QueryValue(query, authz.ParamContentSHA256); v != "" {
		return v, nil
	}
	if v := req.Header.Get(HeaderContentSHA256); v == "" && canonical.IsS3Service(s.Service) {
		return UnsignedPayload, nil
	}
	return s.payloadHash(req, "")
}

func appendParam(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=')
	return canonical.AppendEscaped(b, value)
}
