package storetest

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/internal/sigv2"
)

// VerifyRequestV2 signs a path-style S3 GET at now with AWS Signature
// Version 2 (the Authorization header) with creds, and verifies it with
// keys as the KeySource, by a Verifier that accepts SigV2.
func VerifyRequestV2(keys sigv4.KeySource, creds sigv4.Credentials, now time.Time) (*sigv4.Result, error) {
	req := httptest.NewRequest("GET", "https://s3.example.com/bucket/object?versionId=1", nil)
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	if creds.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	sts := sigv2.AppendStringToSign(nil, &sigv2.Request{Method: req.Method, Path: req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery, Header: req.Header})
	req.Header.Set("Authorization", "AWS "+creds.AccessKeyID+":"+base64.StdEncoding.EncodeToString(sigv4.SigV2MAC(creds.SecretAccessKey, sts)))
	v := &sigv4.Verifier{Keys: keys, Regions: []string{"us-east-1"}, Services: []string{"s3"}, SigV2: true,
		Now: func() time.Time { return now }}
	return v.Verify(req)
}

func (h *harness) verifyV2(s sigv4.KeySource, creds sigv4.Credentials) (*sigv4.Result, error) {
	return VerifyRequestV2(s, creds, h.clock.Now())
}

func (h *harness) mustVerifyV2(s sigv4.KeySource, creds sigv4.Credentials) *sigv4.Result {
	h.t.Helper()
	res, err := h.verifyV2(s, creds)
	if err != nil {
		h.t.Fatalf("verify SigV2 %s: %v", creds.AccessKeyID, err)
	}
	return res
}

func (h *harness) mustFailV2(s sigv4.KeySource, creds sigv4.Credentials, want error) {
	h.t.Helper()
	if _, err := h.verifyV2(s, creds); !errors.Is(err, want) {
		h.t.Fatalf("verify SigV2 %s: got %v, want %v", creds.AccessKeyID, err, want)
	}
}

// testSigV2: the Store checks SigV2 signatures with the secret; not one
// made with another secret; a warm request reads no backend; a change
// through the Store shows at once, and through another within the cache
// TTL; sessions need their token; a key restricted to regions (which
// SigV2 does not sign) or to services without s3 is refused.
func testSigV2(t *testing.T, h *harness) {
	ctx := t.Context()
	var _ sigv4.SigV2Source = h.s
	k, c := h.create("alice", credstore.CreateOptions{})
	res := h.mustVerifyV2(h.s, c)
	if res.Identity.AccessKeyID != k.AccessKeyID || res.Identity.Principal != k.Principal || res.Algorithm != sigv2.Algorithm {
		t.Errorf("Result = %+v", res)
	}
	wrong := c
	wrong.SecretAccessKey = "x" + c.SecretAccessKey[1:]
	if c.SecretAccessKey[0] == 'x' { // another secret, whatever the first byte
		wrong.SecretAccessKey = "y" + c.SecretAccessKey[1:]
	}
	h.mustFailV2(h.s, wrong, sigv4.ErrSignatureDoesNotMatch)

	gets := h.b.gets.Load()
	for range 5 {
		h.mustVerifyV2(h.s, c)
	}
	if n := h.b.gets.Load() - gets; n != 0 {
		t.Errorf("5 warm SigV2 requests read the backend %d times", n)
	}

	if err := h.s.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFailV2(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if err := h.s.Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerifyV2(h.s, c)

	admin := h.newStore(nil)
	if err := admin.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(TTL - time.Millisecond)
	h.mustVerifyV2(h.s, c) // cached: within the bound
	h.clock.Advance(time.Millisecond)
	h.mustFailV2(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if err := admin.Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(TTL)
	h.mustVerifyV2(h.s, c)

	_, sc, err := h.s.Session(ctx, k.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res := h.mustVerifyV2(h.s, sc); res.Identity.SessionToken != sc.SessionToken {
		t.Errorf("session Identity = %+v", res.Identity)
	}
	noToken := sc
	noToken.SessionToken = ""
	h.mustFailV2(h.s, noToken, sigv4.ErrInvalidToken)

	_, s3Only := h.create("s3-only", credstore.CreateOptions{Services: []string{"s3"}})
	h.mustVerifyV2(h.s, s3Only)
	for name, opts := range map[string]credstore.CreateOptions{
		"regional": {Regions: []string{"us-east-1"}},
		"sqs-only": {Services: []string{"sqs"}},
	} {
		_, rc := h.create(name, opts)
		h.mustFailV2(h.s, rc, sigv4.ErrInvalidAccessKeyID)
		if _, _, err := h.s.SigV2Signature(ctx, rc.AccessKeyID, nil); !errors.Is(err, credstore.ErrNotAllowed) {
			t.Errorf("%s: SigV2Signature: %v, want ErrNotAllowed", name, err)
		}
		if name == "regional" {
			h.mustVerify(h.s, rc) // SigV4 in its region still works
		}
	}
}
