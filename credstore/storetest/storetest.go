// Package storetest is the conformance suite of credential store backends.
// Every credstore.Backend runs it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (credstore.Backend, func() []byte) {
//			b := openMyBackend(t) // new and empty
//			return b, func() []byte { return myBackendFiles(t) }
//		})
//	}
//
// It checks the Backend contract directly, and the behaviour of a
// credstore.Store over the backend, through a sigv4.Verifier, with a
// clock the suite controls: revocation within the cache TTL, expiry,
// sessions, restrictions, secrets sealed at rest, refusals (unknown or
// disabled keys) cached as keys are, SigV4a public keys (cached and revoked
// as signing keys are), and concurrent use (run it with -race).
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// Opener returns a new, empty backend for one test, and a function that
// returns every byte the backend keeps at rest (its files), for the check
// that no secret is stored in the clear; a nil function skips that check.
// The suite closes the backend.
type Opener func(t *testing.T) (b credstore.Backend, atRest func() []byte)

// TTL is the cache TTL of the stores the suite makes.
const TTL = 5 * time.Second

// Run runs the conformance suite.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Backend", testBackend},
		{"CreateGet", testCreateGet},
		{"CreateInvalid", testCreateInvalid},
		{"List", testList},
		{"DisableEnable", testDisableEnable},
		{"RevocationDelay", testRevocationDelay},
		{"Delete", testDelete},
		{"Rotate", testRotate},
		{"Session", testSession},
		{"SessionEndsWithParent", testSessionEndsWithParent},
		{"Expiry", testExpiry},
		{"NotFound", testNotFound},
		{"Restrictions", testRestrictions},
		{"SealedAtRest", testSealedAtRest},
		{"WarmRequestReadsNoBackend", testWarm},
		{"RefusalsCached", testRefusalsCached},
		{"CacheBounded", testCacheBounded},
		{"LastUsed", testLastUsed},
		{"WrongSealingKey", testWrongSealingKey},
		{"Prune", testPrune},
		{"Concurrency", testConcurrency},
		{"V4a", testV4a},
		{"V4aRevocationDelay", testV4aRevocationDelay},
		{"V4aRefusalsCached", testV4aRefusalsCached},
		{"V4aRestrictions", testV4aRestrictions},
		{"SigV2", testSigV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, atRest := open(t)
			h := &harness{t: t, b: &countingBackend{Backend: b}, atRest: atRest,
				clock: &Clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}}
			rand.Read(h.sealingKey[:])
			t.Cleanup(func() { b.Close() })
			h.s = h.newStore(nil)
			tc.fn(t, h)
		})
	}
}

// harness is one test's backend and a Store over it.
type harness struct {
	t          *testing.T
	b          *countingBackend
	atRest     func() []byte
	clock      *Clock
	sealingKey [credstore.SealingKeySize]byte
	s          *credstore.Store
}

// newStore returns another Store over the test's backend, as another
// process sharing the database would have.
func (h *harness) newStore(opts *credstore.Options) *credstore.Store {
	h.t.Helper()
	o := credstore.Options{CacheTTL: TTL, Now: h.clock.Now, LastUsedInterval: time.Hour}
	if opts != nil {
		o = *opts
		o.Now = h.clock.Now
	}
	s, err := credstore.New(h.t.Context(), h.b, h.sealingKey[:], &o)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { s.Close() })
	return s
}

func (h *harness) create(name string, opts credstore.CreateOptions) (credstore.Key, sigv4.Credentials) {
	h.t.Helper()
	k, c, err := h.s.Create(h.t.Context(), name, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	return k, c
}

// verify signs a request for us-east-1/s3 with creds and verifies it with s.
func (h *harness) verify(s sigv4.KeySource, creds sigv4.Credentials) (*sigv4.Result, error) {
	return VerifyRequest(s, creds, "us-east-1", "s3", h.clock.Now())
}

func (h *harness) mustVerify(s sigv4.KeySource, creds sigv4.Credentials) *sigv4.Result {
	h.t.Helper()
	res, err := h.verify(s, creds)
	if err != nil {
		h.t.Fatalf("verify %s: %v", creds.AccessKeyID, err)
	}
	return res
}

func (h *harness) mustFail(s sigv4.KeySource, creds sigv4.Credentials, want error) {
	h.t.Helper()
	if _, err := h.verify(s, creds); !errors.Is(err, want) {
		h.t.Fatalf("verify %s: got %v, want %v", creds.AccessKeyID, err, want)
	}
}

// VerifyRequest signs a GET request at now for region and service with
// creds, and verifies it with keys as the KeySource.
func VerifyRequest(keys sigv4.KeySource, creds sigv4.Credentials, region, service string, now time.Time) (*sigv4.Result, error) {
	clock := func() time.Time { return now }
	req := httptest.NewRequest("GET", "https://example.com/bucket/object?versionId=1", nil)
	s := &sigv4.Signer{Credentials: creds, Region: region, Service: service, Now: clock}
	if err := s.Sign(req); err != nil {
		return nil, err
	}
	v := &sigv4.Verifier{Keys: keys, Regions: []string{"*"}, Services: []string{"*"}, Now: clock}
	return v.Verify(req)
}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingBackend counts reads, and leaves closing to the test, so that
// several Stores can share one backend.
type countingBackend struct {
	credstore.Backend
	gets atomic.Int64
}

func (c *countingBackend) Get(ctx context.Context, id string) (credstore.Record, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, id)
}

func (c *countingBackend) Close() error { return nil }

func testBackend(t *testing.T, h *harness) {
	ctx := t.Context()
	b := h.b.Backend
	created := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	r := credstore.Record{
		Key: credstore.Key{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", Name: "n", Principal: "p", Status: credstore.Active,
			Created: created, Expires: created.Add(time.Hour), Services: []string{"s3", "sqs"}, Regions: []string{"eu-west-1"}},
		SealedSecret: []byte{1, 2, 3},
	}
	if err := b.Insert(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := b.Insert(ctx, r); !errors.Is(err, credstore.ErrExists) {
		t.Errorf("second Insert: got %v, want ErrExists", err)
	}
	child := r
	child.AccessKeyID, child.Parent, child.SealedToken, child.Created = "ASIAAAAAAAAAAAAAAAAA", r.AccessKeyID, []byte{4}, created.Add(-time.Second)
	if err := b.Insert(ctx, child); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, r.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRecord(got, r) {
		t.Errorf("Get = %+v, want %+v", got, r)
	}
	list, err := b.List(ctx)
	if err != nil || len(list) != 2 || list[0].AccessKeyID != child.AccessKeyID || !sameRecord(list[0], child) {
		t.Errorf("List = %+v, %v; want the child first (older), then the parent", list, err)
	}

	t0 := created.Add(time.Minute)
	if err := b.TouchLastUsed(ctx, map[string]time.Time{r.AccessKeyID: t0, "AKIANOTTHEREAAAAAAAA": t0}); err != nil {
		t.Fatal(err)
	}
	if err := b.TouchLastUsed(ctx, map[string]time.Time{r.AccessKeyID: t0.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Get(ctx, r.AccessKeyID); !got.LastUsed.Equal(t0) {
		t.Errorf("LastUsed = %v, want %v (it never moves back)", got.LastUsed, t0)
	}

	if err := b.SetStatus(ctx, r.AccessKeyID, credstore.Disabled); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Get(ctx, r.AccessKeyID); got.Status != credstore.Disabled {
		t.Errorf("Status = %v after SetStatus(disabled)", got.Status)
	}
	if err := b.Delete(ctx, r.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{r.AccessKeyID, child.AccessKeyID} {
		if _, err := b.Get(ctx, id); !errors.Is(err, credstore.ErrNotFound) {
			t.Errorf("Get(%s) after Delete of the parent: got %v, want ErrNotFound", id, err)
		}
	}
	if err := b.SetStatus(ctx, r.AccessKeyID, credstore.Active); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("SetStatus of a deleted key: got %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, r.AccessKeyID); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Delete of a deleted key: got %v, want ErrNotFound", err)
	}

	// The Store bound a fingerprint already.
	if err := b.BindSealingKey(ctx, "another"); !errors.Is(err, credstore.ErrWrongSealingKey) {
		t.Errorf("BindSealingKey(another): got %v, want ErrWrongSealingKey", err)
	}
}

func sameRecord(a, b credstore.Record) bool {
	return a.AccessKeyID == b.AccessKeyID && a.Name == b.Name && a.Principal == b.Principal && a.Status == b.Status &&
		a.Created.Equal(b.Created) && a.LastUsed.Equal(b.LastUsed) && a.Expires.Equal(b.Expires) &&
		strings.Join(a.Services, ",") == strings.Join(b.Services, ",") && strings.Join(a.Regions, ",") == strings.Join(b.Regions, ",") &&
		a.Parent == b.Parent && bytes.Equal(a.SealedSecret, b.SealedSecret) && bytes.Equal(a.SealedToken, b.SealedToken)
}

func testCreateGet(t *testing.T, h *harness) {
	k, c := h.create("alice", credstore.CreateOptions{})
	if !validID(k.AccessKeyID, "AKIA") || c.AccessKeyID != k.AccessKeyID {
		t.Errorf("access key ID %q: want AKIA and 16 upper-case base32 characters", k.AccessKeyID)
	}
	if len(c.SecretAccessKey) != 40 || c.SessionToken != "" {
		t.Errorf("secret %d characters, token %q: want 40 and none", len(c.SecretAccessKey), c.SessionToken)
	}
	want := credstore.Key{AccessKeyID: k.AccessKeyID, Name: "alice", Principal: "arn:aws:iam::000000000000:user/alice",
		Status: credstore.Active, Created: h.clock.Now()}
	if !sameKey(k, want) {
		t.Errorf("Create = %+v, want %+v", k, want)
	}
	got, err := h.s.Get(t.Context(), k.AccessKeyID)
	if err != nil || !sameKey(got, want) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, want)
	}
	res := h.mustVerify(h.s, c)
	if res.Identity.Principal != want.Principal || res.Identity.AccessKeyID != k.AccessKeyID ||
		res.Identity.SessionToken != "" || !res.Identity.Expiration.IsZero() {
		t.Errorf("Identity = %+v", res.Identity)
	}

	// Another Store over the same backend (another process) opens the secret.
	h.mustVerify(h.newStore(nil), c)

	k2, _ := h.create("bob", credstore.CreateOptions{Principal: "arn:aws:iam::123456789012:user/team/bob"})
	if k2.Principal != "arn:aws:iam::123456789012:user/team/bob" || k2.AccessKeyID == k.AccessKeyID {
		t.Errorf("second key %+v", k2)
	}
}

func validID(id, prefix string) bool {
	if len(id) != 20 || !strings.HasPrefix(id, prefix) {
		return false
	}
	return strings.Trim(id[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

func sameKey(a, b credstore.Key) bool {
	return sameRecord(credstore.Record{Key: a}, credstore.Record{Key: b})
}

func testCreateInvalid(t *testing.T, h *harness) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		opts credstore.CreateOptions
	}{
		{"", credstore.CreateOptions{}},
		{"has space", credstore.CreateOptions{}},
		{strings.Repeat("a", 65), credstore.CreateOptions{}},
		{"ok", credstore.CreateOptions{Services: []string{"S3"}}},
		{"ok", credstore.CreateOptions{Regions: []string{"eu-west-1,us-east-1"}}},
		{"ok", credstore.CreateOptions{Expires: h.clock.Now()}},
	} {
		if _, _, err := h.s.Create(ctx, tc.name, tc.opts); err == nil {
			t.Errorf("Create(%q, %+v) succeeded", tc.name, tc.opts)
		}
	}
	if keys, _ := h.s.List(ctx); len(keys) != 0 {
		t.Errorf("invalid creates left %d keys", len(keys))
	}
}

func testList(t *testing.T, h *harness) {
	var want []string
	for _, name := range []string{"carol", "alice", "bob"} {
		k, _ := h.create(name, credstore.CreateOptions{})
		want = append(want, k.AccessKeyID)
		h.clock.Advance(time.Second)
	}
	keys, err := h.s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.AccessKeyID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List = %v, want %v (oldest first)", got, want)
	}
}

func testDisableEnable(t *testing.T, h *harness) {
	ctx := t.Context()
	k, c := h.create("alice", credstore.CreateOptions{})
	h.mustVerify(h.s, c)
	if err := h.s.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	// Through the same Store, at once, though the key was cached.
	h.mustFail(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if got, _ := h.s.Get(ctx, k.AccessKeyID); got.Status != credstore.Disabled {
		t.Errorf("Status = %v, want disabled", got.Status)
	}
	if err := h.s.Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerify(h.s, c)
}

// testRevocationDelay checks the documented bound: a change made through
// another Store reaches this one within the cache TTL, and not before.
func testRevocationDelay(t *testing.T, h *harness) {
	ctx := t.Context()
	admin := h.newStore(nil)
	disabled, c1 := h.create("alice", credstore.CreateOptions{})
	deleted, c2 := h.create("bob", credstore.CreateOptions{})
	h.mustVerify(h.s, c1)
	h.mustVerify(h.s, c2)
	if err := admin.Disable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := admin.Delete(ctx, deleted.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(TTL - time.Millisecond)
	h.mustVerify(h.s, c1) // still cached: within the bound
	h.mustVerify(h.s, c2)
	h.clock.Advance(time.Millisecond)
	h.mustFail(h.s, c1, sigv4.ErrInvalidAccessKeyID)
	h.mustFail(h.s, c2, sigv4.ErrInvalidAccessKeyID)

	// With the cache disabled, a change shows at the next request.
	uncached := h.newStore(&credstore.Options{CacheTTL: -1})
	if err := admin.Enable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerify(uncached, c1)
	if err := admin.Disable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFail(uncached, c1, sigv4.ErrInvalidAccessKeyID)
}

func testDelete(t *testing.T, h *harness) {
	ctx := t.Context()
	k, c := h.create("alice", credstore.CreateOptions{})
	_, sc, err := h.s.Session(ctx, k.AccessKeyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.mustVerify(h.s, c)
	h.mustVerify(h.s, sc)
	if err := h.s.Delete(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFail(h.s, c, sigv4.ErrInvalidAccessKeyID)
	h.mustFail(h.s, sc, sigv4.ErrInvalidAccessKeyID)
	for _, id := range []string{k.AccessKeyID, sc.AccessKeyID} {
		if _, err := h.s.Get(ctx, id); !errors.Is(err, credstore.ErrNotFound) {
			t.Errorf("Get(%s) after Delete: got %v, want ErrNotFound", id, err)
		}
	}
}

func testRotate(t *testing.T, h *harness) {
	ctx := t.Context()
	expires := h.clock.Now().Add(90 * 24 * time.Hour)
	old, oc := h.create("alice", credstore.CreateOptions{Services: []string{"s3"}, Expires: expires})
	_, sc, err := h.s.Session(ctx, old.AccessKeyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	nk, nc, err := h.s.Rotate(ctx, old.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if nk.AccessKeyID == old.AccessKeyID || nc.SecretAccessKey == oc.SecretAccessKey || nk.Name != old.Name ||
		nk.Principal != old.Principal || !nk.Expires.Equal(old.Expires) || strings.Join(nk.Services, ",") != "s3" ||
		nk.Status != credstore.Active || !nk.Created.Equal(h.clock.Now()) || nk.Temporary() {
		t.Errorf("Rotate = %+v from %+v", nk, old)
	}
	h.mustVerify(h.s, nc)
	h.mustFail(h.s, oc, sigv4.ErrInvalidAccessKeyID)
	h.mustFail(h.s, sc, sigv4.ErrInvalidAccessKeyID) // sessions end with their parent
	if got, _ := h.s.Get(ctx, old.AccessKeyID); got.Status != credstore.Disabled {
		t.Errorf("old key status %v, want disabled (kept, to enable again if a client was missed)", got.Status)
	}
	if _, _, err := h.s.Rotate(ctx, sc.AccessKeyID); err == nil {
		t.Error("Rotate of a temporary key succeeded")
	}
}

func testSession(t *testing.T, h *harness) {
	ctx := t.Context()
	p, _ := h.create("alice", credstore.CreateOptions{Regions: []string{"us-east-1"}})
	k, c, err := h.s.Session(ctx, p.AccessKeyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	if !validID(k.AccessKeyID, "ASIA") || len(c.SecretAccessKey) != 40 || len(c.SessionToken) < 64 ||
		k.Parent != p.AccessKeyID || !k.Temporary() || k.Name != "alice" || k.Principal != p.Principal ||
		!k.Expires.Equal(now.Add(credstore.DefaultSessionDuration)) || strings.Join(k.Regions, ",") != "us-east-1" {
		t.Errorf("Session = %+v, %d-character secret, %d-character token", k, len(c.SecretAccessKey), len(c.SessionToken))
	}
	res := h.mustVerify(h.s, c)
	if res.Identity.SessionToken != c.SessionToken || !res.Identity.Expiration.Equal(k.Expires) || res.Identity.Principal != p.Principal {
		t.Errorf("Identity = %+v", res.Identity)
	}
	noToken := c
	noToken.SessionToken = ""
	h.mustFail(h.s, noToken, sigv4.ErrInvalidToken)
	wrong := c
	wrong.SessionToken += "x"
	h.mustFail(h.s, wrong, sigv4.ErrInvalidToken)

	for _, ttl := range []time.Duration{credstore.MinSessionDuration - time.Second, credstore.MaxSessionDuration + time.Second, -time.Hour} {
		if _, _, err := h.s.Session(ctx, p.AccessKeyID, ttl); err == nil {
			t.Errorf("Session(%v) succeeded", ttl)
		}
	}
	if _, _, err := h.s.Session(ctx, k.AccessKeyID, 0); err == nil {
		t.Error("a session from a session succeeded")
	}
	short, _, err := h.s.Session(ctx, p.AccessKeyID, credstore.MinSessionDuration)
	if err != nil || !short.Expires.Equal(now.Add(credstore.MinSessionDuration)) {
		t.Errorf("Session(15m) = %+v, %v", short, err)
	}

	// A session ends with its parent's expiry.
	ep, _ := h.create("bob", credstore.CreateOptions{Expires: now.Add(time.Hour)})
	ek, _, err := h.s.Session(ctx, ep.AccessKeyID, 0)
	if err != nil || !ek.Expires.Equal(ep.Expires) {
		t.Errorf("session of a key expiring in 1h expires %v, want %v (%v)", ek.Expires, ep.Expires, err)
	}

	// Past its expiry, though cached, the session's identity says so: the
	// verifier checks the signature and the token, then answers
	// ExpiredToken, as AWS does.
	h.clock.Advance(credstore.DefaultSessionDuration + time.Second)
	_, id, err := h.s.SigningKey(ctx, c.AccessKeyID, sigv4.Scope{Date: "20250601", Region: "us-east-1", Service: "s3"})
	if err != nil || id.Expiration.After(h.clock.Now()) || id.SessionToken == "" {
		t.Errorf("expired session: identity expiring %v (now %v), token set %v, error %v", id.Expiration, h.clock.Now(), id.SessionToken != "", err)
	}
	h.mustFail(h.s, c, sigv4.ErrExpiredToken)
}

func testSessionEndsWithParent(t *testing.T, h *harness) {
	ctx := t.Context()
	p, _ := h.create("alice", credstore.CreateOptions{})
	_, c, err := h.s.Session(ctx, p.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h.mustVerify(h.s, c)
	if err := h.s.Disable(ctx, p.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustFail(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if _, _, err := h.s.Session(ctx, p.AccessKeyID, time.Hour); err == nil {
		t.Error("a session from a disabled key succeeded")
	}
	if err := h.s.Enable(ctx, p.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.mustVerify(h.s, c)
}

func testExpiry(t *testing.T, h *harness) {
	ctx := t.Context()
	k, c := h.create("alice", credstore.CreateOptions{Expires: h.clock.Now().Add(2 * time.Second)})
	res := h.mustVerify(h.s, c)
	if !res.Identity.Expiration.Equal(k.Expires) {
		t.Errorf("Identity.Expiration = %v, want %v", res.Identity.Expiration, k.Expires)
	}
	h.clock.Advance(2 * time.Second)
	h.mustVerify(h.s, c) // good up to and including its expiry
	h.clock.Advance(time.Millisecond)
	// On time, though cached for another TTL.
	if _, _, err := h.s.SigningKey(ctx, c.AccessKeyID, sigv4.Scope{Date: "20250601", Region: "us-east-1", Service: "s3"}); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("expired key: got %v, want ErrInvalidAccessKeyID", err)
	}
	h.mustFail(h.s, c, sigv4.ErrInvalidAccessKeyID)
	if _, _, err := h.s.Session(ctx, k.AccessKeyID, 0); err == nil {
		t.Error("a session from an expired key succeeded")
	}
	if _, _, err := h.s.Rotate(ctx, k.AccessKeyID); err == nil {
		t.Error("Rotate of an expired key succeeded")
	}
}

func testNotFound(t *testing.T, h *harness) {
	ctx := t.Context()
	const id = "AKIAQQQQQQQQQQQQQQQQ"
	for name, err := range map[string]error{
		"Get":     func() error { _, err := h.s.Get(ctx, id); return err }(),
		"Disable": h.s.Disable(ctx, id),
		"Enable":  h.s.Enable(ctx, id),
		"Delete":  h.s.Delete(ctx, id),
		"Rotate":  func() error { _, _, err := h.s.Rotate(ctx, id); return err }(),
		"Session": func() error { _, _, err := h.s.Session(ctx, id, 0); return err }(),
		"backend": func() error { _, err := h.b.Backend.Get(ctx, id); return err }(),
	} {
		if !errors.Is(err, credstore.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
	_, _, err := h.s.SigningKey(ctx, id, sigv4.Scope{Date: "20250601", Region: "us-east-1", Service: "s3"})
	if !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("SigningKey: got %v, want ErrInvalidAccessKeyID", err)
	}
	h.mustFail(h.s, sigv4.Credentials{AccessKeyID: id, SecretAccessKey: "x"}, sigv4.ErrInvalidAccessKeyID)
}

func testRestrictions(t *testing.T, h *harness) {
	ctx := t.Context()
	_, c := h.create("alice", credstore.CreateOptions{Services: []string{"s3", "sqs"}, Regions: []string{"eu-west-1"}})
	for _, tc := range []struct {
		region, service string
		ok              bool
	}{
		{"eu-west-1", "s3", true},
		{"eu-west-1", "sqs", true},
		{"us-east-1", "s3", false},
		{"eu-west-1", "iam", false},
	} {
		_, err := VerifyRequest(h.s, c, tc.region, tc.service, h.clock.Now())
		if tc.ok != (err == nil) {
			t.Errorf("%s/%s: %v", tc.region, tc.service, err)
		}
		_, _, err = h.s.SigningKey(ctx, c.AccessKeyID, sigv4.Scope{Date: "20250601", Region: tc.region, Service: tc.service})
		if !tc.ok && (!errors.Is(err, credstore.ErrNotAllowed) || !errors.Is(err, sigv4.ErrInvalidAccessKeyID)) {
			t.Errorf("SigningKey %s/%s: got %v, want ErrNotAllowed and ErrInvalidAccessKeyID", tc.region, tc.service, err)
		}
	}
}

func testSealedAtRest(t *testing.T, h *harness) {
	ctx := t.Context()
	k, c := h.create("alice", credstore.CreateOptions{})
	sk, sc, err := h.s.Session(ctx, k.AccessKeyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{c.SecretAccessKey, sc.SecretAccessKey, sc.SessionToken}
	for _, id := range []string{k.AccessKeyID, sk.AccessKeyID} {
		r, err := h.b.Backend.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			if bytes.Contains(r.SealedSecret, []byte(secret)) || bytes.Contains(r.SealedToken, []byte(secret)) {
				t.Errorf("record %s holds a secret in the clear", id)
			}
		}
	}
	if h.atRest == nil {
		t.Log("no bytes at rest to check")
		return
	}
	raw := h.atRest()
	if !bytes.Contains(raw, []byte(k.AccessKeyID)) {
		t.Fatalf("the bytes at rest (%d) do not hold the access key ID: the check would prove nothing", len(raw))
	}
	for _, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("a secret is stored in the clear")
		}
	}
}

func testWarm(t *testing.T, h *harness) {
	_, c := h.create("alice", credstore.CreateOptions{})
	h.mustVerify(h.s, c)
	gets := h.b.gets.Load()
	hits, misses := h.s.CacheStats()
	for range 10 {
		h.mustVerify(h.s, c)
	}
	if n := h.b.gets.Load() - gets; n != 0 {
		t.Errorf("10 warm requests read the backend %d times", n)
	}
	if h2, m2 := h.s.CacheStats(); h2-hits != 10 || m2 != misses {
		t.Errorf("CacheStats: hits %d→%d, misses %d→%d; want 10 more hits", hits, h2, misses, m2)
	}
	// Past the TTL, one read refreshes it.
	h.clock.Advance(TTL)
	h.mustVerify(h.s, c)
	h.mustVerify(h.s, c)
	if n := h.b.gets.Load() - gets; n != 1 {
		t.Errorf("after the TTL, 2 requests read the backend %d times, want 1", n)
	}
}

func testRefusalsCached(t *testing.T, h *harness) {
	scope := sigv4.Scope{Date: "20250601", Region: "us-east-1", Service: "s3"}
	checkRefusalsCached(t, h, func(s *credstore.Store, id string) error {
		_, _, err := s.SigningKey(t.Context(), id, scope)
		return err
	}, h.mustVerify)

	// A scope outside a key's restrictions is refused by scope.
	_, c := h.create("carol", credstore.CreateOptions{Services: []string{"sqs"}})
	gets := h.b.gets.Load()
	for range 3 {
		_, _, err := h.s.SigningKey(t.Context(), c.AccessKeyID, scope)
		if !errors.Is(err, credstore.ErrNotAllowed) {
			t.Fatalf("a scope outside the key's services: got %v, want ErrNotAllowed", err)
		}
	}
	if n := h.b.gets.Load() - gets; n != 1 {
		t.Errorf("3 requests for a scope the key may not sign: %d backend reads, want 1", n)
	}
	if _, err := VerifyRequest(h.s, c, "us-east-1", "sqs", h.clock.Now()); err != nil {
		t.Errorf("the refusal of one scope refused another: %v", err)
	}
}

// checkRefusalsCached checks, with lookup (SigningKey or PublicKey) and
// verify (of SigV4 or SigV4a), that a refusal reads the backend once per
// TTL and answers as the first time; that a malformed access key ID reads
// nothing; and that a change made through the Store is seen at once, one
// made elsewhere within the TTL.
func checkRefusalsCached(t *testing.T, h *harness, lookup func(*credstore.Store, string) error, verify func(sigv4.KeySource, sigv4.Credentials) *sigv4.Result) {
	ctx := t.Context()
	const unknown = "AKIAQQQQQQQQQQQQQQQQ"
	first := lookup(h.s, unknown)
	if !errors.Is(first, sigv4.ErrInvalidAccessKeyID) {
		t.Fatalf("unknown key: got %v, want ErrInvalidAccessKeyID", first)
	}
	for range 4 {
		if err := lookup(h.s, unknown); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) || err.Error() != first.Error() {
			t.Fatalf("unknown key, cached: got %v, want %v", err, first)
		}
	}
	if n := h.b.gets.Load(); n != 1 {
		t.Errorf("5 requests with an unknown key: %d backend reads, want 1", n)
	}
	if hits, misses := h.s.CacheStats(); hits != 4 || misses != 1 {
		t.Errorf("CacheStats = %d hits, %d misses; want 4, 1", hits, misses)
	}
	if err := lookup(h.s, "AKIDNOTOURS"); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) || h.b.gets.Load() != 1 {
		t.Errorf("malformed access key ID: got %v and %d backend reads, want ErrInvalidAccessKeyID and 1", err, h.b.gets.Load())
	}
	h.clock.Advance(TTL)
	lookup(h.s, unknown)
	if n := h.b.gets.Load(); n != 2 {
		t.Errorf("after the TTL, an unknown key: %d backend reads in all, want 2", n)
	}

	// A key disabled, then enabled through the same Store: at once.
	k, c := h.create("alice", credstore.CreateOptions{})
	if err := h.s.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	gets := h.b.gets.Load()
	for range 3 {
		if err := lookup(h.s, k.AccessKeyID); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			t.Fatalf("disabled key: got %v, want ErrInvalidAccessKeyID", err)
		}
	}
	if n := h.b.gets.Load() - gets; n != 1 {
		t.Errorf("3 requests with a disabled key: %d backend reads, want 1", n)
	}
	if err := h.s.Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	verify(h.s, c)

	// Enabled elsewhere: within the TTL, and not before.
	if err := h.s.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	lookup(h.s, k.AccessKeyID)
	if err := h.newStore(nil).Enable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(TTL - time.Millisecond)
	if err := lookup(h.s, k.AccessKeyID); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("enabled elsewhere, within the TTL: got %v, want the cached refusal", err)
	}
	h.clock.Advance(time.Millisecond)
	verify(h.s, c)
}

func testCacheBounded(t *testing.T, h *harness) {
	s := h.newStore(&credstore.Options{CacheTTL: TTL, CacheSize: 2})
	var creds []sigv4.Credentials
	for _, name := range []string{"a", "b", "c", "d"} {
		_, c := h.create(name, credstore.CreateOptions{})
		creds = append(creds, c)
	}
	for range 3 {
		for _, c := range creds {
			h.mustVerify(s, c)
			h.mustVerifyV4a(s, c) // a public key takes a place too
		}
	}
	if hits, misses := s.CacheStats(); hits+misses != 24 || misses < 8 {
		t.Errorf("CacheStats = %d hits, %d misses", hits, misses)
	}
}

func testLastUsed(t *testing.T, h *harness) {
	ctx := t.Context()
	s := h.newStore(nil)
	k, c := h.create("alice", credstore.CreateOptions{})
	if !k.LastUsed.IsZero() {
		t.Errorf("new key LastUsed = %v", k.LastUsed)
	}
	h.clock.Advance(time.Minute)
	h.mustVerify(s, c)
	used := h.clock.Now()
	// Shown at once by the Store that saw the use; written at Close.
	if got, _ := s.Get(ctx, k.AccessKeyID); !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.s.Get(ctx, k.AccessKeyID); !got.LastUsed.Equal(used) {
		t.Errorf("after Close, LastUsed = %v, want %v", got.LastUsed, used)
	}
}

func testWrongSealingKey(t *testing.T, h *harness) {
	other := make([]byte, credstore.SealingKeySize)
	rand.Read(other)
	if _, err := credstore.New(t.Context(), h.b, other, nil); !errors.Is(err, credstore.ErrWrongSealingKey) {
		t.Errorf("New with another sealing key: got %v, want ErrWrongSealingKey", err)
	}
}

func testPrune(t *testing.T, h *harness) {
	ctx := t.Context()
	p, _ := h.create("alice", credstore.CreateOptions{})
	short, _, err := h.s.Session(ctx, p.AccessKeyID, credstore.MinSessionDuration)
	if err != nil {
		t.Fatal(err)
	}
	long, _, err := h.s.Session(ctx, p.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(credstore.MinSessionDuration + time.Second)
	if n, err := h.s.Prune(ctx); n != 1 || err != nil {
		t.Errorf("Prune = %d, %v; want 1", n, err)
	}
	if _, err := h.s.Get(ctx, short.AccessKeyID); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("expired session after Prune: %v", err)
	}
	for _, id := range []string{p.AccessKeyID, long.AccessKeyID} {
		if _, err := h.s.Get(ctx, id); err != nil {
			t.Errorf("Prune removed %s: %v", id, err)
		}
	}
}

// testConcurrency verifies, creates, disables and lists at once; run with
// -race.
func testConcurrency(t *testing.T, h *harness) {
	ctx := t.Context()
	var keys []credstore.Key
	var creds []sigv4.Credentials
	for _, name := range []string{"a", "b", "c", "d"} {
		k, c := h.create(name, credstore.CreateOptions{})
		keys, creds = append(keys, k), append(creds, c)
	}
	other := h.newStore(nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				c := creds[(i+j)%len(creds)]
				verify := h.verify
				if j%2 == 1 {
					verify = h.verifyV4a
				}
				if _, err := verify(h.s, c); err != nil && !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 10 {
			if _, _, err := other.Create(ctx, "w", credstore.CreateOptions{}); err != nil {
				errs <- err
				return
			}
			if _, _, err := h.s.Session(ctx, keys[3].AccessKeyID, time.Hour); err != nil {
				errs <- err
				return
			}
			id := keys[j%3].AccessKeyID
			if err := h.s.Disable(ctx, id); err != nil {
				errs <- err
				return
			}
			if err := h.s.Enable(ctx, id); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range 10 {
			if _, err := h.s.List(ctx); err != nil {
				errs <- err
				return
			}
			h.s.CacheStats()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range creds {
		h.mustVerify(h.s, c) // every key is enabled again
		h.mustVerifyV4a(h.s, c)
	}
	if list, _ := h.s.List(ctx); len(list) != 4+10+10 {
		t.Errorf("List has %d keys, want 24", len(list))
	}
}
