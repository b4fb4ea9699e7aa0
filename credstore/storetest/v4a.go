package storetest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/internal/v4a"
)

// V4aRegion is the region of the Verifier of VerifyRequestV4a.
const V4aRegion = "us-east-1"

// SignV4a signs req at now with SigV4a (AWS4-ECDSA-P256-SHA256) in its
// Authorization header, with sigv4.Signer: the key derived from creds, for
// service and regionSet ("*" or a comma-separated list).
func SignV4a(req *http.Request, creds sigv4.Credentials, regionSet, service string, now time.Time) error {
	s := &sigv4.Signer{Credentials: creds, Service: service, RegionSet: strings.Split(regionSet, ","),
		Now: func() time.Time { return now }}
	return s.Sign(req)
}

// VerifyRequestV4a signs a GET request at now with SigV4a for regionSet
// and service with creds, and verifies it with keys as the KeySource, by a
// Verifier of region V4aRegion and any service.
func VerifyRequestV4a(keys sigv4.KeySource, creds sigv4.Credentials, regionSet, service string, now time.Time) (*sigv4.Result, error) {
	req := httptest.NewRequest("GET", "https://example.com/bucket/object?versionId=1", nil)
	if err := SignV4a(req, creds, regionSet, service, now); err != nil {
		return nil, err
	}
	v := &sigv4.Verifier{Keys: keys, Regions: []string{V4aRegion}, Services: []string{"*"},
		Now: func() time.Time { return now }}
	return v.Verify(req)
}

func (h *harness) verifyV4a(s sigv4.KeySource, creds sigv4.Credentials) (*sigv4.Result, error) {
	return VerifyRequestV4a(s, creds, "*", "s3", h.clock.Now())
}

func (h *harness) mustVerifyV4a(s sigv4.KeySource, creds sigv4.Credentials) *sigv4.Result {
	h.t.Helper()
	res, err := h.verifyV4a(s, creds)
	if err != nil {
		h.t.Fatalf("verify SigV4a %s: %v", creds.AccessKeyID, err)
	}
	return res
}

func (h *harness) mustFailV4a(s sigv4.KeySource, creds sigv4.Credentials, want error) {
	h.t.Helper()
	if _, err := h.verifyV4a(s, creds); !errors.Is(err, want) {
		h.t.Fatalf("verify SigV4a %s: got %v, want %v", creds.AccessKeyID, err, want)
	}
}

// testV4a: the Store's public key is the one derived from the secret; it
// verifies SigV4a requests for a wildcard or a list of regions, not a
// signature made with another secret; a warm request reads no backend;
// sessions need their token and end with ExpiredToken.
func testV4a(t *testing.T, h *harness) {
	ctx := t.Context()
	var _ sigv4.PublicKeySource = h.s
	k, c := h.create("alice", credstore.CreateOptions{})
	pub, id, err := h.s.PublicKey(ctx, c.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := v4a.DeriveKey(c.AccessKeyID, c.SecretAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&want.PublicKey) {
		t.Error("PublicKey is not the public half of the key derived from the credentials")
	}
	if id.AccessKeyID != k.AccessKeyID || id.Principal != k.Principal || id.SessionToken != "" || !id.Expiration.IsZero() {
		t.Errorf("PublicKey identity = %+v", id)
	}
	for _, set := range []string{"*", "us-east-1,us-west-2", "us-*"} {
		res, err := VerifyRequestV4a(h.s, c, set, "s3", h.clock.Now())
		if err != nil {
			t.Fatalf("region set %q: %v", set, err)
		}
		if res.Identity.Principal != k.Principal || res.Scope.Region != "" || res.Scope.Service != "s3" {
			t.Errorf("region set %q: Result = %+v", set, res)
		}
	}
	if _, err := VerifyRequestV4a(h.s, c, "eu-west-1", "s3", h.clock.Now()); !errors.Is(err, sigv4.ErrAuthorizationHeaderMalformed) {
		t.Errorf("region set without the verifier's region: got %v, want AuthorizationHeaderMalformed", err)
	}
	wrong := c
	wrong.SecretAccessKey = strings.Repeat("x", 40)
	h.mustFailV4a(h.s, wrong, sigv4.ErrSignatureDoesNotMatch)

	// Warm: no backend read, no derivation; SigV4 keys are cached apart.
	gets := h.b.gets.Load()
	hits, _ := h.s.CacheStats()
	for range 5 {
		h.mustVerifyV4a(h.s, c)
	}
	if n := h.b.gets.Load() - gets; n != 0 {
		t.Errorf("5 warm SigV4a requests read the backend %d times", n)
	}
	if h2, _ := h.s.CacheStats(); h2-hits != 5 {
		t.Errorf("5 warm SigV4a requests: %d cache hits", h2-hits)
	}
	h.mustVerify(h.s, c)
	if n := h.b.gets.Load() - gets; n != 1 {
		t.Errorf("a first SigV4 request after SigV4a ones read the backend %d times, want 1", n)
	}

	// Through the same Store, a change takes effect at once.
	if err := h.s.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFailV4a(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if err := h.s.Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerifyV4a(h.s, c)

	// A session signs SigV4a with its token, inherits its parent's
	// principal, and ends with ExpiredToken, though cached.
	sk, sc, err := h.s.Session(ctx, k.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res := h.mustVerifyV4a(h.s, sc)
	if res.Identity.SessionToken != sc.SessionToken || !res.Identity.Expiration.Equal(sk.Expires) || res.Identity.Principal != k.Principal {
		t.Errorf("session Identity = %+v", res.Identity)
	}
	noToken := sc
	noToken.SessionToken = ""
	h.mustFailV4a(h.s, noToken, sigv4.ErrInvalidToken)
	h.clock.Advance(time.Hour + time.Second)
	_, sid, err := h.s.PublicKey(ctx, sc.AccessKeyID)
	if err != nil || sid.Expiration.After(h.clock.Now()) || sid.SessionToken == "" {
		t.Errorf("expired session: identity expiring %v (now %v), token set %v, error %v", sid.Expiration, h.clock.Now(), sid.SessionToken != "", err)
	}
	h.mustFailV4a(h.s, sc, sigv4.ErrExpiredToken)
	h.mustVerifyV4a(h.s, c)

	// An expired long-term key is unknown, on time, though cached.
	ek, ec := h.create("bob", credstore.CreateOptions{Expires: h.clock.Now().Add(2 * time.Second)})
	h.mustVerifyV4a(h.s, ec)
	h.clock.Advance(2*time.Second + time.Millisecond)
	if _, _, err := h.s.PublicKey(ctx, ek.AccessKeyID); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("expired key: got %v, want ErrInvalidAccessKeyID", err)
	}
	h.mustFailV4a(h.s, ec, sigv4.ErrInvalidAccessKeyID)

	// Deleting the parent ends the SigV4a requests of both.
	_, sc2, err := h.s.Session(ctx, k.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h.mustVerifyV4a(h.s, sc2)
	if err := h.s.Delete(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFailV4a(h.s, c, sigv4.ErrInvalidAccessKeyID)
	h.mustFailV4a(h.s, sc2, sigv4.ErrInvalidAccessKeyID)
}

// testV4aRevocationDelay: the bound of testRevocationDelay holds for
// cached public keys.
func testV4aRevocationDelay(t *testing.T, h *harness) {
	ctx := t.Context()
	admin := h.newStore(nil)
	disabled, c1 := h.create("alice", credstore.CreateOptions{})
	deleted, c2 := h.create("bob", credstore.CreateOptions{})
	h.mustVerifyV4a(h.s, c1)
	h.mustVerifyV4a(h.s, c2)
	if err := admin.Disable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := admin.Delete(ctx, deleted.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(TTL - time.Millisecond)
	h.mustVerifyV4a(h.s, c1) // still cached: within the bound
	h.mustVerifyV4a(h.s, c2)
	h.clock.Advance(time.Millisecond)
	h.mustFailV4a(h.s, c1, sigv4.ErrInvalidAccessKeyID)
	h.mustFailV4a(h.s, c2, sigv4.ErrInvalidAccessKeyID)

	// With the cache disabled, a change shows at the next request.
	uncached := h.newStore(&credstore.Options{CacheTTL: -1})
	if err := admin.Enable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerifyV4a(uncached, c1)
	if err := admin.Disable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFailV4a(uncached, c1, sigv4.ErrInvalidAccessKeyID)
}

// testV4aRefusalsCached: refusals are cached for SigV4a as for SigV4.
func testV4aRefusalsCached(t *testing.T, h *harness) {
	checkRefusalsCached(t, h, func(s *credstore.Store, id string) error {
		_, _, err := s.PublicKey(t.Context(), id)
		return err
	}, h.mustVerifyV4a)
}

// testV4aRestrictions: PublicKey is given no scope, so it cannot check a
// key's services or regions; a restricted key (and its sessions) is
// refused for SigV4a, and still signs SigV4 within its restriction.
func testV4aRestrictions(t *testing.T, h *harness) {
	ctx := t.Context()
	for _, opts := range []credstore.CreateOptions{
		{Services: []string{"s3"}},
		{Regions: []string{V4aRegion}},
	} {
		k, c := h.create("alice", opts)
		_, sc, err := h.s.Session(ctx, k.AccessKeyID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, cr := range []sigv4.Credentials{c, sc} {
			_, _, err := h.s.PublicKey(ctx, cr.AccessKeyID)
			if !errors.Is(err, credstore.ErrNotAllowed) || !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
				t.Errorf("%+v: PublicKey: got %v, want ErrNotAllowed and ErrInvalidAccessKeyID", opts, err)
			}
			h.mustFailV4a(h.s, cr, sigv4.ErrInvalidAccessKeyID)
			if _, err := VerifyRequest(h.s, cr, V4aRegion, "s3", h.clock.Now()); err != nil {
				t.Errorf("%+v: SigV4 within the restriction: %v", opts, err)
			}
		}
	}
}
