package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/replay"
)

var serveCommand = &command{
	name:    "serve",
	summary: "run the authentication gateway in front of an HTTP service",
	usage: `Usage: sigv4 serve [flags]

Verifies every request with AWS Signature Version 4 against the access keys
of a credential store, and forwards what verified to an upstream with the
signer's identity in X-Sigv4-Access-Key and X-Sigv4-Principal, and the
signature's scope in X-Sigv4-Service and X-Sigv4-Region.

Where a request goes depends on the service it is signed for (s3, sts,
execute-api...; --service lists those accepted):

  no --upstream           every service: the built-in whoami service, which
                          answers STS GetCallerIdentity, and the verified
                          identity as JSON to anything else
  --upstream URL          every service: URL, except STS
  --upstream SERVICE=URL  SERVICE: URL (repeat the flag for others); a
                          service with no route is refused (AccessDenied)
  --upstream SERVICE=whoami
                          SERVICE: the whoami service

STS goes to whoami unless --upstream sts=URL routes it: a key that signs for
STS reaches no other upstream, and "aws sts get-caller-identity" answers. A
URL is http:// or https://, a host and port, and an optional path prefix.
--websocket lets clients of the services named upgrade their connections
(WebSocket) to the upstream; a tunnel lasts at most --max-tunnel, and ends
as soon as its key stops working.

An upstream that checks signatures of its own (MinIO, Ceph, Amazon S3, any
AWS service) needs --upstream-credentials: the gateway then signs every
request again, for the verified service and --upstream-region, with the
upstream's credentials (the AWS CLI's chain: default, profile:NAME or env;
or file:PATH, the key of a credentials file such as the one another sigv4
serve wrote for its first key;
--upstream-role-arn assumes a role with them). Clients hold only the keys
the gateway issues, and never see the upstream's. Without it, the upstream
gets the request unsigned, with the identity headers.

On first start with an empty store it creates the store and one access key,
and prints a command to try it. The secret is printed only to a terminal;
otherwise it goes to a credentials file (mode 0600) next to the store.

Examples:
  # Try it: the printed AWS CLI command talks to it.
  sigv4 serve

  # In front of MinIO, which checks its own signatures: the gateway signs
  # again with MinIO's key (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY here):
  sigv4 serve --upstream s3=http://127.0.0.1:9000 --upstream-credentials env

  # In front of Amazon S3, with a role of the gateway's, over TLS:
  sigv4 serve --listen :8443 --upstream s3=https://s3.eu-west-1.amazonaws.com \
    --upstream-credentials default --upstream-role-arn arn:aws:iam::123456789012:role/gw \
    --tls-cert cert.pem --tls-key key.pem --region eu-west-1

  # S3 to one server, execute-api (and its WebSockets) to another:
  sigv4 serve --service s3,sts,execute-api --upstream s3=http://127.0.0.1:9000 \
    --upstream execute-api=http://127.0.0.1:3000/prod --websocket execute-api

  # Manage keys (see "sigv4 help keys"):
  sigv4 keys create --name alice

Limits: until its signature is checked, a request lasts at most
--verdict-timeout, and one client address has at most --max-pending-per-ip
such requests. The bodies held while they are verified take at most
--max-buffered of memory and --max-temp of --temp-dir, all requests
together; past that, requests are answered 503 SlowDown, which SDKs retry.
At most --max-conns connections are open at once, more wait to be accepted;
one address has at most --max-conns-per-ip, more are closed.
Override headers (X-Forwarded-For, X-Real-IP, X-HTTP-Method-Override...) are
removed unless --forward-header names them, behind a proxy of yours that
sets them. SECURITY.md, in the source repository, says what the gateway
guarantees an upstream, what it does not, and how to choose these limits.

/healthz and /metrics (Prometheus) are served on --admin, not on the
gateway's listener, where every path belongs to the upstream; so is
/failures, the last --recent-failures requests the gateway refused (access
key, time, code, the canonical request it computed; no secret, signature,
token or body), each explained as it was refused and opening in the
signing debugger (/debug/).

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := serveFlags(fs)
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, stdout, stderr)
		}
	},
}

// defaultMaxConns is --max-conns: well under the usual limit of 65,536
// open files, with room for the upstream connections.
const defaultMaxConns = 4096

// defaultMaxConnsPerIP is --max-conns-per-ip: one address (a /64 for
// IPv6) cannot take more than an eighth of the connections.
const defaultMaxConnsPerIP = defaultMaxConns / 8

// serveFlags defines the flags of serve in fs, and returns where they go.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{maxBuffered: gateway.DefaultMaxBuffered, maxTemp: gateway.DefaultMaxTempBytes}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.StringVar(&o.admin, "admin", "127.0.0.1:9090", "address of /healthz, /metrics and /failures, the last refused requests each explained, with the signing debugger at /debug/ (empty: none)")
	fs.IntVar(&o.recentFailures, "recent-failures", gateway.DefaultRecentFailures, "how many refused requests /failures keeps, on --admin (0: none)")
	fs.Var(&o.upstreams, "upstream", "send the requests signed for SERVICE (or all) to `[SERVICE=]URL`, or to whoami; repeatable (default: all to whoami)")
	fs.StringVar(&o.store, "store", "sqlite:./sigv4.db", "credential store")
	fs.StringVar(&o.regions, "region", "us-east-1", "regions accepted in signatures, comma-separated, or *")
	fs.StringVar(&o.services, "service", "s3,sts", "services accepted in signatures, comma-separated, or *")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&o.errorFormat, "error-format", "xml", "error bodies: xml (S3 and query-API style) or json (AWS JSON protocol)")
	fs.BoolVar(&o.preserveHost, "preserve-host", false, "send the client's Host upstream (virtual-hosted buckets)")
	fs.StringVar(&o.upstream.credentials, "upstream-credentials", "", "sign again for the upstream with `SOURCE`: default (the AWS CLI's chain), profile:NAME, env, or file:PATH (a credentials file's key); clients never see these credentials")
	fs.StringVar(&o.upstream.region, "upstream-region", "", "region to sign for the upstream (default: the client's)")
	fs.StringVar(&o.upstream.mapFile, "upstream-map", "", "`file` of lines \"PRINCIPAL-or-ACCESS-KEY SOURCE\": those sign for the upstream with SOURCE's credentials instead")
	fs.StringVar(&o.upstream.roleARN, "upstream-role-arn", "", "assume this role with the upstream credentials, and sign with it")
	fs.BoolVar(&o.upstream.identityHeaders, "identity-headers", false, "send the X-Sigv4-* identity headers to an upstream with credentials too")
	fs.BoolVar(&o.upstream.unsigned, "upstream-unsigned-streaming", false, "send streamed uploads to an https upstream as UNSIGNED-PAYLOAD instead of signed chunks")
	fs.StringVar(&o.authority.url, "authority", "", "take keys from the key authority at `URL` (https://host:port) instead of a store: this gateway then holds no secret")
	fs.StringVar(&o.authority.cert, "cert", "", "with --authority: this gateway's certificate `file` (sigv4 authority grant)")
	fs.StringVar(&o.authority.key, "key", "", "with --authority: its private key `file`")
	fs.StringVar(&o.authority.ca, "ca", "", "with --authority: the authority's CA certificate `file`")
	fs.StringVar(&o.replay, "replay", "", "refuse a signed request seen before, with a replay cache: memory (this gateway) or redis://HOST:PORT/DB (all gateways on it)")
	fs.BoolVar(&o.replayPresigned, "replay-presigned", false, "with --replay: check presigned URLs too (a browser may fetch one twice)")
	fs.BoolVar(&o.replayFailOpen, "replay-fail-open", false, "with --replay: accept, counted and logged, what the cache cannot check (Redis down); default: refuse with 503")
	fs.StringVar(&o.postPolicy, "post-policy", gateway.PostAsPut, "what a verified browser upload (POST policy form) becomes upstream: put (its PutObject, re-signed where the upstream has credentials) or passthrough (the form itself, unsigned, for an upstream that reads forms)")
	fs.BoolVar(&o.sigV2, "sigv2", false, "also accept AWS Signature Version 2 (legacy S3 clients: s3cmd signurl, boto's 's3' signer); for service s3 only")
	fs.Var(&o.vhostDomains, "virtual-host-domain", "host `name` under which clients name a bucket in the host (bucket.NAME), which SigV2 signs; repeatable")
	fs.BoolVar(&o.streamHashed, "stream-hashed-bodies", false, "forward a body with a declared SHA-256 as it arrives, its last byte held back until it matched, instead of holding it whole: faster large uploads, but the upstream sees unverified bytes before the end")
	durationVar(fs, &o.idleTimeout, "idle-timeout", gateway.DefaultIdleTimeout, "drop a client whose upload or download stalls this long")
	fs.Var(&o.websocket, "websocket", "`services` (comma-separated) whose clients may upgrade to WebSocket; repeatable")
	durationVar(fs, &o.maxTunnel, "max-tunnel", gateway.DefaultMaxTunnel, "longest life of an upgraded connection")
	fs.IntVar(&o.maxConns, "max-conns", defaultMaxConns, "most client connections open at once")
	fs.IntVar(&o.maxConnsPerIP, "max-conns-per-ip", defaultMaxConnsPerIP, "most connections open at once from one client address (an IPv6 /64); 0: no limit")
	fs.IntVar(&o.maxPendingPerIP, "max-pending-per-ip", gateway.DefaultMaxPendingPerIP, "most requests of one client address waiting for their signature's verdict")
	durationVar(fs, &o.verdictTimeout, "verdict-timeout", gateway.DefaultVerdictTimeout, "longest a request may take to show a valid signature, body included where it is signed")
	fs.Var(&o.maxBuffered, "max-buffered", "most `bytes` of bodies held in memory while they are verified, all requests together")
	fs.Var(&o.maxTemp, "max-temp", "most `bytes` of bodies held in temporary files, all requests together")
	fs.StringVar(&o.tempDir, "temp-dir", "", "`directory` of the temporary files of large bodies (default: the system's)")
	fs.Var(&o.forwardHeaders, "forward-header", "override header `name` to forward as the client sent it (X-Forwarded-For...); repeatable")
	return o
}

type serveOptions struct {
	listen, admin, store, regions, services  string
	recentFailures                           int
	tlsCert, tlsKey, errorFormat, tempDir    string
	upstreams, websocket, forwardHeaders     stringList
	vhostDomains                             stringList
	upstream                                 upstreamFlags
	authority                                struct{ url, cert, key, ca string }
	signing                                  *gateway.Signing // made of upstream
	preserveHost, sigV2, streamHashed        bool
	replay                                   string
	replayPresigned, replayFailOpen          bool
	postPolicy                               string
	keysHealth                               func(context.Context) error
	keysLag                                  func() time.Duration
	idleTimeout, maxTunnel, verdictTimeout   time.Duration
	maxConns, maxConnsPerIP, maxPendingPerIP int
	maxBuffered, maxTemp                     byteSize
}

func (o *serveOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return fmt.Errorf("give both --tls-cert and --tls-key, or neither: %w", errUsage)
	}
	if err := o.checkLimits(); err != nil {
		return err
	}
	routes, err := o.routes()
	if err != nil {
		return err
	}
	signing, err := o.upstream.signing(ctx)
	if err != nil {
		return err
	}
	if signing != nil && !hasUpstream(routes) {
		return fmt.Errorf("--upstream-credentials sign for an upstream, and there is none: give --upstream URL: %w", errUsage)
	}
	o.signing = signing
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if o.authority.url != "" {
		return o.runOnAuthority(ctx, log)
	}
	store, err := credstore.Open(ctx, o.store, nil)
	if err != nil {
		return fmt.Errorf("opening the credential store %s: %w", o.store, err)
	}
	defer store.Close()
	o.keysHealth, o.keysLag = store.Ping, store.NotifyLag
	g, err := o.gateway(store, store.CacheStats, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	endpoint := o.endpoint(ln.Addr())
	if err := firstKey(ctx, store, o, endpoint, stdout); err != nil {
		ln.Close()
		return err
	}
	log.Info("serving", "endpoint", endpoint, "upstream", describeRoutes(routes), "store", o.store, "max_conns", o.maxConns)
	return o.serve(ctx, g, gateway.LimitListener(ln, o.maxConns, o.maxConnsPerIP), log)
}

// checkLimits refuses limits that are not positive (0 would mean the
// gateway's default, not "none", which it does not offer), and a
// --temp-dir that is not a directory.
func (o *serveOptions) checkLimits() error {
	for _, l := range []struct {
		flag string
		ok   bool
	}{
		{"max-conns", o.maxConns > 0},
		{"max-pending-per-ip", o.maxPendingPerIP > 0},
		{"verdict-timeout", o.verdictTimeout > 0},
		{"max-tunnel", o.maxTunnel > 0},
	} {
		if !l.ok {
			return fmt.Errorf("--%s must be positive: %w", l.flag, errUsage)
		}
	}
	if o.maxConnsPerIP < 0 {
		return fmt.Errorf("--max-conns-per-ip must not be negative (0: no limit): %w", errUsage)
	}
	if o.tempDir != "" {
		if fi, err := os.Stat(o.tempDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--temp-dir %s: not a directory: %w", o.tempDir, errUsage)
		}
	}
	return nil
}

// runOnAuthority serves with the keys of a key authority: no store, no
// sealing key, no secret on this machine.
func (o *serveOptions) runOnAuthority(ctx context.Context, log *slog.Logger) error {
	a := o.authority
	if a.cert == "" || a.key == "" || a.ca == "" {
		return fmt.Errorf("--authority needs --cert, --key and --ca: %w", errUsage)
	}
	client, err := authorityClient(a.url, a.cert, a.key, a.ca)
	if err != nil {
		return fmt.Errorf("--authority: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go client.Run(ctx)
	stats := func() (uint64, uint64) { h, m := client.Stats(); return uint64(h), uint64(m) }
	g, err := o.gateway(client, stats, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	log.Info("serving", "endpoint", o.endpoint(ln.Addr()), "upstream", describeRoutes(mustRoutes(o)), "authority", a.url, "max_conns", o.maxConns)
	return o.serve(ctx, g, gateway.LimitListener(ln, o.maxConns, o.maxConnsPerIP), log)
}

func mustRoutes(o *serveOptions) map[string]gateway.Route {
	r, _ := o.routes()
	return r
}

func (o *serveOptions) gateway(keys sigv4.KeySource, stats func() (uint64, uint64), log *slog.Logger) (*gateway.Gateway, error) {
	routes, err := o.routes()
	if err != nil {
		return nil, err
	}
	for service, r := range routes {
		if r.Upstream != nil {
			r.Signing = o.signing
			routes[service] = r
		}
	}
	format := gateway.FormatXML
	switch o.errorFormat {
	case "xml":
	case "json":
		format = gateway.FormatJSON
	default:
		return nil, fmt.Errorf("--error-format %q: want xml or json: %w", o.errorFormat, errUsage)
	}
	v := &sigv4.Verifier{Keys: keys, Regions: splitList(o.regions), Services: splitList(o.services),
		SigV2: o.sigV2, VirtualHostDomains: o.vhostDomains}
	var cache replay.Cache
	switch {
	case o.replay == "memory":
		cache = &replay.Memory{}
	case strings.HasPrefix(o.replay, "redis://") || strings.HasPrefix(o.replay, "rediss://"):
		r, err := replay.NewRedis(o.replay)
		if err != nil {
			return nil, fmt.Errorf("--replay: %w", err)
		}
		cache = r
	case o.replay != "":
		return nil, fmt.Errorf("--replay %q: want memory or redis://HOST:PORT/DB: %w", o.replay, errUsage)
	}
	failures := o.recentFailures
	if o.admin == "" {
		failures = 0 // the page is on the admin listener only
	}
	return gateway.New(gateway.Config{
		RecentFailures: failures,
		Replay:         cache, ReplayPresigned: o.replayPresigned, ReplayFailOpen: o.replayFailOpen,
		PostPolicy: o.postPolicy, KeysHealth: o.keysHealth, KeysNotifyLag: o.keysLag,
		Verifier: v, Routes: routes, PreserveHost: o.preserveHost, ErrorFormat: format,
		Logger: log, KeyCacheStats: stats, IdleTimeout: o.idleTimeout, StreamHashedBodies: o.streamHashed,
		ForwardOverrides: o.forwardHeaders, MaxTunnel: o.maxTunnel, TempDir: o.tempDir,
		MaxBuffered: int64(o.maxBuffered), MaxTempBytes: int64(o.maxTemp),
		VerdictTimeout: o.verdictTimeout, MaxPendingPerIP: o.maxPendingPerIP,
	})
}

// hasUpstream reports whether a route goes to an upstream, not whoami.
func hasUpstream(routes map[string]gateway.Route) bool {
	for _, r := range routes {
		if r.Upstream != nil {
			return true
		}
	}
	return false
}

// serve runs the gateway and the admin listener until ctx is done, then
// drains and shuts down gracefully.
func (o *serveOptions) serve(ctx context.Context, g *gateway.Gateway, ln net.Listener, log *slog.Logger) error {
	srv := gateway.NewServer(o.listen, g)
	errc := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			errc <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	var admin *http.Server
	if o.admin != "" {
		admin = &http.Server{Addr: o.admin, Handler: g.AdminHandler(), ReadHeaderTimeout: gateway.ReadHeaderTimeout}
		go func() {
			// Not fatal: the gateway serves without its admin listener.
			if err := admin.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Error("no /healthz or /metrics", "admin", o.admin, "err", err)
			}
		}()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing the requests in flight")
	g.Drain()
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if admin != nil {
		admin.Shutdown(shutdown)
	}
	return err
}

// endpoint is the URL clients use: the listener's address, with 127.0.0.1
// for an unspecified host.
func (o *serveOptions) endpoint(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
