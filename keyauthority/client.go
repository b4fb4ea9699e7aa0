package keyauthority

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sigv4/sigv4"
)

// ServerTLS is the TLS configuration of an authority: its certificate,
// and client certificates required and verified against its CA.
func ServerTLS(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("keyauthority: no CA certificate")
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}, nil
}

// ClientTLS is the TLS configuration of a verifier: its certificate, and
// the authority's CA as the only root.
func ClientTLS(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("keyauthority: no CA certificate")
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13}, nil
}

// Client is a sigv4.PublicKeySource over a key authority. Run must be
// running for revocations and prefetching; keys are fetched without it.
type Client struct {
	url  string
	http *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PrefetchBefore is how long before midnight UTC tomorrow's keys are
	// fetched for the access keys, regions and services seen today
	// (default 1 h; negative: never).
	PrefetchBefore time.Duration
	// NegativeTTL is how long an unknown access key's refusal is kept
	// (default 5 s; at most 4096 of them).
	NegativeTTL time.Duration
	// Reconnect is the wait before the revocation stream is opened again
	// (default 250 ms).
	Reconnect time.Duration
	// Timeout bounds one request to the authority (default 3 s): past it,
	// a miss is ServiceUnavailable.
	Timeout time.Duration
	// StreamIdle is how long the revocation stream may stay silent (the
	// authority sends a keep-alive every 10 s) before it is taken for
	// broken and opened again (default 30 s).
	StreamIdle time.Duration

	mu        sync.Mutex
	keys      map[cacheKey]*entry
	negative  map[cacheKey]time.Time
	seen      map[seenKey]string // access key, region, service -> the last date it was fetched for
	epoch     uint64
	revoked   []Revocation
	lastSeq   atomic.Int64
	connected atomic.Bool
	flight    singleflight.Group
	misses    atomic.Int64
	hits      atomic.Int64
}

type cacheKey struct {
	accessKeyID string
	scope       sigv4.Scope // zero for a public key
	public      bool
}

type seenKey struct{ accessKeyID, region, service string }

type entry struct {
	key   sigv4.SigningKey
	pub   *ecdsa.PublicKey
	id    sigv4.Identity
	until time.Time
}

// Bounds of a Client's caches.
const (
	maxKeys     = 1 << 16
	maxNegative = 4096
)

var _ sigv4.PublicKeySource = (*Client)(nil)

// NewClient returns a Client of the authority at url (https://host:port),
// authenticating with tlsConfig (see ClientTLS).
func NewClient(url string, tlsConfig *tls.Config) *Client {
	tr := &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
		ResponseHeaderTimeout: 10 * time.Second, IdleConnTimeout: time.Minute}
	return &Client{url: strings.TrimSuffix(url, "/"), http: &http.Client{Transport: tr},
		keys: map[cacheKey]*entry{}, negative: map[cacheKey]time.Time{}, seen: map[seenKey]string{}}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Stats returns how many key lookups were answered from the cache and how
// many asked the authority.
func (c *Client) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Connected reports whether the revocation stream is open.
func (c *Client) Connected() bool { return c.connected.Load() }

// SigningKey implements sigv4.KeySource.
func (c *Client) SigningKey(ctx context.Context, accessKeyID string, scope sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	e, err := c.get(ctx, cacheKey{accessKeyID: accessKeyID, scope: scope})
	if err != nil {
		return sigv4.SigningKey{}, sigv4.Identity{}, err
	}
	c.mu.Lock()
	c.seen[seenKey{accessKeyID, scope.Region, scope.Service}] = scope.Date
	c.mu.Unlock()
	return e.key, e.id, nil
}

// PublicKey implements sigv4.PublicKeySource.
func (c *Client) PublicKey(ctx context.Context, accessKeyID string) (*ecdsa.PublicKey, sigv4.Identity, error) {
	e, err := c.get(ctx, cacheKey{accessKeyID: accessKeyID, public: true})
	if err != nil {
		return nil, sigv4.Identity{}, err
	}
	return e.pub, e.id, nil
}

// get answers from the cache, or asks the authority once however many ask
// at the same time.
func (c *Client) get(ctx context.Context, k cacheKey) (*entry, error) {
	now := c.now()
	c.mu.Lock()
	if e, ok := c.keys[k]; ok && now.Before(e.until) {
		c.mu.Unlock()
		c.hits.Add(1)
		return e, nil
	}
	if until, ok := c.negative[k]; ok && now.Before(until) {
		c.mu.Unlock()
		c.hits.Add(1)
		return nil, fmt.Errorf("keyauthority: access key %s: %w", k.accessKeyID, sigv4.ErrInvalidAccessKeyID)
	}
	c.mu.Unlock()
	c.misses.Add(1)
	v, err, _ := c.flight.Do(flightKey(k), func() (any, error) { return c.fetch(context.WithoutCancel(ctx), k) })
	if err != nil {
		return nil, err
	}
	return v.(*entry), nil
}

func flightKey(k cacheKey) string {
	return k.accessKeyID + "\x00" + k.scope.Date + "\x00" + k.scope.Region + "\x00" + k.scope.Service + "\x00" + strconv.FormatBool(k.public)
}

// fetch asks the authority for k and caches the answer, unless a
// revocation arrived meanwhile.
func (c *Client) fetch(ctx context.Context, k cacheKey) (*entry, error) {
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	path, body := PathSigningKey, signingKeyRequest{AccessKeyID: k.accessKeyID, Date: k.scope.Date, Region: k.scope.Region, Service: k.scope.Service}
	if k.public {
		path, body = PathPublicKey, signingKeyRequest{AccessKeyID: k.accessKeyID}
	}
	ans, status, err := c.post(ctx, path, body)
	if err != nil {
		return nil, &sigv4.Error{Code: sigv4.ErrServiceUnavailable.Code, Status: sigv4.ErrServiceUnavailable.Status,
			Message: "The key service cannot be reached. Please try again.", Err: err}
	}
	if ans.Error != nil {
		return nil, c.refusal(k, status, ans.Error, epoch)
	}
	e := &entry{id: toIdentity(ans.Identity), until: ans.ValidUntil}
	switch {
	case k.public:
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), ans.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("keyauthority: the authority's public key: %w", err)
		}
		e.pub = pub
	case len(ans.SigningKey) != len(e.key):
		return nil, errors.New("keyauthority: the authority's signing key is not 32 bytes")
	default:
		copy(e.key[:], ans.SigningKey)
	}
	c.mu.Lock()
	if c.epoch == epoch {
		if len(c.keys) >= maxKeys {
			c.evictLocked()
		}
		c.keys[k] = e
	}
	c.mu.Unlock()
	return e, nil
}

// refusal turns the authority's refusal into the Verifier's answer.
func (c *Client) refusal(k cacheKey, status int, e *errorJSON, epoch uint64) error {
	switch e.Code {
	case codeUnknownKey:
		c.mu.Lock()
		if c.epoch == epoch {
			if len(c.negative) >= maxNegative {
				clear(c.negative)
			}
			c.negative[k] = c.now().Add(cmpDuration(c.NegativeTTL, 5*time.Second))
		}
		c.mu.Unlock()
		return fmt.Errorf("keyauthority: access key %s: %w", k.accessKeyID, sigv4.ErrInvalidAccessKeyID)
	case codeRevoked:
		return &sigv4.Error{Code: sigv4.ErrAccessDenied.Code, Status: sigv4.ErrAccessDenied.Status,
			Message: "The access key is revoked for the scope of this request."}
	case codeBadDate:
		return &sigv4.Error{Code: sigv4.ErrAccessDenied.Code, Status: sigv4.ErrAccessDenied.Status,
			Message: "Request has expired"}
	case codeNotGranted:
		return &sigv4.Error{Code: sigv4.ErrAccessDenied.Code, Status: sigv4.ErrAccessDenied.Status,
			Message: "This endpoint does not serve the scope of this request.", Err: ErrNotGranted}
	}
	return &sigv4.Error{Code: sigv4.ErrServiceUnavailable.Code, Status: sigv4.ErrServiceUnavailable.Status,
		Message: "The key service failed. Please try again.", Err: fmt.Errorf("keyauthority: %d %s: %s", status, e.Code, e.Message)}
}

// evictLocked drops expired entries, or, if none, half of the cache.
func (c *Client) evictLocked() {
	now, n := c.now(), 0
	for k, e := range c.keys {
		if !now.Before(e.until) {
			delete(c.keys, k)
			n++
		}
	}
	for k := range c.keys {
		if n >= len(c.keys)/2 {
			break
		}
		delete(c.keys, k)
		n++
	}
}

func (c *Client) post(ctx context.Context, path string, body any) (keyAnswer, int, error) {
	data, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, cmpDuration(c.Timeout, 3*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(data))
	if err != nil {
		return keyAnswer{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return keyAnswer{}, 0, err
	}
	defer resp.Body.Close()
	var ans keyAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil {
		return keyAnswer{}, resp.StatusCode, fmt.Errorf("the authority answered %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK && ans.Error == nil {
		ans.Error = &errorJSON{Code: codeUnavailable, Message: resp.Status}
	}
	return ans, resp.StatusCode, nil
}

// Revoke asks the authority to add a revocation (an admin grant's client
// only) and returns it as recorded.
func (c *Client) Revoke(ctx context.Context, r Revocation) (Revocation, error) {
	data, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+PathRevocations, bytes.NewReader(data))
	if err != nil {
		return Revocation{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Revocation{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var ans keyAnswer
		if json.Unmarshal(body, &ans) == nil && ans.Error != nil {
			return Revocation{}, fmt.Errorf("keyauthority: %s: %s", ans.Error.Code, ans.Error.Message)
		}
		return Revocation{}, fmt.Errorf("keyauthority: %s", resp.Status)
	}
	var got Revocation
	return got, json.Unmarshal(body, &got)
}

// apply drops what a revocation covers from the cache, and moves the
// epoch on so that a fetch begun before it stores nothing.
func (c *Client) apply(r Revocation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.revoked = append(c.revoked, r)
	for k := range c.keys {
		if r.Invalidate {
			if k.accessKeyID == r.AccessKeyID {
				delete(c.keys, k)
			}
			continue
		}
		if k.public && r.AccessKeyID != "" && r.AccessKeyID == k.accessKeyID && (r.From == "" || r.From <= date(c.now())) {
			delete(c.keys, k)
		} else if k.public && r.AccessKeyID == "" {
			delete(c.keys, k) // a region's revocation: ask the authority again
		} else if !k.public && r.Covers(k.accessKeyID, k.scope) {
			delete(c.keys, k)
		}
	}
	if r.Seq > c.lastSeq.Load() {
		c.lastSeq.Store(r.Seq)
	}
}

// Run follows the revocation stream, reconnecting as needed and getting
// what it missed, and prefetches tomorrow's keys, until ctx is done.
func (c *Client) Run(ctx context.Context) {
	go c.prefetchLoop(ctx)
	for ctx.Err() == nil {
		err := c.follow(ctx)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		_ = err
		select {
		case <-ctx.Done():
			return
		case <-time.After(cmpDuration(c.Reconnect, 250*time.Millisecond)):
		}
	}
}

// follow reads the revocation stream (server-sent events) until it ends.
func (c *Client) follow(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+PathRevocations, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(c.lastSeq.Load(), 10))
	tr := c.http.Transport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = cmpDuration(c.Timeout, 3*time.Second)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("keyauthority: revocation stream: %s", resp.Status)
	}
	c.connected.Store(true)
	// A stream that stays silent past StreamIdle is broken (a partition
	// drops packets without closing anything): close it to open another.
	idle := cmpDuration(c.StreamIdle, 30*time.Second)
	watchdog := time.AfterFunc(idle, func() { resp.Body.Close() })
	defer watchdog.Stop()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4096), 64<<10)
	var data string
	for sc.Scan() {
		watchdog.Reset(idle)
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && data != "":
			var r Revocation
			if err := json.Unmarshal([]byte(data), &r); err == nil {
				c.apply(r)
			}
			data = ""
		}
	}
	return sc.Err()
}

// prefetchLoop fetches, in the last PrefetchBefore of a UTC day,
// tomorrow's keys for what was fetched today.
func (c *Client) prefetchLoop(ctx context.Context) {
	before := cmpDuration(c.PrefetchBefore, time.Hour)
	if c.PrefetchBefore < 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := c.now().UTC()
		midnight := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if midnight.Sub(now) > before {
			continue
		}
		c.Prefetch(ctx)
	}
}

// Prefetch fetches tomorrow's keys for the access keys, regions and
// services fetched today, those not cached yet.
func (c *Client) Prefetch(ctx context.Context) {
	now := c.now()
	today, tomorrow := date(now), date(now.Add(24*time.Hour))
	c.mu.Lock()
	var todo []cacheKey
	for s, d := range c.seen {
		k := cacheKey{accessKeyID: s.accessKeyID, scope: sigv4.Scope{Date: tomorrow, Region: s.region, Service: s.service}}
		if d != today && d != tomorrow {
			delete(c.seen, s) // not used today: let it go
			continue
		}
		if _, ok := c.keys[k]; !ok {
			todo = append(todo, k)
		}
	}
	c.mu.Unlock()
	for _, k := range todo {
		if ctx.Err() != nil {
			return
		}
		c.flight.Do(flightKey(k), func() (any, error) { return c.fetch(ctx, k) })
	}
}
