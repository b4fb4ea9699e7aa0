// Package replay refuses a signed request seen before: a cache of what
// accepted requests signed, each kept until its signature expires. Keys
// are the SHA-256 of what was signed (the algorithm, the time, the scope
// and the canonical request's hash), not of the signature: an ECDSA
// signature can be re-encoded and still verify.
//
// [Memory] serves one process; [Redis] a fleet of gateways, so that a
// request accepted by one is refused by every other.
package replay

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sigv4/sigv4"
)

// Cache records what accepted requests signed.
type Cache interface {
	// Seen records key until expires and reports whether it was already
	// recorded (a replay). An error means the cache cannot say.
	Seen(ctx context.Context, key Key, expires time.Time) (bool, error)
}

// Key names what a request signed.
type Key [sha256.Size]byte

// KeyOf is the key of a verified request.
func KeyOf(res *sigv4.Result) Key {
	h := sha256.New()
	h.Write([]byte(res.Algorithm))
	h.Write([]byte{0})
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(res.Time.Unix()))
	h.Write(t[:])
	h.Write([]byte(res.Scope.String()))
	h.Write([]byte{0})
	h.Write(res.CanonicalRequestHash[:])
	if res.Presigned {
		h.Write([]byte{1})
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// Memory is a Cache in this process's memory, bounded: past Max entries,
// expired ones go, then a new request is refused as the cache is full
// (ErrFull), rather than a replay let through.
type Memory struct {
	// Max bounds the entries (default 1 000 000, about 100 MB).
	Max int
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu sync.Mutex
	m  map[Key]time.Time
}

// ErrFull is Memory's answer when it holds Max unexpired entries.
var ErrFull = errors.New("replay: the cache is full")

// Seen implements Cache.
func (c *Memory) Seen(_ context.Context, key Key, expires time.Time) (bool, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[Key]time.Time{}
	}
	if until, ok := c.m[key]; ok && now.Before(until) {
		return true, nil
	}
	max := c.Max
	if max <= 0 {
		max = 1_000_000
	}
	if len(c.m) >= max {
		for k, until := range c.m {
			if !now.Before(until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= max {
			return false, ErrFull
		}
	}
	c.m[key] = expires
	return false, nil
}

// Redis is a Cache on Redis: SET key NX with the signature's expiry, so
// that one accepted request is refused by every gateway on the same Redis.
type Redis struct {
	Client redis.UniversalClient
	// Prefix namespaces the keys (default "sigv4:replay:").
	Prefix string
}

// NewRedis connects to the Redis of url (redis://host:port/db).
func NewRedis(url string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second, time.Second
	opts.MaxRetries = 0 // a request waits for no retry: the gateway's choice decides
	return &Redis{Client: redis.NewClient(opts)}, nil
}

// Seen implements Cache.
func (c *Redis) Seen(ctx context.Context, key Key, expires time.Time) (bool, error) {
	prefix := c.Prefix
	if prefix == "" {
		prefix = "sigv4:replay:"
	}
	ttl := time.Until(expires)
	if ttl < time.Second {
		ttl = time.Second
	}
	ok, err := c.Client.SetNX(ctx, prefix+string(key[:]), 1, ttl).Result()
	if err != nil {
		return false, err
	}
	return !ok, nil
}

// Ping reports whether Redis answers.
func (c *Redis) Ping(ctx context.Context) error { return c.Client.Ping(ctx).Err() }
