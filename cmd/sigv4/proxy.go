package main

import (
	"context"
	"errors"
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

	"github.com/sigv4/sigv4/gateway"
)

var proxyCommand = &command{
	name:    "proxy",
	summary: "sign the requests of programs that cannot: a local signing proxy to one AWS endpoint",
	usage: `Usage: sigv4 proxy --upstream URL [flags]

Takes unsigned requests and forwards them to URL, signed with AWS Signature
Version 4 with the credentials the AWS CLI would use (--profile or
AWS_PROFILE, the environment, ~/.aws, SSO, container and instance
metadata; temporary credentials are refreshed). The service and region
are inferred from URL's host; --service and --region say them otherwise.

Bodies stream: to S3 over https as UNSIGNED-PAYLOAD, over http as signed
aws-chunked; a body of unknown length, or one for a service that wants its
hash, is held in a temporary file (--max-body) first.

It signs for whoever reaches it, so it listens on 127.0.0.1 only unless
--allow-remote; it signs for URL only (a client's Host is ignored) and
removes any Authorization a client sent.

Examples:
  sigv4 proxy --upstream https://my-bucket.s3.eu-west-1.amazonaws.com
  curl -T backup.tar http://127.0.0.1:8080/backup.tar
  sigv4 proxy --upstream https://search-logs.eu-west-1.es.amazonaws.com --listen 127.0.0.1:9200

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &proxyOptions{}
		fs.StringVar(&o.upstream, "upstream", "", "the `URL` to sign for and send to (required)")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
		fs.BoolVar(&o.allowRemote, "allow-remote", false, "serve on an address other than loopback: anyone who reaches it signs with your credentials")
		fs.StringVar(&o.service, "service", "", "service to sign for (default: inferred from the upstream host)")
		fs.StringVar(&o.region, "region", "", "region to sign for (default: inferred, else the profile's)")
		fs.BoolVar(&o.sigv4a, "sigv4a", false, "sign with SigV4a for every region (multi-region endpoints)")
		fs.StringVar(&o.profile, "profile", "", "the AWS profile to sign with (default: AWS_PROFILE or default)")
		o.maxBody = byteSize(gateway.DefaultMaxBody)
		fs.Var(&o.maxBody, "max-body", "largest body held to be hashed, in `bytes` (default 5GiB)")
		fs.StringVar(&o.tempDir, "temp-dir", "", "`directory` of held bodies (default: the system's)")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, stderr)
		}
	},
}

type proxyOptions struct {
	upstream, listen, service, region, profile, tempDir string
	allowRemote, sigv4a                                 bool
	maxBody                                             byteSize
}

func (o *proxyOptions) run(ctx context.Context, stderr io.Writer) error {
	if err := checkLoopback(o.listen, o.allowRemote); err != nil {
		return err
	}
	p, err := o.proxy(ctx, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	return serveProxy(ctx, p, ln, o, stderr)
}

// proxy builds the SigningProxy of the flags: the upstream, its scope,
// and the local credentials, asked for once so that none fails at start.
func (o *proxyOptions) proxy(ctx context.Context, log *slog.Logger) (*gateway.SigningProxy, error) {
	u, err := url.Parse(o.upstream)
	if o.upstream == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--upstream %q: want http(s)://host[:port]: %w", o.upstream, errUsage)
	}
	service, region := inferScope(u.Host)
	service, region = or(o.service, service), or(o.region, region)
	source := "default"
	if o.profile != "" {
		source = "profile:" + o.profile
	}
	f := &upstreamFlags{credentials: source}
	provider, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	creds := gateway.AWSCredentials(provider)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := creds.Retrieve(rctx); err != nil {
		return nil, fmt.Errorf("%w\n(the AWS SDK said: %v)", errNoCredentials, err)
	}
	cfg := gateway.ProxyConfig{Upstream: u, Credentials: creds, Service: service, Region: region,
		MaxBody: int64(o.maxBody), TempDir: o.tempDir, Logger: log}
	if o.sigv4a {
		cfg.Region, cfg.RegionSet = "", []string{"*"}
	}
	if service == "" || (region == "" && !o.sigv4a) {
		return nil, fmt.Errorf("cannot infer the service and region of %s: give --service and --region: %w", u.Host, errUsage)
	}
	return gateway.NewSigningProxy(cfg)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkLoopback refuses to listen beyond loopback unless allowed: the
// proxy signs for whoever reaches it.
func checkLoopback(listen string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %v: %w", listen, err, errUsage)
	}
	ip := net.ParseIP(host)
	loopback := strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	if !loopback && !allowRemote {
		return fmt.Errorf("--listen %s is not a loopback address: anyone who reaches it would sign with your credentials; add --allow-remote if that is what you want: %w", listen, errUsage)
	}
	return nil
}

// serveProxy serves p on ln until ctx is done.
func serveProxy(ctx context.Context, p http.Handler, ln net.Listener, o *proxyOptions, stderr io.Writer) error {
	fmt.Fprintf(stderr, "sigv4 proxy: http://%s signs for %s\n", ln.Addr(), o.upstream)
	return serveUntil(ctx, p, ln, 30*time.Second)
}

// serveUntil serves h on ln until ctx is done, then lets the requests in
// flight finish for up to grace.
func serveUntil(ctx context.Context, h http.Handler, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: gateway.ReadHeaderTimeout}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(shutdown)
}
