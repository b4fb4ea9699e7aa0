package credstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

var testScope = sigv4.Scope{Date: "20250601", Region: "us-east-1", Service: "s3"}

// flakyBackend fails every Get while fail is set, and counts Gets.
type flakyBackend struct {
	credstore.Backend
	fail atomic.Bool
	gets atomic.Int64
}

var errFlaky = errors.New("database is locked")

func (b *flakyBackend) Get(ctx context.Context, id string) (credstore.Record, error) {
	b.gets.Add(1)
	if b.fail.Load() {
		return credstore.Record{}, errFlaky
	}
	return b.Backend.Get(ctx, id)
}

func newFlakyStore(t *testing.T, opts *credstore.Options) (*credstore.Store, *flakyBackend) {
	t.Helper()
	sb, err := credstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "sigv4.db"))
	if err != nil {
		t.Fatal(err)
	}
	b := &flakyBackend{Backend: sb}
	s, err := credstore.New(t.Context(), b, make([]byte, credstore.SealingKeySize), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, b
}

// TestRefusalsBounded sprays more unknown access key IDs than the cache
// holds: the refusals cached stay within the bound, and the known key
// cached before stays cached.
func TestRefusalsBounded(t *testing.T) {
	const size = 64
	s, b := newFlakyStore(t, &credstore.Options{CacheSize: size})
	_, c, err := s.Create(t.Context(), "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SigningKey(t.Context(), c.AccessKeyID, testScope); err != nil {
		t.Fatal(err)
	}
	for i := range 10 * size {
		id := randomAccessKeyID()
		if _, _, err := s.SigningKey(t.Context(), id, testScope); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			t.Fatalf("unknown key: got %v", err)
		}
		if i%2 == 0 {
			s.PublicKey(t.Context(), id)
		}
		if keys, refusals := credstore.CacheSizes(s); keys != 1 || refusals > size {
			t.Fatalf("after %d unknown keys: %d keys and %d refusals cached, want 1 and at most %d", i+1, keys, refusals, size)
		}
	}
	gets := b.gets.Load()
	if _, _, err := s.SigningKey(t.Context(), c.AccessKeyID, testScope); err != nil || b.gets.Load() != gets {
		t.Errorf("the known key after the spray: %v, %d backend reads; want it cached", err, b.gets.Load()-gets)
	}
}

// TestCreatedAfterRefusal: a key created through the Store works at its
// first request, though its access key ID was refused (and the refusal
// cached) just before, when it did not exist.
func TestCreatedAfterRefusal(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, filepath.Join(t.TempDir(), "sigv4.db"))
	defer s.Close()
	const id = "AKIAQQQQQQQQQQQQQQQQ"
	for range 2 {
		if _, _, err := s.SigningKey(ctx, id, testScope); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			t.Fatalf("before Create: got %v, want ErrInvalidAccessKeyID", err)
		}
		if _, _, err := s.PublicKey(ctx, id); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			t.Fatalf("before Create: got %v, want ErrInvalidAccessKeyID", err)
		}
	}
	if _, refusals := credstore.CacheSizes(s); refusals != 1 {
		t.Fatalf("%d refusals cached, want 1", refusals)
	}
	defer credstore.SetAccessKeyIDs(id)()
	_, c, err := s.Create(ctx, "bob", credstore.CreateOptions{})
	if err != nil || c.AccessKeyID != id {
		t.Fatalf("Create: %s, %v; want %s", c.AccessKeyID, err, id)
	}
	if _, err := storetest.VerifyRequest(s, c, "us-east-1", "s3", time.Now()); err != nil {
		t.Errorf("SigV4, at once after Create: %v", err)
	}
	if _, _, err := s.PublicKey(ctx, id); err != nil {
		t.Errorf("SigV4a, at once after Create: %v", err)
	}
}

// TestBackendErrorsNotCached: a failed read is not a refusal: the next
// request reads again, and then the key works.
func TestBackendErrorsNotCached(t *testing.T) {
	ctx := t.Context()
	s, b := newFlakyStore(t, nil)
	_, c, err := s.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.fail.Store(true)
	for range 2 {
		if _, _, err := s.SigningKey(ctx, c.AccessKeyID, testScope); !errors.Is(err, errFlaky) || errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			t.Fatalf("failing backend: got %v, want its error", err)
		}
		if _, _, err := s.PublicKey(ctx, c.AccessKeyID); !errors.Is(err, errFlaky) {
			t.Fatalf("failing backend: got %v, want its error", err)
		}
	}
	if n := b.gets.Load(); n != 4 {
		t.Errorf("4 requests on a failing backend read it %d times, want 4", n)
	}
	if _, refusals := credstore.CacheSizes(s); refusals != 0 {
		t.Errorf("%d refusals cached from backend errors", refusals)
	}
	b.fail.Store(false)
	if _, err := storetest.VerifyRequest(s, c, "us-east-1", "s3", time.Now()); err != nil {
		t.Errorf("after the backend recovered: %v", err)
	}
}
