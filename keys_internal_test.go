package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
)

func TestKeyringCachesOnlyKnownKeys(t *testing.T) {
	ring := NewKeyring(Credentials{AccessKeyID: "AKIDKNOWN", SecretAccessKey: "s"})
	scope := Scope{Date: "20261124", Region: "us-east-1", Service: "s3"}
	for i := range 100 {
		_, _, err := ring.SigningKey(context.Background(), fmt.Sprintf("AKIDUNKNOWN%d", i), scope)
		if !errors.Is(err, ErrInvalidAccessKeyID) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if n := len(ring.cache.keys); n != 0 {
		t.Fatalf("%d cache entries after unknown keys only", n)
	}
	key, id, err := ring.SigningKey(context.Background(), "AKIDKNOWN", scope)
	if err != nil || id.AccessKeyID != "AKIDKNOWN" || key != DeriveSigningKey("s", scope) {
		t.Fatalf("known key: %v %v", id, err)
	}
	if n := len(ring.cache.keys); n != 1 {
		t.Fatalf("%d cache entries, want 1", n)
	}
	ring.Remove("AKIDKNOWN")
	if _, _, err := ring.SigningKey(context.Background(), "AKIDKNOWN", scope); !errors.Is(err, ErrInvalidAccessKeyID) || len(ring.cache.keys) != 0 {
		t.Fatalf("after Remove: %v, %d cache entries", err, len(ring.cache.keys))
	}
}

func TestDummyKeysByScopeOnly(t *testing.T) {
	v := &Verifier{}
	scope := Scope{Date: "20261124", Region: "us-east-1", Service: "s3"}
	k1 := v.dummyKey(scope)
	if k2 := v.dummyKey(scope); k1 != k2 || len(v.dummyKeys.keys) != 1 {
		t.Fatalf("dummy key not stable or not cached by scope: %d entries", len(v.dummyKeys.keys))
	}
	other := scope
	other.Date = "20261125"
	if v.dummyKey(other) == k1 || len(v.dummyKeys.keys) != 2 {
		t.Fatal("dummy keys of two scopes are equal, or not cached")
	}
	if (&Verifier{}).dummyKey(scope) == k1 {
		t.Fatal("two verifiers share a dummy secret")
	}
}

func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache(8)
	for day := range 3 {
		for i := range 20 {
			c.put(cacheKey{fmt.Sprint(i), Scope{Date: fmt.Sprint(20260101 + day)}}, cacheEntry{})
			if len(c.keys) > 8 {
				t.Fatalf("cache holds %d entries, bound 8", len(c.keys))
			}
		}
	}
}

// TestMACCache checks that a cached key is the key asked for, also when two
// keys share a slot and evict each other.
func TestMACCache(t *testing.T) {
	var c macCache
	msg := []byte("AWS4-HMAC-SHA256\n20240517T123456Z\n20240517/us-east-1/s3/aws4_request\nabc")
	a := DeriveSigningKey("secret-a", Scope{Date: "20240517", Region: "us-east-1", Service: "s3"})
	b := a
	b[31] ^= 1 // same slot, other key
	h, buf := sha256.New(), make([]byte, 0, sha256.Size)
	for range 3 {
		for _, k := range []SigningKey{a, b, a, a, b} {
			mac := hmac.New(sha256.New, k[:])
			mac.Write(msg)
			if got := c.get(k).sum(h, buf, msg); !bytes.Equal(got[:], mac.Sum(nil)) {
				t.Fatalf("key %x: cached MAC differs from HMAC-SHA256", k[:4])
			}
		}
	}
	if c.get(a) != c.get(a) {
		t.Error("a key asked for twice in a row was prepared twice")
	}
}
