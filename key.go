package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"

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

// macKey is a signing key with its HMAC pads computed once, so that signing
// a string costs two SHA-256 sums and no allocation.
type macKey struct {
	ipad, opad [sha256.BlockSize]byte
}

func newMACKey(k SigningKey) *macKey {
	m := new(macKey)
	for i := range m.ipad {
		var c byte
		if i < len(k) {
			c = k[i]
		}
		m.ipad[i], m.opad[i] = c^0x36, c^0x5c
	}
	return m
}

// sum returns HMAC-SHA256(key, msg[blockSize:]). The first BlockSize bytes
// of msg are reserved for the inner pad and are overwritten.
func (m *macKey) sum(msg []byte) [sha256.Size]byte {
	copy(msg, m.ipad[:])
	inner := sha256.Sum256(msg)
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], m.opad[:])
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
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
