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
)

// flaky is a backend that fails its reads while down is set, as a
// database that stopped.
type flaky struct {
	credstore.Backend
	down atomic.Bool
}

var errDown = errors.New("connection refused")

func (f *flaky) Get(ctx context.Context, id string) (credstore.Record, error) {
	if f.down.Load() {
		return credstore.Record{}, errDown
	}
	return f.Backend.Get(ctx, id)
}

// TestBackendDown: with the backend down, a key read before keeps serving
// past the cache TTL; a key not read before is ServiceUnavailable, never
// an unknown key; back up, everything is read again.
func TestBackendDown(t *testing.T) {
	ctx := context.Background()
	b, err := credstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{Backend: b}
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	clock := func() time.Time { return *now.Load() }
	s, err := credstore.New(ctx, f, make([]byte, credstore.SealingKeySize), &credstore.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, alice, _ := s.Create(ctx, "alice", credstore.CreateOptions{})
	_, bob, _ := s.Create(ctx, "bob", credstore.CreateOptions{})
	scope := sigv4.Scope{Date: t0.UTC().Format("20060102"), Region: "us-east-1", Service: "s3"}
	if _, _, err := s.SigningKey(ctx, alice.AccessKeyID, scope); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	later := t0.Add(time.Hour) // far past the cache TTL
	now.Store(&later)
	if k, _, err := s.SigningKey(ctx, alice.AccessKeyID, scope); err != nil || k != sigv4.DeriveSigningKey(alice.SecretAccessKey, scope) {
		t.Errorf("a key read before, with the backend down: %v", err)
	}
	_, _, err = s.SigningKey(ctx, bob.AccessKeyID, scope)
	if !errors.Is(err, sigv4.ErrServiceUnavailable) || errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("a key not read before, with the backend down: %v, want ServiceUnavailable", err)
	}
	f.down.Store(false)
	if _, _, err := s.SigningKey(ctx, bob.AccessKeyID, scope); err != nil {
		t.Errorf("back up: %v", err)
	}
}
