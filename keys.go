package sigv4

import (
	"context"
	"sync"
)

// KeySource gives a Verifier the signing key of an access key for one scope.
// A verifier never needs the secret itself.
//
// For an access key it does not know (or no longer accepts), SigningKey
// returns an error matching ErrInvalidAccessKeyID; any other error is
// reported to the client as InternalError. Implementations are called
// concurrently.
type KeySource interface {
	SigningKey(ctx context.Context, accessKeyID string, scope Scope) (SigningKey, Identity, error)
}

// Keyring is a KeySource over secret access keys held in memory. It derives
// signing keys and keeps a bounded number of them, so a warm request costs
// no derivation. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	secrets map[string]ringEntry
	cache   *keyCache
}

type ringEntry struct {
	secret string
	id     Identity
}

var _ KeySource = (*Keyring)(nil)

// keyringCacheSize bounds the derived keys a Keyring keeps.
const keyringCacheSize = 4096

// NewKeyring returns a Keyring holding creds. A credential with a session
// token is temporary: requests signed with it must carry the token.
func NewKeyring(creds ...Credentials) *Keyring {
	k := &Keyring{secrets: make(map[string]ringEntry), cache: newKeyCache(keyringCacheSize)}
	for _, c := range creds {
		k.Add(c, Identity{})
	}
	return k
}

// Add adds or replaces a credential. id describes its owner; its
// AccessKeyID and SessionToken are taken from c.
func (k *Keyring) Add(c Credentials, id Identity) {
	id.AccessKeyID, id.SessionToken = c.AccessKeyID, c.SessionToken
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets[c.AccessKeyID] = ringEntry{secret: c.SecretAccessKey, id: id}
	k.cache.forget(c.AccessKeyID)
}

// Remove removes a credential. Requests signed with it fail from now on.
func (k *Keyring) Remove(accessKeyID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.secrets, accessKeyID)
	k.cache.forget(accessKeyID)
}

// SigningKey implements KeySource.
func (k *Keyring) SigningKey(_ context.Context, accessKeyID string, scope Scope) (SigningKey, Identity, error) {
	ck := cacheKey{accessKeyID, scope}
	if e, ok := k.cache.get(ck); ok {
		return e.key, e.id, nil
	}
	// The read lock is held until the key is cached, so that Add and Remove
	// (which forget under the write lock) cannot be overtaken by a stale put.
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.secrets[accessKeyID]
	if !ok {
		return SigningKey{}, Identity{}, ErrInvalidAccessKeyID
	}
	key := DeriveSigningKey(e.secret, scope)
	k.cache.put(ck, cacheEntry{key: key, id: e.id})
	return key, e.id, nil
}
