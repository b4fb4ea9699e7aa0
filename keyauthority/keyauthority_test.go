package keyauthority_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/keyauthority"
)

// clock is a settable clock.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) Now() time.Time   { return *c.t.Load() }
func (c *clock) Set(t time.Time)  { c.t.Store(&t) }
func newClock(t time.Time) *clock { c := &clock{}; c.Set(t); return c }

// authority is a running key authority with its store, CA and grants.
type authority struct {
	t       *testing.T
	dir     string
	store   *credstore.Store
	ca      *keyauthority.CA
	grants  *keyauthority.Grants
	revs    *keyauthority.RevocationLog
	clock   *clock
	audit   *syncBuffer
	srv     *httptest.Server
	addr    string
	handler http.Handler
	signing atomic.Int64 // signing-key requests served
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var day = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func newAuthority(t *testing.T) *authority {
	t.Helper()
	a := &authority{t: t, dir: t.TempDir(), clock: newClock(day), audit: &syncBuffer{}}
	var err error
	a.store, err = credstore.Open(context.Background(), "sqlite:"+filepath.Join(a.dir, "keys.db"), &credstore.Options{Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	if a.ca, err = keyauthority.NewCA(a.dir); err != nil {
		t.Fatal(err)
	}
	if a.grants, err = keyauthority.LoadGrants(filepath.Join(a.dir, "grants.json")); err != nil {
		t.Fatal(err)
	}
	for _, g := range []keyauthority.Grant{
		{Name: "eu-gw", Regions: []string{"eu-west-1"}, Services: []string{"s3"}},
		{Name: "us-gw", Regions: []string{"us-east-1"}, Services: []string{"s3"}},
		{Name: "admin", Regions: []string{"*"}, Services: []string{"*"}, Admin: true},
	} {
		if err := a.grants.Put(g); err != nil {
			t.Fatal(err)
		}
	}
	if a.revs, err = keyauthority.OpenRevocationLog(filepath.Join(a.dir, "revocations.jsonl"), a.clock.Now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.revs.Close() })
	s := &keyauthority.Server{Keys: a.store, Grants: a.grants, Revocations: a.revs, Now: a.clock.Now,
		Audit: slog.New(slog.NewJSONHandler(a.audit, nil)), KeepAlive: 200 * time.Millisecond}
	h := s.Handler()
	a.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == keyauthority.PathSigningKey {
			a.signing.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	a.start("127.0.0.1:0")
	return a
}

// start serves the authority on addr (a fixed one to restart it).
func (a *authority) start(addr string) {
	a.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.t.Fatal(err)
	}
	certPEM, keyPEM, err := a.ca.Issue("authority", "127.0.0.1")
	if err != nil {
		a.t.Fatal(err)
	}
	cfg, err := keyauthority.ServerTLS(a.ca.PEM, certPEM, keyPEM)
	if err != nil {
		a.t.Fatal(err)
	}
	a.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.handler}, TLS: cfg, EnableHTTP2: true}
	a.srv.StartTLS()
	a.addr = ln.Addr().String()
	a.t.Cleanup(a.srv.Close)
}

func (a *authority) stop() {
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// client returns a Client with the certificate of name, issued by ca.
func (a *authority) client(name string, ca *keyauthority.CA) *keyauthority.Client {
	a.t.Helper()
	certPEM, keyPEM, err := ca.Issue(name)
	if err != nil {
		a.t.Fatal(err)
	}
	cfg, err := keyauthority.ClientTLS(a.ca.PEM, certPEM, keyPEM)
	if err != nil {
		a.t.Fatal(err)
	}
	c := keyauthority.NewClient("https://"+a.addr, cfg)
	c.Now, c.Reconnect = a.clock.Now, 50*time.Millisecond
	return c
}

func (a *authority) key(name string, opts credstore.CreateOptions) sigv4.Credentials {
	a.t.Helper()
	_, c, err := a.store.Create(context.Background(), name, opts)
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

func code(err error) string {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		return sigv4.ErrInvalidAccessKeyID.Code
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

// TestCompartmentalization: a verifier granted eu-west-1/s3 gets exactly
// the key the official derivation gives for its scope and day, and
// nothing for us-east-1, for sts, or for a date two days out; a signing
// key taken from it verifies nothing outside its day, region and service.
func TestCompartmentalization(t *testing.T) {
	a := newAuthority(t)
	alice := a.key("alice", credstore.CreateOptions{})
	eu := a.client("eu-gw", a.ca)
	ctx := context.Background()
	scope := sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}
	key, id, err := eu.SigningKey(ctx, alice.AccessKeyID, scope)
	if err != nil {
		t.Fatal(err)
	}
	if key != sigv4.DeriveSigningKey(alice.SecretAccessKey, scope) || id.AccessKeyID != alice.AccessKeyID {
		t.Fatalf("the key handed out is not the derivation's for %v", scope)
	}
	for _, d := range []string{"20261202", "20261204"} { // yesterday, tomorrow
		if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, sigv4.Scope{Date: d, Region: "eu-west-1", Service: "s3"}); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	for name, s := range map[string]sigv4.Scope{
		"another region":  {Date: "20261203", Region: "us-east-1", Service: "s3"},
		"another service": {Date: "20261203", Region: "eu-west-1", Service: "sts"},
		"two days out":    {Date: "20261205", Region: "eu-west-1", Service: "s3"},
		"two days ago":    {Date: "20261201", Region: "eu-west-1", Service: "s3"},
	} {
		if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, s); code(err) != "AccessDenied" {
			t.Errorf("%s (%v): %v, want AccessDenied", name, s, err)
		}
	}

	// The key taken verifies its own scope's request, and no other's:
	// every other scope derives another key from the secret.
	stolen := staticKey{key}
	verify := func(s sigv4.Scope, at time.Time) error {
		req, _ := http.NewRequest("GET", "https://bucket.s3."+s.Region+".amazonaws.com/object", nil)
		signer := &sigv4.Signer{Credentials: alice, Region: s.Region, Service: s.Service, Now: func() time.Time { return at }}
		if err := signer.Sign(req); err != nil {
			t.Fatal(err)
		}
		v := &sigv4.Verifier{Keys: stolen, Regions: []string{"*"}, Services: []string{"*"}, Now: func() time.Time { return at }}
		_, err := v.Verify(req)
		return err
	}
	if err := verify(scope, day); err != nil {
		t.Fatalf("the key's own scope: %v", err)
	}
	for _, other := range []struct {
		s  sigv4.Scope
		at time.Time
	}{
		{sigv4.Scope{Date: "20261204", Region: "eu-west-1", Service: "s3"}, day.Add(24 * time.Hour)},
		{sigv4.Scope{Date: "20261203", Region: "us-east-1", Service: "s3"}, day},
		{sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "sts"}, day},
	} {
		if sigv4.DeriveSigningKey(alice.SecretAccessKey, other.s) == key {
			t.Errorf("%v derives the same key", other.s)
		}
		if err := verify(other.s, other.at); code(err) != "SignatureDoesNotMatch" {
			t.Errorf("a request for %v, checked with the stolen key: %v", other.s, err)
		}
	}

	// No grant, or another CA: nothing.
	if _, _, err := a.client("rogue", a.ca).SigningKey(ctx, alice.AccessKeyID, scope); code(err) != "AccessDenied" {
		t.Errorf("a certificate with no grant: %v", err)
	}
	other, err := keyauthority.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.client("eu-gw", other).SigningKey(ctx, alice.AccessKeyID, scope); code(err) != "ServiceUnavailable" {
		t.Errorf("a certificate of another CA: %v", err)
	}
	// The audit log names who asked for what, and holds no key.
	log := a.audit.String()
	for _, secret := range []string{alice.SecretAccessKey, hex.EncodeToString(key[:]), base64.StdEncoding.EncodeToString(key[:])} {
		if strings.Contains(log, secret) {
			t.Errorf("the audit log holds key material: %q", secret)
		}
	}
	if !strings.Contains(log, `"client":"eu-gw"`) || !strings.Contains(log, "granted") || !strings.Contains(log, "outside the grant") {
		t.Errorf("audit log:\n%s", log)
	}
}

type staticKey struct{ k sigv4.SigningKey }

func (s staticKey) SigningKey(_ context.Context, id string, _ sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return s.k, sigv4.Identity{AccessKeyID: id}, nil
}

// TestClientCache: a warm key asks nothing; concurrent misses are one
// fetch; an unknown key is InvalidAccessKeyId, refused briefly from cache.
func TestClientCache(t *testing.T) {
	a := newAuthority(t)
	alice := a.key("alice", credstore.CreateOptions{})
	eu := a.client("eu-gw", a.ca)
	ctx := context.Background()
	scope := sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, scope); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := a.signing.Load(); n != 1 {
		t.Errorf("50 concurrent misses made %d fetches, want 1", n)
	}
	for range 10 {
		eu.SigningKey(ctx, alice.AccessKeyID, scope)
	}
	if n := a.signing.Load(); n != 1 {
		t.Errorf("warm lookups fetched: %d", n)
	}
	if _, _, err := eu.SigningKey(ctx, "AKIAUNKNOWNKEY000000", scope); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("unknown key: %v", err)
	}
	eu.SigningKey(ctx, "AKIAUNKNOWNKEY000000", scope)
	if n := a.signing.Load(); n != 2 {
		t.Errorf("an unknown key asked again at once made %d fetches, want 2", n)
	}
}

// TestRevocation: revoking eu-west-1 for a range of dates reaches a
// connected verifier within 1 s; its keys in the range are refused, those
// outside it and the us verifier's never; a verifier that connects later
// gets what it missed; one access key can be revoked everywhere.
func TestRevocation(t *testing.T) {
	a := newAuthority(t)
	alice := a.key("alice", credstore.CreateOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eu, us, admin := a.client("eu-gw", a.ca), a.client("us-gw", a.ca), a.client("admin", a.ca)
	go eu.Run(ctx)
	go us.Run(ctx)
	waitFor(t, "the stream", func() bool { return eu.Connected() && us.Connected() })
	euToday := sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}
	euTomorrow := sigv4.Scope{Date: "20261204", Region: "eu-west-1", Service: "s3"}
	usToday := sigv4.Scope{Date: "20261203", Region: "us-east-1", Service: "s3"}
	for _, c := range []struct {
		cl *keyauthority.Client
		s  sigv4.Scope
	}{{eu, euToday}, {eu, euTomorrow}, {us, usToday}} {
		if _, _, err := c.cl.SigningKey(ctx, alice.AccessKeyID, c.s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (a.client("eu-gw", a.ca)).Revoke(ctx, keyauthority.Revocation{Region: "eu-west-1", From: "20261201", To: "20261203"}); err == nil {
		t.Error("a verifier's grant could revoke")
	}
	start := time.Now()
	if _, err := admin.Revoke(ctx, keyauthority.Revocation{Region: "eu-west-1", From: "20261201", To: "20261203", Reason: "breach"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation", func() bool {
		_, _, err := eu.SigningKey(ctx, alice.AccessKeyID, euToday)
		return code(err) == "AccessDenied"
	})
	delay := time.Since(start)
	t.Logf("revocation refused at the eu verifier %v after it was added", delay)
	if delay > time.Second {
		t.Errorf("the revocation took %v", delay)
	}
	if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, euTomorrow); err != nil {
		t.Errorf("eu outside the range: %v", err)
	}
	if _, _, err := us.SigningKey(ctx, alice.AccessKeyID, usToday); err != nil {
		t.Errorf("us: %v", err)
	}
	// A verifier connecting later gets it, and a key revocation from
	// today.
	late := a.client("eu-gw", a.ca)
	if _, err := admin.Revoke(ctx, keyauthority.Revocation{AccessKeyID: alice.AccessKeyID, From: "20261204"}); err != nil {
		t.Fatal(err)
	}
	go late.Run(ctx)
	waitFor(t, "the late stream", late.Connected)
	waitFor(t, "the key revocation", func() bool {
		_, _, err := eu.SigningKey(ctx, alice.AccessKeyID, euTomorrow)
		return code(err) == "AccessDenied"
	})
	if _, _, err := late.SigningKey(ctx, alice.AccessKeyID, euToday); code(err) != "AccessDenied" {
		t.Errorf("the late verifier, today in eu: %v", err)
	}
	if _, _, err := us.SigningKey(ctx, alice.AccessKeyID, usToday); err != nil {
		t.Errorf("us today, before the key's revocation date: %v", err)
	}
	// The log survives a restart of the authority.
	reopened, err := keyauthority.OpenRevocationLog(filepath.Join(a.dir, "revocations.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if got := reopened.Since(0); len(got) != 2 || got[0].Reason != "breach" {
		t.Errorf("reopened log: %+v", got)
	}
}

// TestAuthorityDown: with the authority gone, cached keys keep serving and
// a new key is ServiceUnavailable (never InvalidAccessKeyId); restarted on
// the same address, everything recovers without restarting the verifier.
func TestAuthorityDown(t *testing.T) {
	a := newAuthority(t)
	alice, bob := a.key("alice", credstore.CreateOptions{}), a.key("bob", credstore.CreateOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eu := a.client("eu-gw", a.ca)
	go eu.Run(ctx)
	waitFor(t, "the stream", eu.Connected)
	scope := sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}
	if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, scope); err != nil {
		t.Fatal(err)
	}
	addr := a.addr
	a.stop()
	waitFor(t, "the stream to drop", func() bool { return !eu.Connected() })
	if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, scope); err != nil {
		t.Errorf("a cached key with the authority down: %v", err)
	}
	_, _, err := eu.SigningKey(ctx, bob.AccessKeyID, scope)
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "ServiceUnavailable" || e.Status != http.StatusServiceUnavailable {
		t.Errorf("a new key with the authority down: %v, want ServiceUnavailable", err)
	}
	a.start(addr)
	waitFor(t, "the stream to come back", eu.Connected)
	if _, _, err := eu.SigningKey(ctx, bob.AccessKeyID, scope); err != nil {
		t.Errorf("after the restart: %v", err)
	}
}

// TestPrefetchAcrossMidnight: before midnight the verifier fetches
// tomorrow's keys for what it used today; past midnight, with the
// authority down, they serve; without prefetching they would not.
func TestPrefetchAcrossMidnight(t *testing.T) {
	for _, prefetch := range []bool{true, false} {
		a := newAuthority(t)
		alice := a.key("alice", credstore.CreateOptions{})
		a.clock.Set(time.Date(2026, 12, 3, 23, 40, 0, 0, time.UTC))
		eu := a.client("eu-gw", a.ca)
		ctx := context.Background()
		if _, _, err := eu.SigningKey(ctx, alice.AccessKeyID, sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}); err != nil {
			t.Fatal(err)
		}
		if prefetch {
			eu.Prefetch(ctx)
		}
		a.stop()
		a.clock.Set(time.Date(2026, 12, 4, 0, 20, 0, 0, time.UTC))
		_, _, err := eu.SigningKey(ctx, alice.AccessKeyID, sigv4.Scope{Date: "20261204", Region: "eu-west-1", Service: "s3"})
		switch {
		case prefetch && err != nil:
			t.Errorf("prefetched, past midnight with the authority down: %v", err)
		case !prefetch && code(err) != "ServiceUnavailable":
			t.Errorf("not prefetched: %v, want ServiceUnavailable", err)
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 5 s", what)
}

// TestMidnightMisses counts the requests that miss the cache in the first
// minutes after midnight for 50 access keys used before it, with prefetch
// and without: none with, one per key without.
func TestMidnightMisses(t *testing.T) {
	for _, prefetch := range []bool{true, false} {
		a := newAuthority(t)
		a.clock.Set(time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC))
		eu := a.client("eu-gw", a.ca)
		ctx := context.Background()
		var keys []sigv4.Credentials
		for i := range 50 {
			k := a.key("user"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26)), credstore.CreateOptions{})
			keys = append(keys, k)
			if _, _, err := eu.SigningKey(ctx, k.AccessKeyID, sigv4.Scope{Date: "20261203", Region: "eu-west-1", Service: "s3"}); err != nil {
				t.Fatal(err)
			}
		}
		if prefetch {
			eu.Prefetch(ctx)
		}
		_, before := eu.Stats()
		a.clock.Set(time.Date(2026, 12, 4, 0, 0, 5, 0, time.UTC))
		for _, k := range keys {
			if _, _, err := eu.SigningKey(ctx, k.AccessKeyID, sigv4.Scope{Date: "20261204", Region: "eu-west-1", Service: "s3"}); err != nil {
				t.Fatal(err)
			}
		}
		_, after := eu.Stats()
		t.Logf("prefetch %v: %d of 50 first requests after midnight missed the cache", prefetch, after-before)
		if want := map[bool]int64{true: 0, false: 50}[prefetch]; after-before != want {
			t.Errorf("prefetch %v: %d misses, want %d", prefetch, after-before, want)
		}
	}
}
