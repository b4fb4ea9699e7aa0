package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
)

var serveCommand = &command{
	name:    "serve",
	summary: "run the authentication gateway in front of an HTTP service",
	usage: `Usage: sigv4 serve [flags]

Verifies every request with AWS Signature Version 4 against the access keys
of a credential store, and forwards what verified to --upstream with the
signer's identity in X-Sigv4-Access-Key and X-Sigv4-Principal. Without
--upstream it answers as a whoami service: STS GetCallerIdentity, and the
verified identity as JSON to anything else.

On first start with an empty store it creates the store, one access key, and
prints them with a command to paste.

Examples:
  # Try it: the printed AWS CLI command talks to it.
  sigv4 serve

  # In front of an S3-compatible server, over TLS:
  sigv4 serve --listen :8443 --upstream http://127.0.0.1:9000 \
    --tls-cert cert.pem --tls-key key.pem --region eu-west-1

  # Manage keys (see "sigv4 help keys"):
  sigv4 keys create --name alice

/healthz and /metrics (Prometheus) are served on --admin, not on the
gateway's listener, where every path belongs to the upstream.

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &serveOptions{}
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
		fs.StringVar(&o.admin, "admin", "127.0.0.1:9090", "address of /healthz and /metrics (empty: none)")
		fs.StringVar(&o.upstream, "upstream", "", "URL to forward verified requests to (default: the built-in whoami)")
		fs.StringVar(&o.store, "store", "sqlite:./sigv4.db", "credential store")
		fs.StringVar(&o.regions, "region", "us-east-1", "regions accepted in signatures, comma-separated, or *")
		fs.StringVar(&o.services, "service", "s3,sts", "services accepted in signatures, comma-separated, or *")
		fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM)")
		fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key `file` (PEM)")
		fs.StringVar(&o.errorFormat, "error-format", "xml", "error bodies: xml (S3 and query-API style) or json (AWS JSON protocol)")
		fs.BoolVar(&o.preserveHost, "preserve-host", false, "send the client's Host upstream (virtual-hosted buckets)")
		fs.DurationVar(&o.idleTimeout, "idle-timeout", gateway.DefaultIdleTimeout, "drop a client whose upload or download stalls this long")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, stdout, stderr)
		}
	},
}

type serveOptions struct {
	listen, admin, upstream, store, regions, services string
	tlsCert, tlsKey, errorFormat                      string
	preserveHost                                      bool
	idleTimeout                                       time.Duration
}

func (o *serveOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return fmt.Errorf("give both --tls-cert and --tls-key, or neither: %w", errUsage)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	store, err := credstore.Open(ctx, o.store, nil)
	if err != nil {
		return fmt.Errorf("opening the credential store %s: %w", o.store, err)
	}
	defer store.Close()
	g, err := o.gateway(store, log)
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
	log.Info("serving", "endpoint", endpoint, "upstream", cmp.Or(o.upstream, "whoami"), "store", o.store)
	return o.serve(ctx, g, ln, log)
}

func (o *serveOptions) gateway(store *credstore.Store, log *slog.Logger) (*gateway.Gateway, error) {
	var upstream *url.URL
	if o.upstream != "" {
		u, err := url.Parse(o.upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--upstream %q: want http://host:port or https://host:port: %w", o.upstream, errUsage)
		}
		upstream = u
	}
	format := gateway.FormatXML
	switch o.errorFormat {
	case "xml":
	case "json":
		format = gateway.FormatJSON
	default:
		return nil, fmt.Errorf("--error-format %q: want xml or json: %w", o.errorFormat, errUsage)
	}
	v := &sigv4.Verifier{Keys: store, Regions: splitList(o.regions), Services: splitList(o.services)}
	return gateway.New(gateway.Config{
		Verifier: v, Upstream: upstream, PreserveHost: o.preserveHost, ErrorFormat: format,
		Logger: log, KeyCacheStats: store.CacheStats, IdleTimeout: o.idleTimeout,
	})
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
