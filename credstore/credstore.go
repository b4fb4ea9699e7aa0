// Package credstore keeps access keys: it creates them, seals their secrets
// at rest, and serves them to a sigv4.Verifier as a [sigv4.PublicKeySource]:
// SigV4 (AWS4-HMAC-SHA256) and SigV4a (AWS4-ECDSA-P256-SHA256) requests.
//
//	store, err := credstore.Open(ctx, "sqlite:./sigv4.db", nil)
//	...
//	key, creds, err := store.Create(ctx, "alice", credstore.CreateOptions{})
//	v := &sigv4.Verifier{Keys: store, Regions: []string{"*"}, Services: []string{"*"}}
//
// # Access keys
//
// A long-term access key ID is "AKIA" and 16 base32 characters; a temporary
// one (from [Store.Session], as STS GetSessionToken issues them) is "ASIA"
// and 16. A secret access key is 40 characters, as AWS makes them. The
// secret, and the session token of a temporary key, are returned once, by
// the call that creates them; the store keeps them only sealed.
//
// The principal of a long-term key is "arn:aws:iam::ACCOUNT:user/NAME"
// (ACCOUNT is [Options.AccountID]) unless [CreateOptions.Principal] says
// otherwise. A temporary key has the principal of its parent: STS answers
// GetCallerIdentity for GetSessionToken credentials with the IAM user's
// ARN, not an assumed-role ARN. A temporary key also inherits the parent's
// services and regions, and works only while the parent does: disabling,
// deleting or rotating the parent ends its sessions.
//
// # Sealing
//
// Secrets and session tokens are sealed with AES-256-GCM under a 32-byte
// sealing key, bound to the access key ID they belong to, so that a sealed
// secret copied to another row does not open. [Open] keeps the sealing key
// in a file, created on first use with mode 0600 next to the database
// ("sigv4.db.key"), and refuses to use a key file that its group or other
// users may read. It refuses as well a database or key file that another
// user owns or may write, and a directory that others may write without
// the sticky bit: another user could have planted the files before the
// first start, and would read every secret sealed after. The store
// records a fingerprint of its sealing key: a missing or different key
// file is an error at Open, not garbage at the first request. Whoever
// holds both the database and the key file holds every secret; keep the
// key file off backups of the database.
//
// # Revocation delay
//
// As a KeySource, a Store caches derived signing keys per access key and
// scope, and SigV4a public keys per access key, so a warm request reads no
// database. It caches refusals too (an access key unknown, disabled,
// deleted, expired, or a session whose parent no longer works; a scope the
// key may not sign), each after the database read that found it, in a
// cache of its own with the same bound ([Options.CacheSize]): so a prober
// repeating an access key ID learns nothing from the time its answer takes
// (only the first request per ID and TTL reads the database), and
// unknown IDs sprayed at the store evict no key. A database error is not
// cached.
//
// A change made through the same Store (Create, Enable, Disable, Delete,
// Rotate, Session) takes effect at once, on keys and refusals alike: a key
// created works at its first request even if its ID was refused before. A
// change made elsewhere (another process sharing the database, "sigv4
// keys disable" or "sigv4 keys enable" next to a running gateway) takes
// effect within [Options.CacheTTL], 5 seconds by default. An expiry takes
// effect on time: it is checked on every request. An expired long-term
// key is unknown (InvalidAccessKeyId); an expired session is still looked
// up, so that the Verifier checks its signature and token and then answers
// ExpiredToken, as AWS does.
//
// # SigV4a
//
// A Store gives a Verifier the SigV4a public key of an access key, derived
// from its secret ([Store.PublicKey]); clients sign with the private key
// they derive from the same secret. A SigV4a signature covers a region set
// ("*", or a list such as "us-east-1,us-west-2") in place of a region, and
// the store is not told the request's service or region set: the Verifier
// checks them against its own Regions and Services. So a key restricted
// to services or regions ([CreateOptions]) is refused for SigV4a
// (InvalidAccessKeyId), rather than let through unchecked; it still signs
// SigV4.
//
// # Backends
//
// A [Backend] stores [Record]s, with secrets already sealed; [Open] chooses
// one by URL. SQLite ("sqlite:PATH", or a bare PATH) is built in. Every
// backend passes the conformance suite in credstore/storetest.
package credstore

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
)

// Status is whether an access key may sign requests.
type Status string

const (
	Active   Status = "active"
	Disabled Status = "disabled"
)

// Key describes an access key. It holds no secret.
type Key struct {
	AccessKeyID string
	Name        string // the user the key belongs to: 1 to 64 of A-Z a-z 0-9 + = , . @ _ -
	Principal   string // an ARN, returned as sigv4.Identity.Principal
	Status      Status
	Created     time.Time
	LastUsed    time.Time // zero if never used; recorded within a minute (Options.LastUsedInterval)
	Expires     time.Time // zero if the key does not expire
	// Services and Regions, if not empty, are the only ones whose
	// credential scope the key may sign.
	Services []string
	Regions  []string
	// Parent is the long-term access key a temporary key was issued from;
	// empty for a long-term key.
	Parent string
}

// Temporary reports whether k is a session key, which needs its session token.
func (k Key) Temporary() bool { return k.Parent != "" }

// Expired reports whether k has expired at now. A key is good up to and
// including its expiry instant, as the Verifier counts it.
func (k Key) Expired(now time.Time) bool { return !k.Expires.IsZero() && now.After(k.Expires) }

// Allows reports whether k may sign requests of scope.
func (k Key) Allows(scope sigv4.Scope) bool {
	return (len(k.Services) == 0 || slices.Contains(k.Services, scope.Service)) &&
		(len(k.Regions) == 0 || slices.Contains(k.Regions, scope.Region))
}

// Record is an access key as a Backend stores it: its secret and session
// token sealed by the Store.
type Record struct {
	Key
	SealedSecret []byte
	SealedToken  []byte // nil for a long-term key
}

// LogValue keeps the sealed fields out of logs: sealed is not public.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", r.AccessKeyID), slog.String("name", r.Name),
		slog.String("status", string(r.Status)))
}

// Backend stores access key records. It never sees a secret in the clear.
// Its methods are called concurrently. Times are stored to the microsecond.
type Backend interface {
	// Insert adds a record, durably before it returns. It returns
	// ErrExists if the access key ID is taken.
	Insert(ctx context.Context, r Record) error
	// Get returns the record of an access key, or ErrNotFound.
	Get(ctx context.Context, accessKeyID string) (Record, error)
	// List returns every record, oldest first (by Created, then access key ID).
	List(ctx context.Context) ([]Record, error)
	// SetStatus sets the status of an access key, or returns ErrNotFound.
	SetStatus(ctx context.Context, accessKeyID string, s Status) error
	// Delete removes an access key and every record whose Parent it is,
	// or returns ErrNotFound.
	Delete(ctx context.Context, accessKeyID string) error
	// TouchLastUsed advances the LastUsed time of access keys; it never
	// moves one back, and ignores IDs it does not have.
	TouchLastUsed(ctx context.Context, used map[string]time.Time) error
	// BindSealingKey records the fingerprint of the sealing key on first
	// call; later it returns ErrWrongSealingKey if fingerprint differs
	// from the one recorded.
	BindSealingKey(ctx context.Context, fingerprint string) error
	Close() error
}

var (
	// ErrNotFound is returned for an access key the store does not have.
	ErrNotFound = errors.New("credstore: access key not found")
	// ErrExists is returned by Backend.Insert for an access key ID taken.
	ErrExists = errors.New("credstore: access key ID already exists")
	// ErrWrongSealingKey means the secrets of a store were sealed with
	// another key than the one given.
	ErrWrongSealingKey = errors.New("credstore: the store's secrets were sealed with another key")
	// ErrNotAllowed matches the error of SigningKey for a scope outside a
	// key's services or regions, and that of PublicKey for a key with
	// services or regions (which SigV4a does not let it check). Either
	// also matches sigv4.ErrInvalidAccessKeyID: the Verifier answers
	// InvalidAccessKeyId (403), as for an unknown key, which tells a
	// prober nothing more.
	ErrNotAllowed = errors.New("credstore: access key not allowed for this region or service")
)

// Options configure a Store. The zero value (or nil) is the documented
// default of every field.
type Options struct {
	// CacheTTL bounds how long a change made outside this Store (another
	// process, another Store on the same backend) takes to reach
	// SigningKey and PublicKey, be it a revocation or an Enable. Default 5
	// seconds; negative disables the cache, so that every request reads
	// the backend.
	CacheTTL time.Duration
	// CacheSize bounds the keys cached: one signing key per access key
	// and scope, one SigV4a public key per access key. It bounds the
	// refusals cached as well, separately: one per access key, or per
	// access key and scope for a scope the key may not sign. Default 4096.
	CacheSize int
	// LastUsedInterval is how often last-used times are written to the
	// backend (default 1 minute). Close writes the last ones.
	LastUsedInterval time.Duration
	// AccountID is the account of default principals (default "000000000000").
	AccountID string
	// KeyFile is the sealing key file for Open (default: the "keyfile"
	// URL parameter, or the database path + ".key").
	KeyFile string
	// MustExist makes Open fail, with an error matching fs.ErrNotExist,
	// rather than create a store.
	MustExist bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings (a failed last-used write); nil means slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultCacheTTL         = 5 * time.Second
	DefaultCacheSize        = 4096
	DefaultLastUsedInterval = time.Minute
	DefaultAccountID        = "000000000000"
)

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.CacheSize <= 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.LastUsedInterval <= 0 {
		c.LastUsedInterval = DefaultLastUsedInterval
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// storeTime is t as backends keep it: UTC, to the microsecond, without a
// monotonic reading.
func storeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// splitList parses a comma-separated list, as backends may keep Services
// and Regions.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
