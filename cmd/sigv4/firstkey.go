package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// Where the first start keeps the first key's credentials when its output
// is not a terminal: a shared credentials file next to the store, as the
// AWS CLI and SDKs read them.
const (
	adminCredentialsFile = "sigv4-admin.credentials"
	adminProfile         = "sigv4-admin"
)

// firstKey creates an access key in an empty store and tells how to use
// it, with an AWS CLI command that works right away. Its secret is printed
// only to a terminal: the output of a service is kept (journald, docker
// logs), so there the credentials go to a file next to the store that only
// this user may read, and only its name is printed.
func firstKey(ctx context.Context, store *credstore.Store, o *serveOptions, endpoint string, w io.Writer) error {
	keys, err := store.List(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	if strings.HasPrefix(o.store, "postgres") {
		// A store shared by several gateways: which one would make the
		// first key? None; the operator does.
		fmt.Fprintf(w, "sigv4 serve: the store %s has no key yet: create one with \"sigv4 keys create --name NAME --store URL\", URL the same as serve's\n", redactURL(o.store))
		return nil
	}
	if !isTerminal(w) {
		return firstKeyToFile(ctx, store, o, endpoint, w)
	}
	_, creds, err := store.Create(ctx, "admin", credstore.CreateOptions{})
	if err != nil {
		return err
	}
	region := o.firstRegion()
	fmt.Fprintf(w, `sigv4 serve: the store %s was empty: created the access key %s.
Its secret is shown only now. Paste this to try the gateway:

  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s AWS_DEFAULT_REGION=%s
  %s

`, o.store, creds.AccessKeyID, creds.AccessKeyID, creds.SecretAccessKey, region, region, o.tryCommand(endpoint))
	return nil
}

// firstKeyToFile creates the first key with its credentials in
// adminCredentialsFile, and prints the file's name and how to use it. The
// file is made first, and never over another (nor through a link planted
// in its place); if the key cannot be written there, it is deleted, so that
// the next start tries again.
func firstKeyToFile(ctx context.Context, store *credstore.Store, o *serveOptions, endpoint string, w io.Writer) error {
	dir, err := credstore.Dir(o.store)
	if err != nil {
		return err
	}
	path, err := filepath.Abs(filepath.Join(dir, adminCredentialsFile))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("the store %s is empty, and %s exists already, from an earlier store: remove it, and start again to create the first key", o.store, path)
	}
	if err != nil {
		return fmt.Errorf("writing the first key's credentials: %w", err)
	}
	k, creds, err := store.Create(ctx, "admin", credstore.CreateOptions{})
	if err == nil {
		err = writeCredentialsFile(f, o.store, creds)
		if err != nil {
			store.Delete(ctx, k.AccessKeyID)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing the first key's credentials to %s: %w", path, err)
	}
	region := o.firstRegion()
	fmt.Fprintf(w, `sigv4 serve: the store %s was empty: created the access key %s.
The output is not a terminal, so its secret is not shown: it is in %s
(mode 0600, profile %s). Try the gateway with:

  AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s AWS_REGION=%s AWS_DEFAULT_REGION=%s %s

Keep the secret elsewhere and delete the file: it is not needed to serve.

`, o.store, creds.AccessKeyID, path, adminProfile, shellQuote(path), adminProfile, region, region, o.tryCommand(endpoint))
	return nil
}

// writeCredentialsFile writes creds as the adminProfile of a shared
// credentials file, durably.
func writeCredentialsFile(f *os.File, store string, creds sigv4.Credentials) error {
	_, err := fmt.Fprintf(f, "# The first access key of the sigv4 store %s.\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		store, adminProfile, creds.AccessKeyID, creds.SecretAccessKey)
	if err != nil {
		return err
	}
	return f.Sync()
}

// isTerminal reports whether w is a terminal (a character device), which
// a person reads and no service manager logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// firstRegion is a region the gateway accepts, for the printed command.
func (o *serveOptions) firstRegion() string {
	region := splitList(o.regions)[0]
	if region == "*" {
		region = "us-east-1"
	}
	return region
}

// tryCommand is a command that the gateway answers, for the services it
// accepts: STS GetCallerIdentity where whoami answers STS, else S3
// ListBuckets ("aws s3 ls", which whoami answers too), else STS upstream,
// else a signed GET of the first service with sigv4 curl.
func (o *serveOptions) tryCommand(endpoint string) string {
	services := splitList(o.services)
	switch {
	case accepts(services, "sts") && o.whoamiAnswers("sts"):
		return "aws sts get-caller-identity --endpoint-url " + endpoint
	case accepts(services, "s3"):
		return "aws s3 ls --endpoint-url " + endpoint
	case accepts(services, "sts"):
		return "aws sts get-caller-identity --endpoint-url " + endpoint
	}
	if len(services) == 0 {
		return "aws sts get-caller-identity --endpoint-url " + endpoint
	}
	return "go run ./cmd/sigv4 curl --service " + services[0] + " --region " + o.firstRegion() + " " + endpoint + "/"
}

// shellQuote quotes s for a POSIX shell, unless it needs no quotes.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		safe = safe && (isAlnum(c) || strings.ContainsRune("/._-+=:,@%", c))
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isAlnum(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// redactURL drops a URL's password for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}
