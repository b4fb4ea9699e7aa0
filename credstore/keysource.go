package credstore

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/v4a"
)

// SigningKey implements sigv4.KeySource. A key that is unknown, disabled,
// expired, deleted, or temporary with a parent that no longer works gives
// an error matching sigv4.ErrInvalidAccessKeyID; a scope outside the key's
// services or regions, one matching both that and ErrNotAllowed. Other
// errors are the backend's.
//
// A warm request reads no backend: the signing key is cached per access key
// and scope for Options.CacheTTL (see "Revocation delay" in the package
// documentation). So is a refusal, so that an unknown or disabled key
// costs what a known one costs, and tells a prober nothing by its timing;
// a backend error is not cached. The Identity carries the key's principal,
// its session token if temporary, and its expiry.
func (s *Store) SigningKey(ctx context.Context, accessKeyID string, scope sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	ck := cacheKey{accessKeyID: accessKeyID, scope: scope}
	e, ok, err := s.hit(ck, s.opts.Now()) // no closure to allocate when cached
	if !ok {
		e, err = s.signingEntry(ctx, ck)
	}
	if err != nil {
		return sigv4.SigningKey{}, sigv4.Identity{}, err
	}
	return e.key, e.id, nil
}

// signingEntry looks up, derives and caches a signing key.
func (s *Store) signingEntry(ctx context.Context, ck cacheKey) (*cacheEntry, error) {
	return s.entry(ctx, ck, &ck.scope, func(secret string) (*cacheEntry, error) {
		return &cacheEntry{key: sigv4.DeriveSigningKey(secret, ck.scope)}, nil
	})
}

// PublicKey implements sigv4.PublicKeySource: the SigV4a
// (AWS4-ECDSA-P256-SHA256) public key of an access key, derived from its
// secret as AWS derives it. It answers as SigningKey does: an unknown,
// disabled, deleted or expired long-term key, or a session whose parent no
// longer works, gives an error matching sigv4.ErrInvalidAccessKeyID; an
// expired session gives its key and Identity, so that the Verifier answers
// ExpiredToken; other errors are the backend's.
//
// The public key, or the refusal, is cached like a signing key: one entry
// per access key in the same bounded caches, for Options.CacheTTL, dropped
// at once by a change made through this Store (see "Revocation delay" in
// the package documentation). A warm request reads no backend and derives
// nothing.
//
// Services and Regions are not checked against the request: SigV4a signs
// a region set instead of a region, which the Verifier checks against its
// own Regions, and PublicKey is given no scope at all, neither a service
// nor a region. Rather than let a restricted key sign outside its
// restriction, PublicKey refuses a key that has Services or Regions (an
// error matching both ErrNotAllowed and sigv4.ErrInvalidAccessKeyID): such a
// key signs SigV4 only. The SigV4a requests of an unrestricted key are
// bounded by the Verifier's Regions and Services alone.
func (s *Store) PublicKey(ctx context.Context, accessKeyID string) (*ecdsa.PublicKey, sigv4.Identity, error) {
	e, err := s.entry(ctx, cacheKey{accessKeyID: accessKeyID, kind: publicKey}, nil, func(secret string) (*cacheEntry, error) {
		priv, err := v4a.DeriveKey(accessKeyID, secret)
		if err != nil {
			return nil, fmt.Errorf("credstore: deriving the SigV4a key of %s: %w", accessKeyID, err)
		}
		// A copy of the public half: a pointer into priv would keep the
		// private scalar alive as long as the cache entry.
		pub := priv.PublicKey
		return &cacheEntry{pub: &pub}, nil
	})
	if err != nil {
		return nil, sigv4.Identity{}, err
	}
	return e.pub, e.id, nil
}

// SigV2Signature implements sigv4.SigV2Source: the HMAC-SHA1 of AWS
// Signature Version 2, which signs with the secret itself. It answers as
// SigningKey does for Amazon S3 in no region: SigV2 signs no region, so a
// key restricted to regions is refused, as is one restricted to services
// without "s3" (errors matching both ErrNotAllowed and
// sigv4.ErrInvalidAccessKeyID).
//
// The secret, or the refusal, is cached like a signing key, one entry per
// access key: a Store whose Verifier accepts SigV2 holds, unsealed in
// memory for Options.CacheTTL, the secrets of the keys that signed with
// it (and only those).
func (s *Store) SigV2Signature(ctx context.Context, accessKeyID string, stringToSign []byte) ([]byte, sigv4.Identity, error) {
	e, err := s.entry(ctx, cacheKey{accessKeyID: accessKeyID, kind: sigV2Secret}, &sigv4.Scope{Service: "s3"}, func(secret string) (*cacheEntry, error) {
		return &cacheEntry{secret: secret}, nil
	})
	if err != nil {
		return nil, sigv4.Identity{}, err
	}
	return sigv4.SigV2MAC(e.secret, stringToSign), e.id, nil
}

// entry answers for ck from the cache, or reads the access key, checks it
// may sign for scope (nil: SigV4a, see lookup), and caches what build
// makes of its secret, or the refusal.
func (s *Store) entry(ctx context.Context, ck cacheKey, scope *sigv4.Scope, build func(secret string) (*cacheEntry, error)) (*cacheEntry, error) {
	now := s.opts.Now()
	if e, ok, err := s.hit(ck, now); ok {
		return e, err
	}
	s.misses.Add(1)
	if err := checkAccessKeyID(ck.accessKeyID); err != nil {
		return nil, err
	}
	epoch := s.cache.currentEpoch()
	id, secret, err := s.lookup(ctx, ck.accessKeyID, scope, now)
	if err != nil && !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		// The backend failed (a database down): a key read before keeps
		// serving, as long as the key itself has not expired; any other
		// is ServiceUnavailable, never an unknown key.
		if e := s.cache.stale(ck, now); e != nil {
			s.markUsed(e, ck.accessKeyID, now)
			return e, nil
		}
		return nil, fmt.Errorf("credstore: %w: %w", sigv4.ErrServiceUnavailable, err)
	}
	if err != nil {
		s.cache.refuse(ck, err, epoch, now)
		return nil, err
	}
	e, err := build(secret)
	if err != nil {
		return nil, err
	}
	e.id, e.fetched = id, now
	s.cache.put(ck, e, epoch, now)
	s.markUsed(e, ck.accessKeyID, now)
	return e, nil
}

// hit answers from the cache, with a key or a refusal, if it can (ok).
func (s *Store) hit(ck cacheKey, now time.Time) (e *cacheEntry, ok bool, err error) {
	if e := s.cache.get(ck, now); e != nil {
		s.hits.Add(1)
		s.markUsed(e, ck.accessKeyID, now)
		return e, true, nil
	}
	if err := s.cache.refused(ck, now); err != nil {
		s.hits.Add(1)
		return nil, true, err
	}
	return nil, false, nil
}

// CacheStats returns how many SigningKey and PublicKey calls were answered
// from the cache (with a key or a refusal) and how many were not (each of
// which read the backend, unless the access key ID was malformed).
func (s *Store) CacheStats() (hits, misses uint64) {
	return s.hits.Load(), s.misses.Load()
}

// checkAccessKeyID refuses a malformed access key ID before any lookup,
// faster than a cached answer. That tells a prober only that the ID is not
// of the form this package makes, which is public (see "Access keys" in
// the package documentation), not whether a key exists.
func checkAccessKeyID(accessKeyID string) error {
	if !validAccessKeyID(accessKeyID) {
		return invalidKey(accessKeyID, "does not exist")
	}
	return nil
}

// lookup reads an access key and decides whether it may sign for scope. A
// nil scope is a SigV4a request's, which names no region: only a key
// without restrictions may sign it.
func (s *Store) lookup(ctx context.Context, accessKeyID string, scope *sigv4.Scope, now time.Time) (sigv4.Identity, string, error) {
	r, err := s.b.Get(ctx, accessKeyID)
	if errors.Is(err, ErrNotFound) {
		return sigv4.Identity{}, "", invalidKey(accessKeyID, "does not exist")
	}
	if err != nil {
		return sigv4.Identity{}, "", err
	}
	// An expired session is still looked up: the Verifier checks its
	// signature and token, then answers ExpiredToken, as AWS does, from
	// the expiry in the Identity.
	expiredSession := r.Temporary() && r.Status == Active && r.Expired(now)
	if err := usable(r.Key, now); err != nil && !expiredSession {
		return sigv4.Identity{}, "", err
	}
	if r.Temporary() {
		p, err := s.b.Get(ctx, r.Parent)
		if errors.Is(err, ErrNotFound) {
			return sigv4.Identity{}, "", invalidKey(accessKeyID, "was issued from a deleted key")
		}
		if err != nil {
			return sigv4.Identity{}, "", err
		}
		if err := usable(p.Key, now); err != nil {
			return sigv4.Identity{}, "", fmt.Errorf("credstore: session %s: %w", accessKeyID, err)
		}
	}
	switch {
	case scope == nil && (len(r.Services) > 0 || len(r.Regions) > 0):
		return sigv4.Identity{}, "", &notAllowedError{accessKeyID: accessKeyID}
	case scope != nil && !r.Allows(*scope):
		return sigv4.Identity{}, "", &notAllowedError{accessKeyID, scope}
	}
	secret, err := s.sealer.open("secret", accessKeyID, r.SealedSecret)
	if err != nil {
		return sigv4.Identity{}, "", err
	}
	id := sigv4.Identity{AccessKeyID: accessKeyID, Principal: r.Principal, Expiration: r.Expires}
	if r.Temporary() {
		if id.SessionToken, err = s.sealer.open("token", accessKeyID, r.SealedToken); err != nil {
			return sigv4.Identity{}, "", err
		}
	}
	return id, secret, nil
}

func usable(k Key, now time.Time) error {
	switch {
	case k.Status != Active:
		return invalidKey(k.AccessKeyID, "is "+string(k.Status))
	case k.Expired(now):
		return invalidKey(k.AccessKeyID, "has expired")
	}
	return nil
}

func invalidKey(accessKeyID, why string) error {
	return fmt.Errorf("credstore: access key %s %s: %w", accessKeyID, why, sigv4.ErrInvalidAccessKeyID)
}

type notAllowedError struct {
	accessKeyID string
	scope       *sigv4.Scope // nil: a SigV4a request
}

func (e *notAllowedError) Error() string {
	switch {
	case e.scope == nil:
		return fmt.Sprintf("credstore: access key %s is restricted to services or regions, which SigV4a does not let the store check: it may sign SigV4 requests only", e.accessKeyID)
	case e.scope.Region == "":
		return fmt.Sprintf("credstore: access key %s is restricted to regions, which SigV2 does not sign, or to services without s3: it may not sign SigV2 requests", e.accessKeyID)
	}
	return fmt.Sprintf("credstore: access key %s may not sign for service %q in region %q", e.accessKeyID, e.scope.Service, e.scope.Region)
}

func (e *notAllowedError) Is(target error) bool {
	return target == ErrNotAllowed || errors.Is(sigv4.ErrInvalidAccessKeyID, target)
}

// keyCache holds the signing keys of a bounded number of (access key,
// scope) pairs, and the SigV4a public keys of access keys, each for ttl
// from when it was read. It holds as well, in a map of its own with the
// same bound, the refusals of a bounded number of access keys, so that
// refusals sprayed by a prober evict no key. invalidate empties both and
// moves the epoch on, so that a lookup that read the backend before a
// change cannot store what it read after the change.
type keyCache struct {
	mu       sync.RWMutex
	max      int
	ttl      time.Duration // negative: cache nothing
	epoch    uint64
	keys     map[cacheKey]*cacheEntry
	refusals map[refusalKey]refusal
}

type cacheKey struct {
	accessKeyID string
	scope       sigv4.Scope // zero but for a signing key
	kind        entryKind
}

// entryKind is what a cache entry holds for an access key.
type entryKind uint8

const (
	signingKey  entryKind = iota // the signing key of a scope
	publicKey                    // the SigV4a public key
	sigV2Secret                  // the secret, for SigV2
)

type cacheEntry struct {
	key     sigv4.SigningKey
	pub     *ecdsa.PublicKey // set instead of key for a public key
	secret  string           // set instead of key for SigV2
	id      sigv4.Identity
	fetched time.Time    // taken before the backend read
	usedSec atomic.Int64 // last second a use was noted, to note one per second
}

// refusalKey names a cached refusal: of an access key for any request
// (anyScope: unknown, disabled, expired, its parent gone), or of one
// cacheKey (a scope outside the key's services or regions).
type refusalKey struct {
	cacheKey
	anyScope bool
}

type refusal struct {
	err     error     // matches sigv4.ErrInvalidAccessKeyID
	fetched time.Time // taken before the backend read
}

func (c *keyCache) init(max int, ttl time.Duration) {
	c.max, c.ttl = max, ttl
	c.keys, c.refusals = make(map[cacheKey]*cacheEntry), make(map[refusalKey]refusal)
}

// fresh reports whether e may still be used at now: within ttl of its read
// (a clock gone backwards does not extend that) and not expired.
func (c *keyCache) fresh(e *cacheEntry, now time.Time) bool {
	return c.young(e.fetched, now) && (e.id.Expiration.IsZero() || !now.After(e.id.Expiration))
}

func (c *keyCache) young(fetched, now time.Time) bool {
	age := now.Sub(fetched)
	return age >= 0 && age < c.ttl
}

func (c *keyCache) get(k cacheKey, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.keys[k]
	c.mu.RUnlock()
	if e == nil || !c.fresh(e, now) {
		return nil
	}
	return e
}

// stale returns the entry of k however old, if its key has not expired:
// what serves while the backend cannot be read. An entry that a change
// through this process invalidated is gone, not stale.
func (c *keyCache) stale(k cacheKey, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.keys[k]
	c.mu.RUnlock()
	if e == nil || (!e.id.Expiration.IsZero() && now.After(e.id.Expiration)) {
		return nil
	}
	return e
}

func (c *keyCache) currentEpoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

func (c *keyCache) put(k cacheKey, e *cacheEntry, epoch uint64, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if len(c.keys) >= c.max {
		evict(c.keys, c.max, func(e *cacheEntry) bool { return !c.fresh(e, now) })
	}
	c.keys[k] = e
}

// anyScope is the refusalKey of an access key's refusal of any request.
func anyScope(accessKeyID string) refusalKey {
	return refusalKey{cacheKey: cacheKey{accessKeyID: accessKeyID}, anyScope: true}
}

// refused returns the cached refusal of k, if any.
func (c *keyCache) refused(k cacheKey, now time.Time) error {
	c.mu.RLock()
	r, ok := c.refusals[anyScope(k.accessKeyID)]
	if !ok {
		r, ok = c.refusals[refusalKey{cacheKey: k}]
	}
	c.mu.RUnlock()
	if !ok || !c.young(r.fetched, now) {
		return nil
	}
	return r.err
}

// refuse caches err, the answer of a lookup of k begun at epoch and now,
// if it is a refusal: by the KeySource contract, an error matching
// sigv4.ErrInvalidAccessKeyID. Any other error is the backend's, for the
// next request to try again.
func (c *keyCache) refuse(k cacheKey, err error, epoch uint64, now time.Time) {
	if c.ttl < 0 || !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		return
	}
	rk := anyScope(k.accessKeyID)
	if errors.Is(err, ErrNotAllowed) {
		rk = refusalKey{cacheKey: k}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if len(c.refusals) >= c.max {
		evict(c.refusals, c.max, func(r refusal) bool { return !c.young(r.fetched, now) })
	}
	c.refusals[rk] = refusal{err: err, fetched: now}
}

// evict drops the entries of m that are stale, and if that frees less than
// an eighth of max, arbitrary ones up to that, so that the next puts are
// cheap.
func evict[K comparable, V any](m map[K]V, max int, stale func(V) bool) {
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= max-max/8-1 {
			break
		}
		delete(m, k)
	}
}

// invalidate forgets everything: a key changed.
func (c *keyCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.keys)
	clear(c.refusals)
}

// created forgets the refusal of a new access key ID (which a prober may
// have tried before it existed), and moves the epoch on, so that a lookup
// that read the backend before the key existed cannot cache its refusal
// after. The keys cached stay.
func (c *keyCache) created(accessKeyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.refusals, anyScope(accessKeyID))
}

// sizes returns how many keys and refusals are cached.
func (c *keyCache) sizes() (keys, refusals int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys), len(c.refusals)
}

// markUsed notes a use of an access key, at most once a second per cache
// entry, for the next write of last-used times.
func (s *Store) markUsed(e *cacheEntry, accessKeyID string, now time.Time) {
	sec := now.Unix()
	if old := e.usedSec.Load(); old == sec || !e.usedSec.CompareAndSwap(old, sec) {
		return
	}
	s.usedMu.Lock()
	if now.After(s.used[accessKeyID]) {
		s.used[accessKeyID] = now
	}
	s.usedMu.Unlock()
}

// withPendingUse returns k with a use not yet written, if later.
func (s *Store) withPendingUse(k Key) Key {
	s.usedMu.Lock()
	t := s.used[k.AccessKeyID]
	s.usedMu.Unlock()
	if t.After(k.LastUsed) {
		k.LastUsed = storeTime(t)
	}
	return k
}

// writeLastUsed writes last-used times every LastUsedInterval until Close.
func (s *Store) writeLastUsed() {
	defer close(s.done)
	t := time.NewTicker(s.opts.LastUsedInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.flushLastUsed()
		}
	}
}

// flushLastUsed writes the pending last-used times; on failure it keeps
// them for the next try.
func (s *Store) flushLastUsed() error {
	s.usedMu.Lock()
	batch := s.used
	s.used = make(map[string]time.Time)
	s.usedMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	for id, t := range batch {
		batch[id] = storeTime(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.b.TouchLastUsed(ctx, batch)
	if err != nil {
		s.opts.Logger.Warn("credstore: writing last-used times", "keys", len(batch), "err", err)
		s.usedMu.Lock()
		for id, t := range batch {
			if t.After(s.used[id]) {
				s.used[id] = t
			}
		}
		s.usedMu.Unlock()
	}
	return err
}

// LogValue keeps the cache (signing keys, session tokens) out of logs.
func (s *Store) LogValue() slog.Value {
	hits, misses := s.CacheStats()
	return slog.GroupValue(slog.Uint64("cache_hits", hits), slog.Uint64("cache_misses", misses))
}
