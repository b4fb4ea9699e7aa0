package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/sigv4/sigv4/internal/canonical"
)

// SigningKey is the key that signs one day's requests for one region and
// service: HMAC chain of "AWS4"+secret, date, region, service, "aws4_request".
// It is all a verifier needs, and it is useless outside its scope.
type SigningKey [sha256.Size]byte

// DeriveSigningKey derives the signing key for a secret access key and scope.
func DeriveSigningKey(secretAccessKey string, scope Scope) SigningKey {
	k := hmacSum([]byte("AWS4"+secretAccessKey), scope.Date)
	k = hmacSum(k[:], scope.Region)
	k = hmacSum(k[:], scope.Service)
	return SigningKey(hmacSum(k[:], canonical.Terminal))
}

func hmacSum(key []byte, data string) (out [sha256.Size]byte) {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	h.Sum(out[:0])
	return out
}

// macKey is a signing key prepared for HMAC: the SHA-256 states after the
// inner and outer pad blocks, so that each signature hashes only the string
// to sign and the inner digest.
type macKey struct {
	inner, outer []byte // marshaled sha256 states
}

func newMACKey(k SigningKey) *macKey {
	var ipad, opad [sha256.BlockSize]byte
	for i := range ipad {
		var c byte
		if i < len(k) {
			c = k[i]
		}
		ipad[i], opad[i] = c^0x36, c^0x5c
	}
	h := sha256.New()
	h.Write(ipad[:])
	inner, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	h.Reset()
	h.Write(opad[:])
	outer, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	return &macKey{inner: inner, outer: outer}
}

// sum returns HMAC-SHA256(key, msg). h (a sha256 hash) and buf (of
// capacity sha256.Size at least) are scratch; passing them in keeps the
// digest off the heap.
func (m *macKey) sum(h hash.Hash, buf, msg []byte) (out [sha256.Size]byte) {
	u := h.(encoding.BinaryUnmarshaler)
	u.UnmarshalBinary(m.inner) // a state MarshalBinary made: cannot fail
	h.Write(msg)
	inner := h.Sum(buf[:0])
	u.UnmarshalBinary(m.outer)
	h.Write(inner)
	copy(out[:], h.Sum(buf[:0]))
	return out
}

// macCache keeps prepared keys by signing key value, so that a verifier
// prepares each day's key once. The value is the key: nothing goes stale.
// It is direct-mapped by the key's first bytes (uniformly random, and not
// chosen by clients): a lookup is one atomic load and one comparison, and
// a collision costs only the preparation of the key again.
type macCache struct {
	slots [macCacheSize]atomic.Pointer[macEntry]
}

type macEntry struct {
	key SigningKey
	mac *macKey
}

const macCacheSize = 1024 // a power of two

func (c *macCache) get(k SigningKey) *macKey {
	slot := &c.slots[binary.LittleEndian.Uint16(k[:])%macCacheSize]
	if e := slot.Load(); e != nil && e.key == k {
		return e.mac
	}
	m := newMACKey(k)
	slot.Store(&macEntry{key: k, mac: m})
	return m
}

// keyCache holds derived signing keys for a bounded number of
// (access key, scope) pairs. It is filled only with keys that a source
// vouched for: never with the dummy key of an unknown access key.
type keyCache struct {
	mu   sync.RWMutex
	max  int
	keys map[cacheKey]cacheEntry
}

type cacheKey struct {
	accessKeyID string
	scope       Scope
}

type cacheEntry struct {
	key SigningKey
	id  Identity
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, keys: make(map[cacheKey]cacheEntry)}
}

func (c *keyCache) get(k cacheKey) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.keys[k]
	c.mu.RUnlock()
	return e, ok
}

func (c *keyCache) put(k cacheKey, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= c.max {
		c.evict()
	}
	c.keys[k] = e
}

// evict drops every entry of the oldest day present, or one arbitrary
// entry when all are of the same day: a full cache is mostly yesterday's.
func (c *keyCache) evict() {
	oldest := ""
	for ck := range c.keys {
		if oldest == "" || ck.scope.Date < oldest {
			oldest = ck.scope.Date
		}
	}
	n := len(c.keys)
	for ck := range c.keys {
		if ck.scope.Date == oldest {
			delete(c.keys, ck)
		}
	}
	if len(c.keys) == n || len(c.keys) >= c.max {
		for ck := range c.keys {
			delete(c.keys, ck)
			break
		}
	}
}

// forget removes every entry of one access key.
func (c *keyCache) forget(accessKeyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ck := range c.keys {
		if ck.accessKeyID == accessKeyID {
			delete(c.keys, ck)
		}
	}
}
