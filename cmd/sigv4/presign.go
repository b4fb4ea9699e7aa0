package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

var presignCommand = &command{
	args:    true,
	name:    "presign",
	summary: "print a presigned URL",
	usage: `Usage: sigv4 presign [flags] URL

Prints a presigned URL: anyone holding it can make the request, with no
credentials, until it expires (1 second to 7 days). Credentials, service
and region are found as for "sigv4 curl". Headers given with -H are signed:
whoever uses the URL must send them, with the same values.

Examples:
  # A link to an object, valid 15 minutes:
  sigv4 presign https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv

  # Let someone upload one object within the hour, with a content type:
  sigv4 presign -X PUT --expires 1h -H 'Content-Type: text/csv' \
    https://my-bucket.s3.amazonaws.com/upload.csv
  curl -T data.csv -H 'Content-Type: text/csv' "$URL"

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &curlOptions{}
		var expires string
		stringVar(fs, &o.method, []string{"X", "method"}, "GET", "request `method`")
		listVar(fs, &o.headers, []string{"H", "header"}, "sign a header, 'Name: value' (repeatable; must be sent)")
		fs.StringVar(&expires, "expires", "15m", "how long the URL is valid: a duration (15m, 12h) or seconds")
		fs.StringVar(&o.region, "region", "", "region of the credential scope (default: from the host, else the profile's)")
		fs.StringVar(&o.service, "service", "", "service of the credential scope (default: from the host)")
		o.defineSigV4a(fs)
		fs.StringVar(&o.profile, "profile", "", "AWS CLI profile for credentials and region (default: AWS_PROFILE)")
		fs.StringVar(&o.at, "time", "", "signing time, RFC 3339 (default now)")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if len(args) != 1 {
				return fmt.Errorf("want one URL, got %d arguments: %w", len(args), errUsage)
			}
			ttl, err := parseExpires(expires)
			if err != nil {
				return err
			}
			return o.presign(context.Background(), args[0], ttl, stdout, stderr)
		}
	},
}

func parseExpires(s string) (time.Duration, error) { return parseDuration("expires", s) }

func (o *curlOptions) presign(ctx context.Context, rawURL string, ttl time.Duration, stdout, stderr io.Writer) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	signer, err := o.signer(ctx, u)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(o.method), u.String(), nil)
	if err != nil {
		return err
	}
	req.URL = u
	if err := addHeaders(req.Header, o.headers); err != nil {
		return err
	}
	if err := signer.Presign(req, ttl); err != nil {
		return err
	}
	fmt.Fprintln(stdout, req.URL.String())
	if len(o.headers) > 0 {
		fmt.Fprintf(stderr, "sigv4 presign: these headers are signed; whoever uses the URL must send them:\n")
		writeHeader(stderr, "  ", req.Header)
	}
	if signer.Credentials.SessionToken != "" {
		fmt.Fprintf(stderr, "sigv4 presign: signed with temporary credentials: the URL stops working when they expire, even before %s\n", ttl)
	}
	return nil
}
