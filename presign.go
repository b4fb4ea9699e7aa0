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
	if err := s.check(); err != nil {
		return err
	}
	if expires < MinExpires || expires > MaxExpires || expires%time.Second != 0 {
		return errors.New("sigv4: presign expiry must be a whole number of seconds from 1s to 7 days")
	}
	query := withoutAuthParams(req.URL.RawQuery)
	hash, err := s.presignPayloadHash(req, query)
	if err != nil {
		return err
	}
	st := getState()
	defer putState(st)

	var amzDate [len(canonical.TimeFormat)]byte
	canonical.AppendTime(amzDate[:0], s.now())
	s.collectHeaders(st, req)

	q := []byte(query)
	if len(q) > 0 {
		q = append(q, '&')
	}
	q = appendParam(q, authz.ParamAlgorithm, canonical.AlgorithmHMAC)
	q = append(q, '&')
	q = appendParam(q, authz.ParamCredential, s.Credentials.AccessKeyID+"/"+Scope{string(amzDate[:8]), s.Region, s.Service}.String())
	q = append(q, '&')
	q = appendParam(q, authz.ParamDate, string(amzDate[:]))
	q = append(q, '&')
	q = appendParam(q, authz.ParamExpires, strconv.Itoa(int(expires/time.Second)))
	q = append(q, '&')
	q = appendParam(q, authz.ParamSignedHeaders, string(canonical.AppendSignedHeaders(nil, st.headers)))
	token := s.Credentials.SessionToken
	if token != "" && !s.OmitSessionToken {
		q = append(q, '&')
		q = appendParam(q, authz.ParamSecurityToken, token)
	}
	sig := s.signature(st, req, string(q), amzDate[:], hash)
	q = append(q, '&')
	q = appendParam(q, authz.ParamSignature, string(sig[:]))
	if token != "" && s.OmitSessionToken {
		q = append(q, '&')
		q = appendParam(q, authz.ParamSecurityToken, token)
	}
	req.URL.RawQuery = string(q)
	return nil
}

// presignPayloadHash returns the payload hash of a presigned URL: an
// X-Amz-Content-Sha256 query parameter, else the header, else
// UNSIGNED-PAYLOAD for Amazon S3; Verifier follows the same order.
func (s *Signer) presignPayloadHash(req *http.Request, query string) (string, error) {
	if v := authz.QueryValue(query, authz.ParamContentSHA256); v != "" {
		return v, nil
	}
	if v := req.Header.Get(HeaderContentSHA256); v == "" && isS3(s.Service) {
		return UnsignedPayload, nil
	}
	return s.payloadHash(req, "")
}

// withoutAuthParams removes the parameters of an earlier presigning.
func withoutAuthParams(rawQuery string) string {
	var kept []string
	for _, field := range strings.Split(rawQuery, "&") {
		name, _, _ := strings.Cut(field, "=")
		switch authz.ParamName(name) {
		case authz.ParamAlgorithm, authz.ParamCredential, authz.ParamDate, authz.ParamExpires,
			authz.ParamSignedHeaders, authz.ParamSignature, authz.ParamSecurityToken:
			continue
		}
		kept = append(kept, field)
	}
	return strings.Join(kept, "&")
}

func appendParam(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=')
	return canonical.AppendEscaped(b, value)
}
