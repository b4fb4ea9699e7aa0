package main

import (
	"context"
	"crypto/tls"
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/keyauthority"
)

var authorityCommand = &command{
	args:    true,
	name:    "authority",
	summary: "run the key authority: verifiers get scoped signing keys, never a secret",
	usage: `Usage: sigv4 authority <init|grant|serve|revoke> [flags]

The key authority holds the credential store and its sealing key, and hands
verifiers (sigv4 serve --authority) only the signing key of one access key
for one day, region and service, over mutual TLS, within each verifier's
grant. A verifier breached on one day in one region exposes those keys
only: revoke that region for those days, and nothing else changes.

  init                  make --dir: a CA, the authority's certificate (for
                        --host), and an admin grant and certificate
  grant --name NAME --regions R,... --services S,... [--admin]
                        grant a verifier its regions and services, and issue
                        its certificate and key (DIR/clients/NAME.crt, .key)
  serve                 serve the authority on --listen
  revoke --key AKID [--from DATE]
  revoke --region R [--service S] --from DATE --to DATE
                        refuse the keys of that scope everywhere, within a
                        second at connected verifiers (needs the admin
                        certificate, and the authority running)

Dates are YYYY-MM-DD (UTC). Only yesterday's, today's and tomorrow's keys are
served: a presigned URL older than a day is refused by such verifiers.

Examples:
  sigv4 authority init --dir /etc/sigv4-authority --host authority.internal
  sigv4 authority grant --dir /etc/sigv4-authority --name eu-gw --regions eu-west-1 --services s3
  sigv4 authority serve --dir /etc/sigv4-authority --listen :8443
  sigv4 serve --authority https://authority.internal:8443 --cert eu-gw.crt --key eu-gw.key \
    --ca ca.crt --region eu-west-1 --service s3
  sigv4 authority revoke --dir /etc/sigv4-authority --authority https://authority.internal:8443 \
    --region eu-west-1 --from 2026-12-01 --to 2026-12-03

Keys are managed with "sigv4 keys --store" on the authority's store.

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &authorityOptions{}
		fs.StringVar(&o.dir, "dir", "./sigv4-authority", "the authority's `directory`: CA, certificates, grants, revocations, audit log")
		fs.StringVar(&o.store, "store", "", "credential store `URL` (default sqlite:DIR/keys.db)")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8443", "serve: address to serve on")
		fs.StringVar(&o.hosts, "host", "127.0.0.1,localhost", "init: the `names` (comma-separated) of the authority's certificate")
		fs.StringVar(&o.caCert, "ca-cert", "", "init: adopt this existing CA's certificate `file` (PEM) instead of making one")
		fs.StringVar(&o.caKey, "ca-key", "", "init: and its EC private key `file` (PEM)")
		fs.StringVar(&o.name, "name", "", "grant: the verifier's `name`")
		fs.StringVar(&o.regions, "regions", "", "grant: its `regions`, comma-separated, or *")
		fs.StringVar(&o.services, "services", "", "grant: its `services`, comma-separated, or *")
		fs.BoolVar(&o.admin, "admin", false, "grant: may revoke")
		fs.StringVar(&o.url, "authority", "https://127.0.0.1:8443", "revoke: the authority's `URL`")
		fs.StringVar(&o.key, "key", "", "revoke: the access key `ID`")
		fs.StringVar(&o.region, "region", "", "revoke: the region")
		fs.StringVar(&o.service, "service", "", "revoke: the service (with --region)")
		fs.StringVar(&o.from, "from", "", "revoke: the first `date` refused, YYYY-MM-DD")
		fs.StringVar(&o.to, "to", "", "revoke: the last `date` refused, YYYY-MM-DD")
		fs.StringVar(&o.reason, "reason", "", "revoke: why, for the log")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if len(args) != 1 {
				return fmt.Errorf("want one subcommand: init, grant, serve or revoke: %w", errUsage)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			switch args[0] {
			case "init":
				return o.init(stdout)
			case "grant":
				return o.grant(stdout)
			case "serve":
				return o.serve(ctx, stderr)
			case "revoke":
				return o.revoke(ctx, stdout)
			}
			return fmt.Errorf("unknown subcommand %q: want init, grant, serve or revoke: %w", args[0], errUsage)
		}
	},
}

type authorityOptions struct {
	dir, store, listen, hosts, name, regions, services, url string
	key, region, service, from, to, reason, caCert, caKey   string
	admin                                                   bool
}

// Files of the authority's directory, beside the CA's.
const (
	authorityCert   = "authority.crt"
	authorityKey    = "authority.key"
	grantsFile      = "grants.json"
	revocationsFile = "revocations.jsonl"
	auditFile       = "audit.log"
	clientsDir      = "clients"
	adminName       = "admin"
)

func (o *authorityOptions) init(stdout io.Writer) error {
	if _, err := os.Stat(filepath.Join(o.dir, "ca.key")); err == nil {
		return fmt.Errorf("%s already holds an authority", o.dir)
	}
	if err := os.MkdirAll(filepath.Join(o.dir, clientsDir), 0o700); err != nil {
		return err
	}
	ca, err := o.makeCA()
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue("authority", splitList(o.hosts)...)
	if err != nil {
		return err
	}
	if err := writePair(o.dir, "authority", certPEM, keyPEM); err != nil {
		return err
	}
	o.name, o.regions, o.services, o.admin = adminName, "*", "*", true
	if err := o.grant(io.Discard); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "made the key authority in %s: its CA (ca.crt), its certificate for %s, and the admin certificate (%s)\n",
		o.dir, o.hosts, filepath.Join(o.dir, clientsDir, adminName+".crt"))
	return nil
}

// makeCA makes the authority's own CA, or adopts an existing one
// (--ca-cert, --ca-key), whose certificates the authority then trusts.
func (o *authorityOptions) makeCA() (*keyauthority.CA, error) {
	if o.caCert == "" && o.caKey == "" {
		return keyauthority.NewCA(o.dir)
	}
	certPEM, err := os.ReadFile(o.caCert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(o.caKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.dir, "ca.crt"), certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.dir, "ca.key"), keyPEM, 0o600); err != nil {
		return nil, err
	}
	return keyauthority.LoadCA(o.dir)
}

// revocations are kept beside the keys: in the PostgreSQL database of a
// postgres:// store (shared by replicas of the authority), else in a file
// of the authority's directory.
func (o *authorityOptions) revocations(ctx context.Context) (keyauthority.Revocations, func() error, error) {
	if strings.HasPrefix(o.store, "postgres") {
		u, err := url.Parse(o.store)
		if err != nil {
			return nil, nil, err
		}
		q := u.Query()
		q.Del("keyfile")
		u.RawQuery = q.Encode()
		r, err := keyauthority.OpenPostgresRevocations(ctx, u.String())
		if err != nil {
			return nil, nil, fmt.Errorf("the revocations in %s: %w", u.Redacted(), err)
		}
		return r, r.Close, nil
	}
	r, err := keyauthority.OpenRevocationLog(filepath.Join(o.dir, revocationsFile), nil)
	if err != nil {
		return nil, nil, err
	}
	return r, r.Close, nil
}

func writePair(dir, name string, certPEM, keyPEM []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), certPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), keyPEM, 0o600)
}

func (o *authorityOptions) grant(stdout io.Writer) error {
	if o.name == "" || o.regions == "" || o.services == "" || strings.ContainsAny(o.name, "/\\ ") {
		return fmt.Errorf("grant needs --name (no slash or space), --regions and --services: %w", errUsage)
	}
	ca, err := keyauthority.LoadCA(o.dir)
	if err != nil {
		return fmt.Errorf("%s: %w (run sigv4 authority init)", o.dir, err)
	}
	grants, err := keyauthority.LoadGrants(filepath.Join(o.dir, grantsFile))
	if err != nil {
		return err
	}
	g := keyauthority.Grant{Name: o.name, Regions: splitList(o.regions), Services: splitList(o.services), Admin: o.admin}
	if err := grants.Put(g); err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(o.name)
	if err != nil {
		return err
	}
	dir := filepath.Join(o.dir, clientsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := writePair(dir, o.name, certPEM, keyPEM); err != nil {
		return err
	}
	if err := o.auditLine("grant", "name", g.Name, "regions", strings.Join(g.Regions, ","), "services", strings.Join(g.Services, ","),
		"admin", g.Admin); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "granted %s %s for %s; its certificate and key: %s.crt, %s.key (with %s)\n", o.name,
		strings.Join(g.Services, ","), strings.Join(g.Regions, ","), filepath.Join(dir, o.name), filepath.Join(dir, o.name),
		filepath.Join(o.dir, "ca.crt"))
	return nil
}

// auditLine appends one line to the authority's audit log, which the
// running authority appends to as well.
func (o *authorityOptions) auditLine(msg string, args ...any) error {
	f, err := os.OpenFile(filepath.Join(o.dir, auditFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	slog.New(slog.NewJSONHandler(f, nil)).Info(msg, append([]any{"by", "sigv4 authority " + msg}, args...)...)
	return f.Sync()
}

func (o *authorityOptions) serve(ctx context.Context, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	store, err := credstore.Open(ctx, or(o.store, "sqlite:"+filepath.Join(o.dir, "keys.db")), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	grants, err := keyauthority.LoadGrants(filepath.Join(o.dir, grantsFile))
	if err != nil {
		return err
	}
	revs, closeRevs, err := o.revocations(ctx)
	if err != nil {
		return err
	}
	defer closeRevs()
	audit, err := os.OpenFile(filepath.Join(o.dir, auditFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer audit.Close()
	tlsConfig, err := o.serverTLS()
	if err != nil {
		return err
	}
	s := &keyauthority.Server{Keys: store, Store: store, Grants: grants, Revocations: revs, Audit: slog.New(slog.NewJSONHandler(audit, nil))}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), TLSConfig: tlsConfig, ReadHeaderTimeout: gateway.ReadHeaderTimeout}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	log.Info("key authority serving", "listen", "https://"+ln.Addr().String(), "dir", o.dir)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return nil
}

func (o *authorityOptions) serverTLS() (*tls.Config, error) {
	caPEM, err := os.ReadFile(filepath.Join(o.dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run sigv4 authority init)", o.dir, err)
	}
	certPEM, err := os.ReadFile(filepath.Join(o.dir, authorityCert))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(o.dir, authorityKey))
	if err != nil {
		return nil, err
	}
	return keyauthority.ServerTLS(caPEM, certPEM, keyPEM)
}

func (o *authorityOptions) revoke(ctx context.Context, stdout io.Writer) error {
	r := keyauthority.Revocation{AccessKeyID: o.key, Region: o.region, Service: o.service, Reason: o.reason}
	var err error
	if r.From, err = compactDate(o.from); err != nil {
		return err
	}
	if r.To, err = compactDate(o.to); err != nil {
		return err
	}
	if (o.key == "") == (o.region == "") {
		return fmt.Errorf("revoke names --key or --region: %w", errUsage)
	}
	c, err := authorityClient(o.url, filepath.Join(o.dir, clientsDir, adminName+".crt"), filepath.Join(o.dir, clientsDir, adminName+".key"),
		filepath.Join(o.dir, "ca.crt"))
	if err != nil {
		return err
	}
	got, err := c.Revoke(ctx, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revocation %d recorded at %s\n", got.Seq, got.Time.Format(time.RFC3339))
	return nil
}

// compactDate turns YYYY-MM-DD into YYYYMMDD.
func compactDate(d string) (string, error) {
	if d == "" {
		return "", nil
	}
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return "", fmt.Errorf("date %q: want YYYY-MM-DD: %w", d, errUsage)
	}
	return t.Format("20060102"), nil
}

// authorityClient is a keyauthority.Client with a verifier's certificate.
func authorityClient(url, certFile, keyFile, caFile string) (*keyauthority.Client, error) {
	var pems [3][]byte
	for i, f := range []string{caFile, certFile, keyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pems[i] = b
	}
	cfg, err := keyauthority.ClientTLS(pems[0], pems[1], pems[2])
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(url, "https://") {
		return nil, errors.New("the authority's URL is https://host:port")
	}
	return keyauthority.NewClient(url, cfg), nil
}
