package explain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// signing is a canonical request and the string to sign made of it.
type signing struct{ creq, sts string }

// recompute returns the canonical request and string to sign that a
// correct server computes for the request as sent, or the error with which
// such a server refuses the request before it gets that far.
//
// It runs the library's Verifier on the request as a server receives it,
// rather than signing it again with the Signer, because a Signer rebuilds
// the request as a client does: it picks its own signed header list, its
// own X-Amz-Date and payload hash, and strips a default port from Host.
// The Verifier takes all of these from the request (SignedHeaders, the
// date, x-amz-content-sha256 or the body, UNSIGNED-PAYLOAD for a presigned
// S3 URL, the target as written), exactly as the server that answered did.
//
// A Verifier reveals what it computed only when the signature does not
// match, so it is given a key no signature matches (probeKeys); the
// signature itself is checked afterwards, with the real secret, against
// the string to sign it returns. Its clock is the request's own time: the
// question here is the signature, and a stale request would otherwise
// stop at RequestTimeTooSkewed.
func recompute(sent *sentRequest, s3, omitToken bool) (signing, *sigv4.Error, error) {
	req, err := sent.file.ServerRequest("https")
	if err != nil {
		return signing{}, nil, err
	}
	v := &sigv4.Verifier{
		Keys: probeKeys{}, Regions: []string{"*"}, Services: []string{"*"}, S3: s3, OmitSessionToken: omitToken,
		MaxBodyBuffer: httpfile.MaxSize, Now: func() time.Time { return sent.time },
	}
	_, err = v.Verify(req)
	var e *sigv4.Error
	switch {
	case err == nil:
		return signing{}, nil, errors.New("the request verifies with an all-zero signing key: it cannot have been signed with a real secret")
	case !errors.As(err, &e):
		return signing{}, nil, err
	case e.Code != sigv4.ErrSignatureDoesNotMatch.Code:
		return signing{}, e, nil
	}
	return signing{creq: e.CanonicalRequest, sts: e.StringToSign}, nil, nil
}

// probeKeys gives every access key the all-zero signing key, which no
// real secret derives: see recompute.
type probeKeys struct{}

func (probeKeys) SigningKey(context.Context, string, sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return sigv4.SigningKey{}, sigv4.Identity{}, nil
}

// signatureOf signs a string to sign with the key that secret derives for
// the scope on the string's third line; "" if it has none.
func signatureOf(secret, sts string) string {
	lines := strings.Split(sts, "\n")
	if len(lines) != 4 {
		return ""
	}
	scope, ok := parseScope(lines[2])
	if !ok {
		return ""
	}
	key := sigv4.DeriveSigningKey(secret, scope)
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(sts))
	return hex.EncodeToString(mac.Sum(nil))
}

// parseScope parses date/region/service/aws4_request.
func parseScope(s string) (sigv4.Scope, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return sigv4.Scope{}, false
	}
	return sigv4.Scope{Date: parts[0], Region: parts[1], Service: parts[2]}, true
}

// withCreq returns the string to sign sts with its last line, the hash of
// the canonical request, made from creq.
func withCreq(sts, creq string) string {
	i := strings.LastIndexByte(sts, '\n')
	if i < 0 {
		return sts
	}
	return sts[:i+1] + hashHex(creq)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// creq is a canonical request taken apart:
//
//	method \n path \n query \n header lines \n \n signed headers \n payload hash
type creq struct {
	method, path, query string
	headers             []string // "name:value"
	signed, payload     string
}

func parseCreq(s string) (creq, bool) {
	lines := strings.Split(s, "\n")
	n := len(lines)
	if n < 6 || lines[n-3] != "" {
		return creq{}, false
	}
	return creq{
		method: lines[0], path: lines[1], query: lines[2],
		headers: lines[3 : n-3], signed: lines[n-2], payload: lines[n-1],
	}, true
}

func (c creq) String() string {
	var b strings.Builder
	for _, s := range []string{c.method, c.path, c.query} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	for _, h := range c.headers {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	b.WriteString("\n" + c.signed + "\n" + c.payload)
	return b.String()
}

// header returns the value of a canonical header line, and its index.
func (c creq) header(name string) (string, int) {
	for i, line := range c.headers {
		if n, v, _ := strings.Cut(line, ":"); n == name {
			return v, i
		}
	}
	return "", -1
}

// withHeader returns c with header line i replaced.
func (c creq) withHeader(i int, line string) creq {
	c.headers = append([]string(nil), c.headers...)
	c.headers[i] = line
	return c
}
