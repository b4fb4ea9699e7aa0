package sigv4

import (
	"context"
	"crypto/ecdsa"
	"sync"

	"github.com/sigv4/sigv4/internal/v4a"
)

// KeySource gives a Verifier the signing key of an access key for one scope.
// A verifier never needs the secret itself.
//
// For an access key it does not know (or no longer accepts), SigningKey
// returns an error matching ErrInvalidAccessKeyID. An *Error with a Code
// and Status (ErrServiceUnavailable's, say, when the keys are elsewhere
// and cannot be reached) is the client's answer as it is; any other error
// is reported to the client as InternalError. Implementations are called
// concurrently.
type KeySource interface {
	SigningKey(ctx context.Context, accessKeyID string, scope Scope) (SigningKey, Identity, error)
}

// PublicKeySource is a KeySource that can also check SigV4a
// (AWS4-ECDSA-P256-SHA256) signatures: it gives the public key of an access
// key. A Verifier whose Keys implement it verifies SigV4a requests; one that
// holds only public keys ([PublicKeyring]) holds no secret at all.
//
// For an access key it does not know, PublicKey returns an error matching
// ErrInvalidAccessKeyID.
type PublicKeySource interface {
	KeySource
	PublicKey(ctx context.Context, accessKeyID string) (*ecdsa.PublicKey, Identity, error)
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
	pub    *ecdsa.PublicKey // SigV4a, derived on first use
}

var _ PublicKeySource = (*Keyring)(nil)

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

// PublicKey implements PublicKeySource: the SigV4a public key of an access
// key, derived from its secret on first use and kept.
func (k *Keyring) PublicKey(_ context.Context, accessKeyID string) (*ecdsa.PublicKey, Identity, error) {
	k.mu.RLock()
	e, ok := k.secrets[accessKeyID]
	k.mu.RUnlock()
	if !ok {
		return nil, Identity{}, ErrInvalidAccessKeyID
	}
	if e.pub != nil {
		return e.pub, e.id, nil
	}
	priv, err := v4a.DeriveKey(accessKeyID, e.secret)
	if err != nil {
		return nil, Identity{}, err
	}
	k.mu.Lock()
	if cur, ok := k.secrets[accessKeyID]; ok && cur.secret == e.secret {
		cur.pub = &priv.PublicKey
		k.secrets[accessKeyID] = cur
	}
	k.mu.Unlock()
	return &priv.PublicKey, e.id, nil
}

// PublicKeyring is a PublicKeySource over SigV4a public keys only: a
// Verifier using it checks SigV4a signatures and holds no secret. SigV4
// requests, which need a secret, are refused as from an unknown key.
type PublicKeyring struct {
	mu   sync.RWMutex
	keys map[string]publicEntry
}

type publicEntry struct {
	pub *ecdsa.PublicKey
	id  Identity
}

var _ PublicKeySource = (*PublicKeyring)(nil)

// NewPublicKeyring returns an empty PublicKeyring.
func NewPublicKeyring() *PublicKeyring {
	return &PublicKeyring{keys: make(map[string]publicEntry)}
}

// Add adds or replaces the public key of id.AccessKeyID.
func (k *PublicKeyring) Add(pub *ecdsa.PublicKey, id Identity) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[id.AccessKeyID] = publicEntry{pub: pub, id: id}
}

// Remove removes an access key.
func (k *PublicKeyring) Remove(accessKeyID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, accessKeyID)
}

// SigningKey implements KeySource: a PublicKeyring has no secret, so every
// SigV4 request is from an unknown key.
func (k *PublicKeyring) SigningKey(context.Context, string, Scope) (SigningKey, Identity, error) {
	return SigningKey{}, Identity{}, ErrInvalidAccessKeyID
}

// PublicKey implements PublicKeySource.
func (k *PublicKeyring) PublicKey(_ context.Context, accessKeyID string) (*ecdsa.PublicKey, Identity, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.keys[accessKeyID]
	if !ok {
		return nil, Identity{}, ErrInvalidAccessKeyID
	}
	return e.pub, e.id, nil
}
