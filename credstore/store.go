package credstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigv4/sigv4"
)

// Store manages access keys over a Backend and serves them as a
// sigv4.PublicKeySource: the signing keys of SigV4 and the public keys of
// SigV4a. It is safe for concurrent use.
type Store struct {
	b      Backend
	sealer *sealer
	opts   Options

	cache        keyCache
	hits, misses atomic.Uint64

	usedMu sync.Mutex
	used   map[string]time.Time // last-used times not yet written

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error

	// A backend shared by several processes (PostgreSQL) reports their
	// changes: see newStore.
	stopWatch func()
	watched   <-chan struct{}
	notified  atomic.Uint64
	lagNanos  atomic.Int64
}

var (
	_ sigv4.PublicKeySource = (*Store)(nil)
	_ sigv4.SigV2Source     = (*Store)(nil)
)

// New returns a Store over b whose secrets are sealed with sealingKey
// (SealingKeySize random bytes). It fails with ErrWrongSealingKey if b
// holds secrets sealed with another key. Close closes b.
func New(ctx context.Context, b Backend, sealingKey []byte, opts *Options) (*Store, error) {
	s, err := newSealer(sealingKey)
	if err != nil {
		return nil, err
	}
	if err := b.BindSealingKey(ctx, s.fingerprint); err != nil {
		return nil, err
	}
	return newStore(b, s, opts), nil
}

func newStore(b Backend, s *sealer, opts *Options) *Store {
	st := &Store{b: b, sealer: s, opts: opts.withDefaults(), used: make(map[string]time.Time),
		stop: make(chan struct{}), done: make(chan struct{})}
	st.cache.init(st.opts.CacheSize, st.opts.CacheTTL)
	go st.writeLastUsed()
	if w, ok := b.(watcher); ok {
		// Another process's change drops this one's cache at once; after a
		// lost connection, everything it may have missed.
		ctx, cancel := context.WithCancel(context.Background())
		st.stopWatch = cancel
		watched := make(chan struct{})
		st.watched = watched
		go func() {
			defer close(watched)
			w.Watch(ctx, func(_ string, at time.Time) {
				st.cache.invalidate()
				st.notified.Add(1)
				if !at.IsZero() {
					st.lagNanos.Store(int64(time.Since(at)))
				}
			})
		}()
	}
	return st
}

// Notified reports how many change notifications from other processes
// (and reconnections of the listener) this Store has applied.
func (s *Store) Notified() uint64 { return s.notified.Load() }

// NotifyLag is how long the last change notification took from the
// change's commit to this Store (zero before the first, and for a backend
// that has none).
func (s *Store) NotifyLag() time.Duration { return time.Duration(s.lagNanos.Load()) }

// Ping reports whether the backend answers (a database that cannot be
// reached is an error; cached keys still serve meanwhile).
func (s *Store) Ping(ctx context.Context) error {
	if p, ok := s.b.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close writes the pending last-used times and closes the backend.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
			<-s.watched
		}
		close(s.stop)
		<-s.done
		s.closeErr = errors.Join(s.flushLastUsed(), s.b.Close())
	})
	return s.closeErr
}

// CreateOptions describe a new long-term access key. The zero value is a
// key for every service and region that never expires.
type CreateOptions struct {
	// Principal defaults to "arn:aws:iam::ACCOUNT:user/NAME".
	Principal string
	// Expires, if set, must be in the future.
	Expires time.Time
	// Services and Regions, if set, are the only ones the key may sign for.
	Services []string
	Regions  []string
}

// Create makes a long-term access key for the user name. The secret is in
// the returned credentials only: it cannot be read back.
func (s *Store) Create(ctx context.Context, name string, opts CreateOptions) (Key, sigv4.Credentials, error) {
	if err := checkName(name); err != nil {
		return Key{}, sigv4.Credentials{}, err
	}
	if err := checkScopeNames("service", opts.Services); err != nil {
		return Key{}, sigv4.Credentials{}, err
	}
	if err := checkScopeNames("region", opts.Regions); err != nil {
		return Key{}, sigv4.Credentials{}, err
	}
	now := s.opts.Now()
	if !opts.Expires.IsZero() && !opts.Expires.After(now) {
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: expiry %s is not in the future", opts.Expires.UTC().Format(time.RFC3339))
	}
	if opts.Principal == "" {
		opts.Principal = "arn:aws:iam::" + s.opts.AccountID + ":user/" + name
	}
	k := Key{
		Name: name, Principal: opts.Principal, Status: Active, Created: storeTime(now),
		Expires: storeTime(opts.Expires), Services: opts.Services, Regions: opts.Regions,
	}
	return s.insert(ctx, k, "")
}

// insert stores k under a new access key ID with a new secret (and token,
// if not empty), and returns them.
func (s *Store) insert(ctx context.Context, k Key, token string) (Key, sigv4.Credentials, error) {
	prefix := LongTermPrefix
	if k.Temporary() {
		prefix = TemporaryPrefix
	}
	for range 3 { // an ID collision is a 2^-80 event, or a broken random source
		k.AccessKeyID = newAccessKeyID(prefix)
		creds := sigv4.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: newSecret(), SessionToken: token}
		r := Record{Key: k, SealedSecret: s.sealer.seal("secret", k.AccessKeyID, creds.SecretAccessKey)}
		if token != "" {
			r.SealedToken = s.sealer.seal("token", k.AccessKeyID, token)
		}
		err := s.b.Insert(ctx, r)
		if errors.Is(err, ErrExists) {
			continue
		}
		if err != nil {
			return Key{}, sigv4.Credentials{}, err
		}
		s.cache.created(k.AccessKeyID)
		return k, creds, nil
	}
	return Key{}, sigv4.Credentials{}, errors.New("credstore: no free access key ID after 3 tries")
}

// Get returns an access key, or an error matching ErrNotFound.
func (s *Store) Get(ctx context.Context, accessKeyID string) (Key, error) {
	r, err := s.b.Get(ctx, accessKeyID)
	if err != nil {
		return Key{}, notFound(err, accessKeyID)
	}
	return s.withPendingUse(r.Key), nil
}

// List returns every access key, oldest first.
func (s *Store) List(ctx context.Context) ([]Key, error) {
	rs, err := s.b.List(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(rs))
	for i, r := range rs {
		keys[i] = s.withPendingUse(r.Key)
	}
	return keys, nil
}

// Disable stops an access key, and the sessions issued from it, from
// signing requests, until Enable.
func (s *Store) Disable(ctx context.Context, accessKeyID string) error {
	return s.setStatus(ctx, accessKeyID, Disabled)
}

// Enable lets a disabled access key sign requests again.
func (s *Store) Enable(ctx context.Context, accessKeyID string) error {
	return s.setStatus(ctx, accessKeyID, Active)
}

func (s *Store) setStatus(ctx context.Context, accessKeyID string, st Status) error {
	defer s.cache.invalidate()
	return notFound(s.b.SetStatus(ctx, accessKeyID, st), accessKeyID)
}

// Delete removes an access key and the sessions issued from it.
func (s *Store) Delete(ctx context.Context, accessKeyID string) error {
	defer s.cache.invalidate()
	return notFound(s.b.Delete(ctx, accessKeyID), accessKeyID)
}

// Rotate replaces a long-term access key: it creates a new, active one
// with the same name, principal, services, regions and expiry (rotation
// does not extend a deadline), then disables the
// old one (and so its sessions). The old key is kept, disabled, so that it
// can be enabled again if a client was missed; delete it once the new one
// is in use. If disabling fails, the new key exists and the old one still
// works: Rotate returns both the new key and the error.
func (s *Store) Rotate(ctx context.Context, accessKeyID string) (Key, sigv4.Credentials, error) {
	old, err := s.b.Get(ctx, accessKeyID)
	if err != nil {
		return Key{}, sigv4.Credentials{}, notFound(err, accessKeyID)
	}
	switch {
	case old.Temporary():
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: %s is a temporary key: ask for a new session instead", accessKeyID)
	case old.Expired(s.opts.Now()):
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: %s has expired: create a new key instead", accessKeyID)
	}
	k := old.Key
	k.Status, k.Created, k.LastUsed = Active, storeTime(s.opts.Now()), time.Time{}
	nk, creds, err := s.insert(ctx, k, "")
	if err != nil {
		return Key{}, sigv4.Credentials{}, err
	}
	if err := s.Disable(ctx, accessKeyID); err != nil {
		return nk, creds, fmt.Errorf("credstore: created %s, but %s is still enabled: %w", nk.AccessKeyID, accessKeyID, err)
	}
	return nk, creds, nil
}

// Session durations, as STS GetSessionToken allows them for IAM users.
const (
	MinSessionDuration     = 15 * time.Minute
	MaxSessionDuration     = 36 * time.Hour
	DefaultSessionDuration = 12 * time.Hour
)

// Session issues temporary credentials from an active long-term access
// key, as STS GetSessionToken does: an ASIA access key, secret and session
// token good for ttl (0 means DefaultSessionDuration), and no longer than
// the parent. The returned Key's Expires is the expiry.
func (s *Store) Session(ctx context.Context, parentAccessKeyID string, ttl time.Duration) (Key, sigv4.Credentials, error) {
	if ttl == 0 {
		ttl = DefaultSessionDuration
	}
	if ttl < MinSessionDuration || ttl > MaxSessionDuration {
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: session duration %v: want %v to %v", ttl, MinSessionDuration, MaxSessionDuration)
	}
	p, err := s.b.Get(ctx, parentAccessKeyID)
	if err != nil {
		return Key{}, sigv4.Credentials{}, notFound(err, parentAccessKeyID)
	}
	now := s.opts.Now()
	switch {
	case p.Temporary():
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: %s is a temporary key: a session needs a long-term (%s...) key", parentAccessKeyID, LongTermPrefix)
	case p.Status != Active:
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: %s is %s", parentAccessKeyID, p.Status)
	case p.Expired(now):
		return Key{}, sigv4.Credentials{}, fmt.Errorf("credstore: %s has expired", parentAccessKeyID)
	}
	expires := storeTime(now.Add(ttl))
	if !p.Expires.IsZero() && p.Expires.Before(expires) {
		expires = p.Expires
	}
	k := Key{
		Name: p.Name, Principal: p.Principal, Status: Active, Created: storeTime(now), Expires: expires,
		Services: p.Services, Regions: p.Regions, Parent: p.AccessKeyID,
	}
	return s.insert(ctx, k, newSessionToken())
}

// Prune deletes the temporary keys that have expired, and returns how many.
func (s *Store) Prune(ctx context.Context) (int, error) {
	rs, err := s.b.List(ctx)
	if err != nil {
		return 0, err
	}
	n, now := 0, s.opts.Now()
	for _, r := range rs {
		if r.Temporary() && r.Expired(now) {
			if err := s.b.Delete(ctx, r.AccessKeyID); err != nil && !errors.Is(err, ErrNotFound) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// notFound names the access key in a not-found error.
func notFound(err error, accessKeyID string) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, accessKeyID)
	}
	return err
}
