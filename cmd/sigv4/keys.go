package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/keyauthority"
)

var keysCommand = &command{
	args:    true,
	name:    "keys",
	summary: "create, list, disable, rotate access keys of a credential store",
	usage: `Usage: sigv4 keys <create|list|disable|enable|delete|rotate|session> [flags]

Manages the access keys that "sigv4 serve" accepts, in a credential store
(default sqlite:./sigv4.db, its secrets sealed under ./sigv4.db.key, which
is created with mode 0600 and must stay readable by you alone).

  create --name NAME       a long-term key (AKIA...), with --expires,
                           --services, --regions, --principal to limit it
  list                     every key, without secrets
  disable ACCESS_KEY_ID    refuse the key (and its sessions) until enable
  enable ACCESS_KEY_ID
  delete ACCESS_KEY_ID     remove the key and its sessions
  rotate ACCESS_KEY_ID     a new key for the same user; the old one is
                           disabled, to delete once clients have the new one
  session ACCESS_KEY_ID    temporary credentials (ASIA..., with a session
                           token) from a long-term key, for --duration
                           (15m to 36h, default 12h), as STS GetSessionToken

A secret is printed once, when it is made: it cannot be read back. A
running "sigv4 serve" on the same store sees a change within 5 seconds.

Examples:
  # A key for alice, for S3 in eu-west-1 only, valid 90 days:
  sigv4 keys create --name alice --services s3 --regions eu-west-1 --expires 90d

  # Use a new key in this shell:
  eval "$(sigv4 keys create --name ci)"

  # One-hour credentials from alice's key, for a script:
  sigv4 keys session AKIAIOSFODNN7EXAMPLE --duration 1h --json

  # Disable every key of bob:
  sigv4 keys list --json | jq -r '.[] | select(.Name == "bob") | .AccessKeyId' |
    xargs -n1 sigv4 keys disable

  sigv4 keys list --store sqlite:/var/lib/sigv4/keys.db

With --json, create, rotate and session print one object, in the format of
the AWS CLI's credential_process (Version, AccessKeyId, SecretAccessKey,
SessionToken, Expiration) and with the fields list prints for each key:
Name, Principal, Status, Expired, Created, LastUsed, Services, Regions,
Parent. Times are RFC 3339, in UTC.

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &keysOptions{}
		fs.StringVar(&o.store, "store", credstore.DefaultURL, "credential store `URL`: sqlite:PATH[?keyfile=FILE], or a PATH")
		fs.BoolVar(&o.json, "json", false, "print JSON, for scripts")
		fs.StringVar(&o.name, "name", "", "create: the user `name` the key belongs to")
		fs.StringVar(&o.principal, "principal", "", "create: principal `ARN` (default arn:aws:iam::000000000000:user/NAME)")
		fs.StringVar(&o.expires, "expires", "", "create: expiry, a duration (90d, 12h) or a time (2026-01-31 or RFC 3339, UTC)")
		fs.StringVar(&o.services, "services", "", "create: the only `services` the key may sign for, comma-separated (default any)")
		fs.StringVar(&o.regions, "regions", "", "create: the only `regions` the key may sign for, comma-separated (default any)")
		fs.StringVar(&o.accessKey, "access-key", "", "the access key `ID` to disable, enable, delete, rotate or start a session from")
		fs.StringVar(&o.duration, "duration", "", "session: how long the credentials last, 15m to 36h (default 12h)")
		fs.StringVar(&o.authority.url, "authority", "", "manage the keys of the key authority at `URL` instead of a store (an admin grant's --cert, --key, --ca)")
		fs.StringVar(&o.authority.cert, "cert", "", "with --authority: the admin certificate `file`")
		fs.StringVar(&o.authority.key, "key", "", "with --authority: its private key `file`")
		fs.StringVar(&o.authority.ca, "ca", "", "with --authority: the authority's CA certificate `file`")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if len(args) == 0 {
				return fmt.Errorf("want a subcommand: create, list, disable, enable, delete, rotate or session: %w", errUsage)
			}
			o.sub, args = args[0], args[1:]
			if err := o.check(fs, args); err != nil {
				return err
			}
			return o.run(context.Background(), stdout)
		}
	},
}

type keysOptions struct {
	sub                                         string
	store                                       string
	json                                        bool
	name, principal, expires, services, regions string
	accessKey, duration                         string
	authority                                   struct{ url, cert, key, ca string }
}

// keysFlags are the flags each subcommand takes, besides --store and --json.
var keysFlags = map[string][]string{
	"create":  {"name", "principal", "expires", "services", "regions"},
	"list":    nil,
	"disable": {"access-key"},
	"enable":  {"access-key"},
	"delete":  {"access-key"},
	"rotate":  {"access-key"},
	"session": {"access-key", "duration"},
}

// check rejects flags and arguments the subcommand does not take, and
// takes the access key from the arguments.
func (o *keysOptions) check(fs *flag.FlagSet, args []string) error {
	allowed, ok := keysFlags[o.sub]
	if !ok {
		return fmt.Errorf("unknown subcommand %q: want create, list, disable, enable, delete, rotate or session: %w", o.sub, errUsage)
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		common := f.Name == "store" || f.Name == "json" || f.Name == "authority" || f.Name == "cert" || f.Name == "key" || f.Name == "ca"
		if !common && !slices.Contains(allowed, f.Name) && bad == nil {
			bad = fmt.Errorf("--%s does not apply to keys %s: %w", f.Name, o.sub, errUsage)
		}
	})
	if bad != nil {
		return bad
	}
	takesKey := slices.Contains(allowed, "access-key")
	switch {
	case len(args) > 1 || len(args) == 1 && !takesKey:
		return fmt.Errorf("unexpected argument %q: %w", args[len(args)-1], errUsage)
	case len(args) == 1 && o.accessKey != "" && args[0] != o.accessKey:
		return fmt.Errorf("two access keys, %s and --access-key %s: %w", args[0], o.accessKey, errUsage)
	case len(args) == 1:
		o.accessKey = args[0]
	}
	if takesKey && o.accessKey == "" {
		return fmt.Errorf("keys %s needs an access key ID (see \"sigv4 keys list\"): %w", o.sub, errUsage)
	}
	if o.sub == "create" && o.name == "" {
		return fmt.Errorf("keys create needs --name, the user the key is for: %w", errUsage)
	}
	return nil
}

func (o *keysOptions) run(ctx context.Context, stdout io.Writer) error {
	s, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	switch o.sub {
	case "create":
		return o.create(ctx, s, stdout)
	case "list":
		keys, err := s.List(ctx)
		if err != nil {
			return err
		}
		return printKeyList(stdout, keys, time.Now(), o.json)
	case "disable", "enable", "delete":
		return o.setStatus(ctx, s, stdout)
	case "rotate":
		k, creds, err := s.Rotate(ctx, o.accessKey)
		if err != nil && k.AccessKeyID == "" {
			return o.notFound(err)
		}
		note := fmt.Sprintf("replaces %s, disabled now: delete it once no client uses it, with \"sigv4 keys delete %s%s\"",
			o.accessKey, o.accessKey, o.storeFlag())
		if perr := printNewKey(stdout, k, creds, o.json, note); perr != nil {
			return perr
		}
		return err // the new key is printed, and the old one still works
	case "session":
		ttl, err := o.sessionDuration()
		if err != nil {
			return err
		}
		k, creds, err := s.Session(ctx, o.accessKey, ttl)
		if err != nil {
			return o.notFound(err)
		}
		return printNewKey(stdout, k, creds, o.json, "")
	}
	return nil
}

// open opens the store; only create may make a new one.
// keyStore is what "sigv4 keys" changes: a credential store, or a key
// authority's, through the authority (--authority).
type keyStore interface {
	Create(ctx context.Context, name string, opts credstore.CreateOptions) (credstore.Key, sigv4.Credentials, error)
	List(ctx context.Context) ([]credstore.Key, error)
	Get(ctx context.Context, accessKeyID string) (credstore.Key, error)
	Disable(ctx context.Context, accessKeyID string) error
	Enable(ctx context.Context, accessKeyID string) error
	Delete(ctx context.Context, accessKeyID string) error
	Rotate(ctx context.Context, accessKeyID string) (credstore.Key, sigv4.Credentials, error)
	Session(ctx context.Context, accessKeyID string, ttl time.Duration) (credstore.Key, sigv4.Credentials, error)
	Close() error
}

func (o *keysOptions) open(ctx context.Context) (keyStore, error) {
	if o.authority.url != "" {
		if o.authority.cert == "" || o.authority.key == "" || o.authority.ca == "" {
			return nil, fmt.Errorf("--authority needs --cert, --key and --ca (an admin grant's): %w", errUsage)
		}
		c, err := authorityClient(o.authority.url, o.authority.cert, o.authority.key, o.authority.ca)
		if err != nil {
			return nil, err
		}
		return keyauthority.NewAdmin(c), nil
	}
	s, err := credstore.Open(ctx, o.store, &credstore.Options{MustExist: o.sub != "create"})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w; create a key first with \"sigv4 keys create --name NAME%s\", or give --store", err, o.storeFlag())
	}
	return s, err
}

// storeFlag is the --store flag to repeat in advice, if not the default.
func (o *keysOptions) storeFlag() string {
	if o.store == credstore.DefaultURL {
		return ""
	}
	return " --store " + o.store
}

func (o *keysOptions) notFound(err error) error {
	if errors.Is(err, credstore.ErrNotFound) {
		return fmt.Errorf("%w; see the keys with \"sigv4 keys list%s\"", err, o.storeFlag())
	}
	return err
}

func (o *keysOptions) create(ctx context.Context, s keyStore, stdout io.Writer) error {
	opts := credstore.CreateOptions{Principal: o.principal, Services: splitFlag(o.services), Regions: splitFlag(o.regions)}
	if o.expires != "" {
		t, err := parseExpiry(o.expires, time.Now())
		if err != nil {
			return err
		}
		opts.Expires = t
	}
	k, creds, err := s.Create(ctx, o.name, opts)
	if err != nil {
		return err
	}
	return printNewKey(stdout, k, creds, o.json, "")
}

func (o *keysOptions) setStatus(ctx context.Context, s keyStore, stdout io.Writer) error {
	k, err := s.Get(ctx, o.accessKey)
	if err != nil {
		return o.notFound(err)
	}
	var done string
	switch o.sub {
	case "disable":
		err, k.Status, done = s.Disable(ctx, o.accessKey), credstore.Disabled, "disabled"
	case "enable":
		err, k.Status, done = s.Enable(ctx, o.accessKey), credstore.Active, "enabled"
	case "delete":
		err, done = s.Delete(ctx, o.accessKey), "deleted"
	}
	if err != nil {
		return o.notFound(err)
	}
	if o.json {
		return writeJSON(stdout, keyJSONOf(k, time.Now()))
	}
	_, err = fmt.Fprintf(stdout, "%s %s (%s)\n", done, k.AccessKeyID, k.Name)
	return err
}

func (o *keysOptions) sessionDuration() (time.Duration, error) {
	if o.duration == "" {
		return 0, nil
	}
	return parseDuration("duration", o.duration)
}

func splitFlag(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseExpiry reads --expires: a duration from now (with d for days), a
// date (midnight UTC at its start) or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, ok := durationOf(s); ok {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--expires %q: want a duration (90s, 15m, 12h, 7d), a number of seconds, a date (2026-01-31) or an RFC 3339 time: %w", s, errUsage)
}
