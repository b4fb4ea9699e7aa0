// Package gateway puts AWS-compatible authentication in front of any HTTP
// service: a [Gateway] verifies every request with a [sigv4.Verifier] and
// forwards only what verified to an upstream, with the verified identity in
// headers. It is the one place where a [*sigv4.Error] becomes an HTTP
// response body, as AWS writes it: the XML of Amazon S3 or of the query
// protocol (STS, IAM), or the JSON of the AWS JSON protocol. Every answer
// carries a request ID (x-amz-request-id and x-amzn-RequestId, also sent
// upstream) and a Date header, which SDKs use to correct clock skew.
//
// # What the upstream receives
//
// The request as the client sent it, less its authentication, with the body
// the signature vouches for:
//
//   - X-Sigv4-Access-Key and X-Sigv4-Principal name the verified signer
//     (X-Sigv4-Principal only when the KeySource names one),
//     X-Sigv4-Service and X-Sigv4-Region the scope it signed for (no
//     region for SigV4a), and X-Sigv4-Request-Id the request ID the client
//     is told. Any X-Sigv4-* header the client sent is removed first,
//     whatever its case or spelling with underscores, so an upstream can
//     trust these.
//   - The Authorization header, the X-Amz-Date, X-Amz-Security-Token and
//     X-Amz-Region-Set headers, and the X-Amz-Algorithm, X-Amz-Credential,
//     X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature,
//     X-Amz-Security-Token and X-Amz-Region-Set query parameters of a
//     presigned URL (for a SigV2 URL, its AWSAccessKeyId, Signature,
//     Expires and x-amz-security-token) are removed;
//     the rest of the raw query is kept byte for byte, but that ";", which
//     the signature reads as a byte of a value, is sent as %3B. The session
//     token is a credential and the date only a part of the signature, so
//     neither is the upstream's business; the upstream cannot check a
//     signature anyway, because the gateway changes what was signed.
//   - The path is the one sent, after the upstream's path prefix.
//   - Headers that frameworks read as another method, path or client
//     (X-HTTP-Method-Override, X-Original-URL, X-Real-IP, Forwarded...)
//     are removed unless Config.ForwardOverrides names them;
//     X-Forwarded-For, -Host and -Proto are the gateway's.
//   - Connection and Upgrade reach the upstream only on a Route that
//     allows upgrades.
//   - A streaming (aws-chunked) body is forwarded decoded: Content-Length is
//     x-amz-decoded-content-length, x-amz-content-sha256 becomes
//     UNSIGNED-PAYLOAD, aws-chunked leaves Content-Encoding (which goes if
//     nothing is left), and x-amz-decoded-content-length and x-amz-trailer
//     are removed. Expect and the request's HTTP trailers are removed too.
//
// With Signing (on Config or a Route), the request is signed again with the
// upstream's credentials for the verified service, and the identity headers
// are left out unless Signing.IdentityHeaders: see [Signing]. The signing
// half alone, for programs that cannot sign, is [SigningProxy].
//
// Requests that an upstream could read otherwise than the verifier did are
// refused before they are verified: a path whose dot segments ("..",
// "%2e%2e", between "/", "\", "%2F" or "%5C") climb above its root
// (InvalidURI), a query with a '%' that starts no escape
// (InvalidArgument), and a Connection header naming anything but a
// hop-by-hop header, or naming a signed header (InvalidRequest): the proxy
// would remove it after verification.
//
// # No unverified byte reaches the upstream
//
// A body with a declared SHA-256 (or none, which the verifier hashes) is
// held, in memory up to Config.MaxMemoryBody and then in an unlinked
// temporary file, until it matches; only then does the upstream see the
// request, with its Content-Length. A streaming body is forwarded as it is
// decoded, each signed chunk once its signature matched; its last byte is
// held back until the decoder has checked the final chunk, the trailers,
// their checksum and the decoded length, so that the upstream never
// receives a complete request that later fails. On failure the upstream
// connection is aborted mid-request and the client gets the error.
// An UNSIGNED-PAYLOAD body has nothing to verify and is forwarded as it
// arrives, its last byte held back too. Before the last byte of any body
// goes, the access key is asked for again: an upload whose key was
// revoked meanwhile does not complete.
//
// # Limits
//
// What an unauthenticated client can hold is bounded: the body of an
// unknown access key is not read; a body read before the verdict (one
// with no declared hash, which the signature covers) counts against
// Config.MaxBuffered with every held body, and must arrive within
// Config.VerdictTimeout; one client address has at most
// Config.MaxPendingPerIP requests awaiting a verdict; a rejected body is
// read only if the rest (at most 1 MiB) arrives within a second, else the
// connection is closed. Held bodies grow as they arrive, in memory under
// Config.MaxBuffered, in temporary files under Config.MaxTempBytes; past
// either, the answer is 503 SlowDown, which SDKs retry. [LimitListener]
// bounds the connections. SECURITY.md, at the root of the repository, has
// the full list and how to set each.
//
// # Operations
//
// [Gateway.AdminHandler] serves /healthz and /metrics (Prometheus). It is a
// separate handler, meant for a separate listener: on the gateway's own
// listener every path belongs to the upstream (an S3 bucket may well be
// called "metrics" or "healthz"), and every request there must be signed.
// [NewServer] returns an http.Server with the recommended limits; shutting
// down gracefully is http.Server.Shutdown, preceded by [Gateway.Drain] so
// that load balancers see /healthz fail first.
package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/sigv2"
	"github.com/sigv4/sigv4/postpolicy"
	"github.com/sigv4/sigv4/replay"
)

// Defaults of Config's zero-valued fields.
const (
	DefaultMaxMemoryBody = 8 << 20
	// DefaultMaxBody is the largest object Amazon S3 accepts in one PUT.
	DefaultMaxBody = 5 << 30
	// DefaultMaxBuffered holds 64 bodies of DefaultMaxMemoryBody.
	DefaultMaxBuffered = 512 << 20
	// DefaultMaxTempBytes holds three uploads of DefaultMaxBody.
	DefaultMaxTempBytes = 16 << 30
	// DefaultVerdictTimeout leaves a slow client 30 s for the body that a
	// signature without a declared hash needs (a few KiB for STS or IAM).
	DefaultVerdictTimeout = 30 * time.Second
	// DefaultMaxPendingPerIP is twice the connections of a busy SDK
	// client; behind a load balancer, all clients share its address.
	DefaultMaxPendingPerIP = 64
	// DefaultMaxTunnel is a long WebSocket session.
	DefaultMaxTunnel = time.Hour
)

// Route is where the requests of one service go.
type Route struct {
	// Upstream is the service's upstream, as Config.Upstream; nil means
	// the built-in whoami service.
	Upstream *url.URL
	// Upgrade forwards protocol upgrades (WebSocket) to the upstream. The
	// bytes after its 101 answer are no signature's, so the gateway ends
	// the connection after Config.MaxTunnel, and as soon as the access
	// key stops working. Without it, Upgrade is removed from requests.
	Upgrade bool
	// Signing, if set, signs every request to Upstream again with the
	// upstream's own credentials: for an upstream that checks signatures.
	Signing *Signing
}

// Error formats (see Config.ErrorFormat).
const (
	FormatXML  = "xml"  // <Error> (Amazon S3) or <ErrorResponse> (query protocol)
	FormatJSON = "json" // AWS JSON protocol: {"__type": ..., "message": ...}
)

// Config configures a Gateway. Verifier is required; every other zero value
// is a safe default.
type Config struct {
	// Verifier checks every request. Its Services must include those the
	// clients sign for ("s3", "sts", ...).
	Verifier *sigv4.Verifier

	// RecentFailures is how many refused requests AdminHandler's
	// /failures page keeps (no secret, signature, token or body of
	// theirs), each explained as it happened where a budget of 10 a
	// second allows; 0 keeps none and serves no such page.
	RecentFailures int

	// Upstream is where verified requests go: scheme, host and an optional
	// path prefix, with no query. Nil means the built-in whoami service, which answers
	// STS GetCallerIdentity and, to anything else, the verified identity
	// as JSON.
	Upstream *url.URL
	// Signing, if set, signs the requests to Upstream again with the
	// upstream's own credentials (see Signing). Routes have their own.
	Signing *Signing
	// PreserveHost sends the client's Host header upstream (needed by an
	// upstream that serves virtual-hosted S3 buckets) instead of the
	// upstream's host.
	PreserveHost bool
	// Transport carries requests to the upstream (default: as
	// http.DefaultTransport, keeping 256 idle connections per host);
	// unused without an Upstream.
	Transport http.RoundTripper
	// Routes sends the requests of each service (the service of the
	// verified scope: "s3", "execute-api") to an upstream of its own; the
	// route "*" takes every service without one. A request for a service
	// with no route is refused (AccessDenied), so that a key signing for
	// STS cannot reach an S3 upstream. Nil means that every service goes
	// to Upstream; Upstream is also the "*" route if Routes has none.
	Routes map[string]Route
	// ForwardOverrides names override headers (X-Real-IP, X-Forwarded-For,
	// X-HTTP-Method-Override...: see SECURITY.md) to forward as received,
	// for a gateway behind a proxy of the operator's that sets them. All
	// the others are removed, in any case or spelling with underscores,
	// signed or not. X-Forwarded-For, -Host and -Proto are then set by the
	// gateway; a forwarded X-Forwarded-For gets the client's address
	// appended.
	ForwardOverrides []string
	// MaxTunnel bounds the life of an upgraded connection (WebSocket) on
	// a Route that allows them (default DefaultMaxTunnel).
	MaxTunnel time.Duration

	// ErrorFormat is FormatXML (the default) or FormatJSON. XML is what
	// AWS writes for the service a request is signed for: Amazon S3's
	// <Error> for S3 (and for a request whose service cannot be read), the
	// query protocol's <ErrorResponse> for any other (STS, IAM, SQS, ...).
	// JSON is the AWS JSON protocol's, with the names the JSON services
	// give the signature errors (SignatureDoesNotMatch is
	// InvalidSignatureException).
	ErrorFormat string

	// MaxMemoryBody is how much of a body with a declared hash is held in
	// memory while it is verified; the rest goes to a temporary file
	// (default 8 MiB).
	MaxMemoryBody int64
	// StreamHashedBodies forwards a body with a declared SHA-256 as it
	// arrives, its last byte held back until the hash (and any
	// Content-MD5 or x-amz-checksum-*) matched and the key was checked
	// again, as streamed bodies are; by default such a body is held whole,
	// in memory or a temporary file, until it matched. Streaming lets the
	// upload cross both links at once and holds no memory or disk for it,
	// and the upstream still never receives a complete request that
	// failed: its connection is aborted before the last byte. The
	// trade-off: an upstream that acts on a body before its end (one that
	// writes bytes where others read them as they come, or keeps a
	// partial upload) sees bytes that are not verified yet. Off by
	// default.
	StreamHashedBodies bool
	// MaxBody bounds every request body: held, streamed or unsigned
	// (default 5 GiB). A larger body is answered with EntityTooLarge.
	MaxBody int64
	// IdleTimeout ends a connection whose client sends no byte of its body,
	// or reads no byte of the answer, for that long (0: no limit; serve
	// uses DefaultIdleTimeout). It bounds slow clients without bounding
	// the length of a transfer, as a fixed read or write timeout would.
	IdleTimeout time.Duration
	// TempDir holds the temporary files of large bodies (default
	// os.TempDir()). They are unlinked as soon as they are created.
	TempDir string
	// MaxBuffered bounds the bytes of request bodies held in memory by
	// all requests together: bodies read to check a hash or a signature,
	// and not yet sent upstream (default DefaultMaxBuffered). A request
	// that would go over it is answered with 503 SlowDown.
	MaxBuffered int64
	// MaxTempBytes bounds the temporary files of all requests together
	// (default DefaultMaxTempBytes); past it, 503 SlowDown.
	MaxTempBytes int64
	// VerdictTimeout bounds the time from a request's headers to the
	// verdict on its signature, body included where the signature needs
	// it (default DefaultVerdictTimeout): however slowly a client sends,
	// it cannot hold a connection longer without a valid signature.
	VerdictTimeout time.Duration
	// MaxPendingPerIP bounds the requests of one client address (for
	// IPv6, one /64 network) still waiting for a verdict (default
	// DefaultMaxPendingPerIP); more are answered with 503 SlowDown at once.
	MaxPendingPerIP int

	// Logger receives one line per request (default slog.Default()). No
	// secret, signature, session token, query string or Authorization
	// header is ever logged.
	Logger *slog.Logger
	// Registry receives the gateway's metrics. Nil means a registry of
	// the gateway's own (with the Go and process collectors), served by
	// AdminHandler; pass one to share it with other metrics.
	Registry *prometheus.Registry
	// KeyCacheStats, if set, reports the hits and misses of the key cache
	// behind the Verifier, exported as counters.
	KeyCacheStats func() (hits, misses uint64)
	// KeysHealth, if set, tells /healthz whether the keys' store answers
	// (credstore.Store.Ping): when it does not, the gateway is degraded
	// (the keys it cached serve, others get ServiceUnavailable).
	KeysHealth func(ctx context.Context) error
	// KeysNotifyLag, if set, is exported as a gauge: how long the last
	// change to a key took to reach this gateway (credstore on
	// PostgreSQL).
	KeysNotifyLag func() time.Duration

	// Replay, if set, refuses a request that signed what an accepted one
	// signed (AccessDenied): one seen by this gateway, or, with a cache
	// shared by several (replay.Redis), by any of them. It applies to
	// header-signed requests, which clients sign anew when they retry;
	// ReplayPresigned adds presigned URLs, which browsers may well fetch
	// twice. What the cache holds expires with each signature.
	Replay          replay.Cache
	ReplayPresigned bool
	// ReplayFailOpen accepts the requests that the replay cache cannot
	// judge (Redis down), counting them in the metrics and logging each;
	// by default they are refused (503 ServiceUnavailable).
	ReplayFailOpen bool

	// PostPolicy says what a verified browser upload (a POST policy
	// form) becomes upstream: PostAsPut (the default) sends the PutObject
	// it stands for; PostPassthrough sends the form itself, byte for byte
	// and unsigned (its signature is the client's), for an upstream that
	// reads forms. Either way the form is verified, and its file held to
	// its policy, before any of it leaves.
	PostPolicy string
}

// The values of Config.PostPolicy.
const (
	PostAsPut       = "put"
	PostPassthrough = "passthrough"
)

// Gateway is an http.Handler that verifies requests and forwards them. It
// is safe for concurrent use.
type Gateway struct {
	verifier    *sigv4.Verifier
	failures    *failureRing // nil: not kept
	proxy       *httputil.ReverseProxy
	postRaw     bool // Config.PostPolicy is PostPassthrough
	routes      map[string]route
	preserve    bool
	json        bool
	maxMemory   int64
	maxBody     int64
	streamHash  bool
	tempDir     string
	idleTimeout time.Duration
	verdictTime time.Duration
	maxTunnel   time.Duration
	overrides   map[string]bool
	memory      budget
	disk        budget
	pending     *counter
	log         *slog.Logger
	metrics     *metrics
	draining    atomic.Bool
	replay      *replayGuard
	keysHealth  func(ctx context.Context) error
}

// route is a Route made ready: target is never nil (whoamiURL stands for
// the whoami service).
type route struct {
	target  *url.URL
	upgrade bool
	signer  *resigner // nil: forwarded unsigned
}

// whoamiURL is the target of the whoami route, served in process.
var whoamiURL = &url.URL{Scheme: "http", Host: "whoami.invalid"}

var _ http.Handler = (*Gateway)(nil)

// New returns a Gateway, or an error if cfg is not usable.
func New(cfg Config) (*Gateway, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("gateway: Config.Verifier is required")
	}
	g := &Gateway{
		verifier:    cfg.Verifier,
		preserve:    cfg.PreserveHost,
		maxMemory:   cmp.Or(cfg.MaxMemoryBody, DefaultMaxMemoryBody),
		maxBody:     cmp.Or(cfg.MaxBody, DefaultMaxBody),
		streamHash:  cfg.StreamHashedBodies,
		tempDir:     cmp.Or(cfg.TempDir, os.TempDir()),
		idleTimeout: cfg.IdleTimeout,
		verdictTime: cmp.Or(cfg.VerdictTimeout, DefaultVerdictTimeout),
		maxTunnel:   cmp.Or(cfg.MaxTunnel, DefaultMaxTunnel),
		memory:      budget{limit: cmp.Or(cfg.MaxBuffered, DefaultMaxBuffered)},
		disk:        budget{limit: cmp.Or(cfg.MaxTempBytes, DefaultMaxTempBytes)},
		pending:     newCounter(cmp.Or(cfg.MaxPendingPerIP, DefaultMaxPendingPerIP)),
		overrides:   make(map[string]bool),
		log:         cmp.Or(cfg.Logger, slog.Default()),
	}
	switch cfg.ErrorFormat {
	case "", FormatXML:
	case FormatJSON:
		g.json = true
	default:
		return nil, fmt.Errorf("gateway: unknown ErrorFormat %q: use %q or %q", cfg.ErrorFormat, FormatXML, FormatJSON)
	}
	switch cfg.PostPolicy {
	case "", PostAsPut:
	case PostPassthrough:
		g.postRaw = true
	default:
		return nil, fmt.Errorf("gateway: unknown PostPolicy %q: use %q or %q", cfg.PostPolicy, PostAsPut, PostPassthrough)
	}
	if g.maxMemory < 0 || g.maxBody < 0 || g.memory.limit < 0 || g.disk.limit < 0 {
		return nil, errors.New("gateway: MaxMemoryBody, MaxBody, MaxBuffered and MaxTempBytes must not be negative")
	}
	g.maxMemory = min(g.maxMemory, g.maxBody)
	for _, name := range cfg.ForwardOverrides {
		g.overrides[normalName(name)] = true
	}
	routes, err := newRoutes(cfg.Routes, cfg.Upstream, cfg.Signing)
	if err != nil {
		return nil, err
	}
	g.routes = routes
	transport := cfg.Transport
	if transport == nil {
		transport = upstreamTransport()
	}
	m, err := newMetrics(cfg.Registry, cfg.KeyCacheStats, &g.memory, &g.disk)
	if err != nil {
		return nil, err
	}
	g.metrics = m
	g.keysHealth = cfg.KeysHealth
	if lag := cfg.KeysNotifyLag; lag != nil {
		if err := m.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "sigv4", Subsystem: "gateway",
			Name: "key_change_lag_seconds", Help: "How long the last change to a key took from its commit to this gateway."},
			func() float64 { return lag().Seconds() })); err != nil {
			return nil, err
		}
	}
	if cfg.Replay != nil {
		g.replay = &replayGuard{cache: cfg.Replay, presigned: cfg.ReplayPresigned, failOpen: cfg.ReplayFailOpen,
			outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sigv4", Subsystem: "gateway", Name: "replay_checks_total",
				Help: "Replay checks by outcome: first (accepted), replayed (refused), unavailable (refused, the cache failed), unchecked (accepted, the cache failed, ReplayFailOpen)."},
				[]string{"outcome"})}
		if err := m.register(g.replay.outcomes); err != nil {
			return nil, err
		}
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		BufferPool:     copyBuffers,
		Transport:      routeTransport{upstream: transport},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	if cfg.RecentFailures > 0 {
		g.failures = newFailureRing(cfg.RecentFailures)
	}
	return g, nil
}

// upstreamTransport is http.DefaultTransport keeping enough idle
// connections for a busy gateway: the default keeps two per host, so that
// under load most requests would open a connection of their own.
func upstreamTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
	return t
}

// Drain makes /healthz fail from now on, so that load balancers stop
// sending requests before the server shuts down. Requests are still served.
func (g *Gateway) Drain() { g.draining.Store(true) }

// ServeHTTP verifies r and forwards it, or answers with the AWS error.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := g.begin(w, r)
	defer g.end(x)
	if e := g.admit(x); e != nil {
		g.reject(x, e)
		return
	}
	if isPostUpload(x.req) {
		g.servePost(x)
		return
	}
	res, err := g.verifier.Verify(x.req)
	g.verdict(x)
	if err != nil {
		g.reject(x, asError(err))
		return
	}
	x.res = res
	if e := g.authorize(x); e != nil {
		g.reject(x, e)
		return
	}
	if e := g.checkReplay(x); e != nil {
		g.reject(x, e)
		return
	}
	body, n, verr := g.verifiedBody(x)
	if verr != nil {
		g.reject(x, verr)
		return
	}
	x.code = "OK"
	in := x.req.WithContext(x.req.Context()) // x.req keeps the client's length
	in.Body, in.ContentLength, in.TransferEncoding, in.Trailer = http.NoBody, n, nil, nil
	if body != nil {
		x.body = &guardedBody{r: body}
		in.Body = x.body
	}
	if x.route.upgrade && in.Header.Get("Upgrade") != "" {
		ctx, cancel := g.tunnel(in.Context(), res)
		defer cancel()
		in = in.WithContext(ctx)
	}
	g.proxy.ServeHTTP(x.w, in)
}

// admit decides what can be decided of a request before its signature: a
// client with too many requests awaiting a verdict is answered at once,
// and a path, query or Connection header that the upstream could read
// otherwise than the verifier is refused.
func (g *Gateway) admit(x *exchange) *sigv4.Error {
	client := clientKey(x.req.RemoteAddr)
	if !g.pending.enter(client) {
		x.close = true
		return errSlowDown
	}
	x.client, x.pending = client, true
	if e := checkPath(wirePath(x.req)); e != nil {
		return e
	}
	if e := checkQuery(x.req.URL.RawQuery); e != nil {
		return e
	}
	return checkConnection(x.req.Header, "")
}

// verdict ends the time a request may take before its signature is
// checked: the client no longer counts as pending, and its reads have the
// idle timeout only.
func (g *Gateway) verdict(x *exchange) {
	if x.pending {
		x.pending = false
		g.pending.leave(x.client)
	}
	x.idle.unlimit()
}

// authorize checks what the signature vouches for against where the
// request would go: the service's route, and a Connection header naming
// no signed header.
func (g *Gateway) authorize(x *exchange) *sigv4.Error {
	rt, e := g.routeFor(x.res.Scope.Service)
	if e != nil {
		return e
	}
	x.route = rt
	return checkConnection(x.req.Header, x.res.SignedHeaders)
}

// wirePath is the path of the request line, as the client sent it.
func wirePath(r *http.Request) string {
	if p := r.RequestURI; strings.HasPrefix(p, "/") {
		p, _, _ = strings.Cut(p, "?")
		return p
	}
	return r.URL.EscapedPath()
}

// exchange is the gateway's state of one request.
type exchange struct {
	id      string
	start   time.Time
	w       *responseWriter
	req     *http.Request // a shallow copy of the client's, with raw as its body
	raw     *countingBody // the client's body as it arrives
	res     *sigv4.Result
	route   route
	body    *guardedBody       // what the upstream reads; nil for no body
	post    *postpolicy.Upload // a POST upload, forwarded as its PutObject
	rawForm bool               // a POST upload, forwarded as the form itself
	code    string             // the outcome: "OK" or the AWS error code
	err     error              // an internal cause, for the log
	clean   func()             // removes a held body
	idle    *idleDeadline
	memory  share  // of the bodies held in memory
	disk    share  // of their temporary files
	client  string // the client, as per-client limits count it
	pending bool   // waiting for a verdict: counted in Gateway.pending
	close   bool   // answer and close, without reading the body
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	return ctx.Value(exchangeKey{}).(*exchange)
}

// exchangeParts are an exchange and what it points to, allocated at once.
type exchangeParts struct {
	x    exchange
	w    responseWriter
	idle idleDeadline
	raw  countingBody
}

func (g *Gateway) begin(w http.ResponseWriter, r *http.Request) *exchange {
	p := &exchangeParts{}
	x, idle := &p.x, &p.idle
	idle.init(w, g.idleTimeout)
	p.w = responseWriter{ResponseWriter: w, idle: idle}
	x.id, x.start, x.w, x.idle, x.raw = newRequestID(), time.Now(), &p.w, idle, &p.raw
	x.memory.b, x.disk.b = &g.memory, &g.disk
	x.req = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
	if r.Body == nil || r.Body == http.NoBody {
		p.raw = countingBody{r: http.NoBody} // the verifier knows NoBody
	} else {
		// Until the verdict, what the verifier reads is held in memory,
		// and the client has VerdictTimeout to send it.
		p.raw = countingBody{r: r.Body, idle: idle, charge: &x.memory}
		x.req.Body = x.raw
		idle.limit(x.start.Add(g.verdictTime))
	}
	g.metrics.inFlight.Inc()
	return x
}

// end stops the upstream's reads of the client's body, removes a held body
// and records the request.
func (g *Gateway) end(x *exchange) {
	if x.body != nil {
		// The client has its answer before waiting for a read of its body
		// that the transport may still have in progress.
		http.NewResponseController(x.w).Flush()
		x.body.stop()
	}
	if x.clean != nil {
		x.clean()
	}
	if x.pending {
		g.pending.leave(x.client)
	}
	x.raw.charge = nil
	x.memory.release()
	x.disk.release()
	x.idle.done()
	g.metrics.inFlight.Dec()
	g.record(x)
}

// reject answers with e. It reads what is left of a small body that
// arrives fast, so that a client still sending reads the answer rather
// than a reset; from any other client it closes the connection. A body
// that went over the gateway's memory or disk budget is answered with
// SlowDown, whatever error reading it caused.
func (g *Gateway) reject(x *exchange, e *sigv4.Error) {
	if x.raw.over {
		e = errSlowDown
	}
	x.code = e.Code
	if e.Err != nil {
		x.err = e.Err
	}
	if x.body != nil {
		x.body.stop()
	}
	x.raw.charge = nil // what is drained is not kept
	if x.close || !drain(x) {
		x.w.Header().Set("Connection", "close")
	}
	if g.failures != nil && e != errSlowDown {
		g.recordFailure(x, e)
	}
	writeError(x.w, x.req, e, x.id, g.errorStyle(x))
}

// errorStyle is the shape of the errors of x: JSON if so configured; else
// the XML AWS writes for the request's service: Amazon S3's for S3 (and for
// a request whose service cannot be read), the query protocol's for any
// other service (STS, IAM, SQS...), whose SDKs read no other.
func (g *Gateway) errorStyle(x *exchange) style {
	if g.json {
		return styleJSON
	}
	service := ""
	if x.res != nil {
		service = x.res.Scope.Service
	} else {
		_, service = claimedCredential(x.req)
	}
	switch service {
	case "", "s3", "s3-object-lambda", "s3-outposts", "s3express":
		return styleS3
	}
	return styleQuery
}

// What is read of a rejected request's body: at most maxDrain bytes, all
// within drainTime.
const (
	maxDrain  = 1 << 20
	drainTime = time.Second
)

// drain reads the rest of a rejected body and reports whether it all was
// read, within maxDrain bytes and drainTime. A client that sent Expect:
// 100-continue is asked for its body too: not every client waits for the
// 100, and one that does would otherwise race the reply against a reset.
func drain(x *exchange) bool {
	r, raw := x.req, x.raw
	if raw.failed || r.ContentLength >= 0 && r.ContentLength-raw.n > maxDrain {
		return false
	}
	x.idle.limit(time.Now().Add(drainTime))
	n, err := io.Copy(io.Discard, io.LimitReader(raw, maxDrain+1))
	return err == nil && n <= maxDrain
}

// rewrite turns the verified request into the upstream's: the route's
// target, the path as sent, the query as verified less the signature, the
// headers less the authentication and the overrides, and Connection and
// Upgrade only where the route allows upgrades.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeOf(pr.In.Context())
	pr.SetURL(x.route.target)
	pr.Out.URL.RawQuery = forwardedQuery(pr.In.URL.RawQuery, x.res)
	if g.preserve {
		pr.Out.Host = pr.In.Host
	}
	pr.Out.Header = upstreamHeader(pr.Out.Header, x.route.upgrade, g.overrides, x.res)
	setForwarded(pr, g.overrides)
	setIdentity(pr.Out.Header, x.res, x.id)
}

// modifyResponse gives the upstream's answer the gateway's request ID, or
// turns it into an error if the body failed to verify meanwhile.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	x := exchangeOf(resp.Request.Context())
	if x.body != nil {
		if e := x.body.failure(); e != nil {
			return e
		}
	}
	if x.route.signer != nil {
		if code := upstreamRefusedSignature(resp); code != "" {
			return errUpstreamAuth(code)
		}
	}
	if x.post != nil && !x.rawForm {
		postResponse(resp, x.post)
	}
	setRequestID(resp.Header, x.id)
	return nil
}

// errBadGateway answers for an upstream that could not be reached.
var errBadGateway = &sigv4.Error{Code: "BadGateway", Status: http.StatusBadGateway,
	Message: "The gateway could not get an answer from the service behind it."}

// proxyError answers for a request the upstream did not answer: because
// its body failed to verify (the upstream request was aborted), because the
// client left, or because the upstream failed.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeOf(r.Context())
	if e := x.body.stop(); e != nil {
		g.reject(x, e)
		return
	}
	if r.Context().Err() != nil {
		x.code, x.err = "ClientClosedRequest", err
		x.w.WriteHeader(499) // as nginx logs it; the client is gone
		return
	}
	var e *sigv4.Error
	if errors.As(err, &e) { // a ModifyResponse failure after the body was stopped
		g.reject(x, e)
		return
	}
	e = &sigv4.Error{Code: errBadGateway.Code, Status: errBadGateway.Status, Message: errBadGateway.Message, Err: err}
	var se *errSigning
	if errors.As(err, &se) {
		e.Message = "The gateway could not sign for the service behind it: its upstream credentials could not be had."
	}
	g.reject(x, e)
}

// asError returns err as an *sigv4.Error; any other error is internal.
func asError(err error) *sigv4.Error {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e
	}
	return &sigv4.Error{Code: sigv4.ErrInternalError.Code, Status: sigv4.ErrInternalError.Status,
		Message: "We encountered an internal error. Please try again.", Err: err}
}

// record logs the request and counts it.
func (g *Gateway) record(x *exchange) {
	d := time.Since(x.start)
	status := cmp.Or(x.w.status, http.StatusOK)
	code := cmp.Or(x.code, "InternalError") // a panic before any verdict
	g.metrics.observe(x.req.Method, code, d, x.raw.n, x.w.n)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", x.id),
		slog.String("method", x.req.Method),
		slog.String("path", x.req.URL.Path),
		slog.Int("status", status),
		slog.String("code", code),
		slog.String("access_key_id", accessKeyID(x)),
		slog.Duration("duration", d),
		slog.Int64("bytes_in", x.raw.n),
		slog.Int64("bytes_out", x.w.n),
	}
	if x.err != nil {
		attrs = append(attrs, slog.String("error", x.err.Error()))
	}
	g.log.LogAttrs(x.req.Context(), level, "request", attrs...)
}

// accessKeyID is the verified access key, or the one a rejected request
// claimed (an access key ID is not a secret; it is what an operator
// searches for).
func accessKeyID(x *exchange) string {
	if x.res != nil {
		return x.res.Identity.AccessKeyID
	}
	id, _ := claimedCredential(x.req)
	return id
}

// claimedSigV2 reads the access key ID of a SigV2 signature, if the
// request has one.
func claimedSigV2(r *http.Request) (string, bool) {
	var id string
	if v := r.Header.Get(sigv4.HeaderAuthorization); sigv2.IsHeader(v) {
		id, _, _ = sigv2.ParseHeader(v)
	} else if q := r.URL.RawQuery; sigv2.IsPresigned(q) {
		id = authz.QueryValue(q, sigv2.ParamAccessKeyID)
	} else {
		return "", false
	}
	if len(id) > sigv2.MaxAccessKeyLen {
		id = ""
	}
	return id, true
}

// claimedCredential reads the access key ID and the service of the
// credential a request carries, without checking anything.
func claimedCredential(r *http.Request) (accessKeyID, service string) {
	cred := ""
	if id, ok := claimedSigV2(r); ok {
		return id, "s3"
	}
	if v := r.Header.Get(sigv4.HeaderAuthorization); v != "" {
		_, cred, _ = strings.Cut(v, "Credential=")
		cred, _, _ = strings.Cut(cred, ",")
	} else if q := r.URL.RawQuery; strings.Contains(q, "Credential=") {
		cred = authz.QueryValue(q, authz.ParamCredential)
	}
	// AKID/20130524/us-east-1/s3/aws4_request, or without the region for
	// SigV4a.
	parts := strings.Split(cred, "/")
	if (len(parts) != 5 && len(parts) != 4) || len(parts[0]) > 128 {
		return "", ""
	}
	return parts[0], parts[len(parts)-2]
}
