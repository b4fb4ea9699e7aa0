package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
)

var curlCommand = &command{
	args:    true,
	name:    "curl",
	summary: "send a signed request and stream the response (curl's flags)",
	usage: `Usage: sigv4 curl [flags] URL

Signs a request with your AWS credentials (found where the AWS CLI finds
them: environment, --profile or AWS_PROFILE, ~/.aws/config and credentials,
SSO, credential_process, container or instance metadata), sends it and
streams the response to standard output. The service and region come from
the host name (bucket.s3.eu-west-1.amazonaws.com is s3 in eu-west-1) unless
--service and --region say otherwise, with the name the service signs with
(bedrock-runtime signs as bedrock, email as ses, an IoT *-ats data endpoint
as iotdata). An S3 Multi-Region Access Point (*.mrap.accesspoint.s3-global)
is signed with SigV4a for the region set "*".

Uploads to S3 with -T from standard input, or of files over --stream-over,
go as aws-chunked streams: signed 64 KiB chunks by default,
--unsigned-payload for unsigned chunks with a trailing CRC32, --trailer to
add (or choose) a trailing checksum.

Examples:
  # Read an object:
  sigv4 curl https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv -o report.csv

  # Upload a file, then from a pipe (streamed in signed chunks):
  sigv4 curl -T backup.tar https://my-bucket.s3.amazonaws.com/backup.tar
  tar c dir | sigv4 curl -T - https://my-bucket.s3.amazonaws.com/dir.tar --trailer crc32c

  # Call an API with a JSON body, showing the canonical request:
  sigv4 curl -v -X POST -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' -d '{}' https://dynamodb.us-east-1.amazonaws.com/

  # Against a local S3-compatible server:
  sigv4 curl --service s3 --region us-east-1 http://127.0.0.1:9000/bucket/key

Exit status: 0 on success, 22 with --fail when the server answers 400 or
more, 6 or 7 when the host cannot be resolved or reached, 28 when
--max-time or --connect-timeout runs out, 47 past --max-redirs, 2 for
usage errors, 1 otherwise.

With -L, a redirect to the same scheme, host and port is signed again; to
another host it goes unsigned (so no signature of yours reaches a host you
did not name), unless --location-trusted, which signs for the new host's
scope as its name tells.

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &curlOptions{}
		o.define(fs)
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if len(args) != 1 {
				return fmt.Errorf("want one URL, got %d arguments: %w", len(args), errUsage)
			}
			return o.run(context.Background(), args[0], stdin, stdout, stderr)
		}
	},
}

type curlOptions struct {
	method, data, dataBinary, upload, output string
	headers                                  stringList
	include, head, verbose, fail, silent     bool
	showError, remoteName, dryRun            bool
	json, user, writeOut, proxy              string
	resolve, connectTo, forms                stringList
	retry, maxRedirs                         int
	retryConnRefused                         bool
	location, locationTrusted                bool
	retryDelay                               time.Duration
	maxTime, connectTimeout                  time.Duration
	insecure, unsignedPayload                bool
	region, service, profile, at, trailer    string
	sigv4a                                   bool
	regionSet                                string
	chunkSize                                int
	streamOver                               int64
}

func (o *curlOptions) define(fs *flag.FlagSet) {
	stringVar(fs, &o.method, []string{"X", "request"}, "", "request `method` (default GET, or PUT with -T, POST with -d)")
	listVar(fs, &o.headers, []string{"H", "header"}, "add a header, 'Name: value' (repeatable; signed)")
	stringVar(fs, &o.data, []string{"d", "data"}, "", "send `data` as the body (@FILE reads a file, dropping newlines)")
	stringVar(fs, &o.dataBinary, []string{"data-binary"}, "", "send `data` as the body exactly (@FILE reads a file)")
	listVar(fs, &o.forms, []string{"F", "form"}, "add a multipart form field, `name=value`, name=@FILE (a file upload) or name=<FILE (its content as the value), with ;type= and ;filename= as curl (repeatable; POST)")
	fs.StringVar(&o.json, "json", "", "send `data` as a JSON body (@FILE reads a file), with Content-Type and Accept application/json, by POST")
	stringVar(fs, &o.user, []string{"u", "user"}, "", "refused: sigv4 signs with AWS credentials (environment, --profile, ~/.aws), not a user and password")
	boolVar(fs, &o.remoteName, []string{"O", "remote-name"}, "write the response body to a file named as the URL's last path segment")
	fs.Var(secondsFlag{&o.maxTime}, "max-time", "give up after this many `seconds` (or a duration, 90s) in all (exit 28)")
	fs.Var(secondsFlag{&o.connectTimeout}, "connect-timeout", "give up connecting after this many `seconds` (or a duration) (exit 28)")
	stringVar(fs, &o.writeOut, []string{"w", "write-out"}, "", "after the response, write this `format` to standard output, as curl: %{http_code}, %{size_download}, %{size_upload}, %{time_total}, %{content_type}, %{url_effective}, %{method}, %{num_headers}, \\n, %%")
	stringVar(fs, &o.proxy, []string{"x", "proxy"}, "", "send through the HTTP proxy at `URL` (the signature is for the URL's host)")
	listVar(fs, &o.resolve, []string{"resolve"}, "`HOST:PORT:ADDRESS`: connect to ADDRESS for HOST:PORT, signing for HOST (repeatable)")
	listVar(fs, &o.connectTo, []string{"connect-to"}, "`HOST1:PORT1:HOST2:PORT2`: connect to HOST2:PORT2 for HOST1:PORT1 (empty: any), signing for HOST1 (repeatable)")
	fs.IntVar(&o.retry, "retry", 0, "retry a transient failure (a timeout; HTTP 408, 429, 500, 502, 503, 504) this many times, signed anew each time")
	fs.BoolVar(&o.retryConnRefused, "retry-connrefused", false, "with --retry, also retry when the connection is refused")
	fs.Var(secondsFlag{&o.retryDelay}, "retry-delay", "wait this many `seconds` between retries (default: 1 s, doubling)")
	boolVar(fs, &o.location, []string{"L", "location"}, "follow redirects, signing again for the same host; another host gets the request unsigned")
	fs.BoolVar(&o.locationTrusted, "location-trusted", false, "as -L, and sign for the hosts redirected to as well (for the scope their names tell)")
	fs.IntVar(&o.maxRedirs, "max-redirs", 50, "with -L, follow at most this many redirects (exit 47)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the signed request as a curl command line, and send nothing")
	stringVar(fs, &o.upload, []string{"T", "upload-file"}, "", "upload `file` (- for standard input) with PUT")
	stringVar(fs, &o.output, []string{"o", "output"}, "", "write the response body to `file`")
	boolVar(fs, &o.include, []string{"i", "include"}, "write the response status line and headers before the body")
	boolVar(fs, &o.head, []string{"I", "head"}, "send HEAD and write only the response headers")
	boolVar(fs, &o.verbose, []string{"v", "verbose"}, "show the canonical request, string to sign and headers on standard error")
	boolVar(fs, &o.fail, []string{"f", "fail"}, "exit 22, writing no body, when the server answers 400 or more")
	boolVar(fs, &o.silent, []string{"s", "silent"}, "no progress bar")
	boolVar(fs, &o.showError, []string{"S", "show-error"}, "with -s, still say what failed (sigv4 always does; taken for curl's -sS)")
	boolVar(fs, &o.insecure, []string{"k", "insecure"}, "do not check the server's TLS certificate")
	fs.BoolVar(&o.unsignedPayload, "unsigned-payload", false, "do not sign the body: UNSIGNED-PAYLOAD, or unsigned chunks when streaming")
	fs.StringVar(&o.trailer, "trailer", "", "trailing checksum of a streamed upload: crc32, crc32c, crc64nvme, sha1, sha256")
	fs.IntVar(&o.chunkSize, "chunk-size", 64<<10, "chunk size of a streamed upload, in bytes (at least 8192)")
	fs.Int64Var(&o.streamOver, "stream-over", 64<<20, "stream S3 uploads of files larger than this many bytes")
	fs.StringVar(&o.region, "region", "", "region of the credential scope (default: from the host, else the profile's)")
	fs.StringVar(&o.service, "service", "", "service of the credential scope (default: from the host)")
	o.defineSigV4a(fs)
	fs.StringVar(&o.profile, "profile", "", "AWS CLI profile for credentials and region (default: AWS_PROFILE)")
	fs.StringVar(&o.at, "time", "", "signing time, RFC 3339 (default now; for reproducing a signature)")
}

func (o *curlOptions) run(ctx context.Context, rawURL string, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.user != "" {
		return fmt.Errorf("-u: sigv4 signs with AWS credentials, not a user and password: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile or ~/.aws/credentials, as the AWS CLI does: %w", errUsage)
	}
	o.location = o.location || o.locationTrusted
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.maxTime)
		defer cancel()
	}
	signer, err := o.signer(ctx, u)
	if err != nil {
		return err
	}
	req, cleanup, err := o.request(ctx, u, stdin)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.verbose {
		signer.Debug = func(creq, sts string) {
			fmt.Fprintf(stderr, "* canonical request:\n%s\n* string to sign:\n%s\n", indent(creq), indent(sts))
		}
	}
	if o.dryRun {
		if err := o.sign(signer, req); err != nil {
			return err
		}
		return o.printCurl(req, stdout)
	}
	return o.sendRetrying(ctx, signer, req, stdout, stderr)
}

// sendRetrying signs and sends req, and again, signed anew, after a
// transient failure, --retry times at most: waiting --retry-delay, or 1 s
// doubling to 10 min, as curl does. With -L it follows redirects,
// --max-redirs at most.
func (o *curlOptions) sendRetrying(ctx context.Context, signer *sigv4.Signer, req *http.Request, stdout, stderr io.Writer) error {
	h := &hop{req: req, header: req.Header.Clone(), signer: signer}
	wait := time.Second
	for retries, redirects := 0, 0; ; {
		r, err := h.next(ctx)
		if err != nil {
			return err
		}
		if h.signer != nil {
			if err := o.sign(h.signer, r); err != nil {
				return err
			}
		}
		o.defaultAccept(r)
		err = o.send(r, stdout, stderr, retries < o.retry)
		var again errRetry
		var moved errRedirect
		switch {
		case errors.As(err, &moved):
			if redirects++; redirects > o.maxRedirs {
				return exitErrorf(47, "more than %d redirects (--max-redirs)", o.maxRedirs)
			}
			if h, err = o.follow(h, moved, stderr); err != nil {
				return err
			}
			continue
		case !errors.As(err, &again):
			return err
		}
		delay := cmp.Or(o.retryDelay, wait)
		retries++
		fmt.Fprintf(stderr, "sigv4 curl: %v; retrying in %v, %d retries left\n", again.why, delay, o.retry-retries)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return exitErrorf(28, "timed out (--max-time) waiting to retry")
		}
		wait = min(2*wait, 10*time.Minute)
	}
}

// defaultAccept adds curl's Accept: */*, unsigned as curl's, unless -H
// set or removed it.
func (o *curlOptions) defaultAccept(r *http.Request) {
	if !o.userHeader("Accept") && r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "*/*")
	}
}

// parseURL takes a URL as curl does: without a scheme, it is http.
func parseURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, exitErrorf(1, "unsupported protocol %q: use http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host: %w", raw, errUsage)
	}
	return u, nil
}

// signer builds the signer: credentials, and the scope from the flags,
// the host name or the profile, in that order.
func (o *curlOptions) signer(ctx context.Context, u *url.URL) (*sigv4.Signer, error) {
	id, err := resolveIdentity(ctx, o.profile)
	if err != nil {
		return nil, err
	}
	service, region := inferScope(u.Host)
	if o.service != "" {
		service = o.service
	}
	if o.region != "" {
		region = o.region
	}
	if region == "" {
		region = id.region
	}
	mrap := isMRAPHost(u.Host)
	if mrap && region == "" {
		region = "us-east-1" // not signed: SigV4a signs the region set
	}
	if service == "" || region == "" {
		return nil, fmt.Errorf("cannot tell the service and region of %s from its name: pass --service and --region (e.g. --service s3 --region us-east-1)", u.Host)
	}
	now, err := clock(o.at)
	if err != nil {
		return nil, err
	}
	s := &sigv4.Signer{Credentials: id.creds, Region: region, Service: service,
		UnsignedPayload: o.unsignedPayload, Now: now}
	switch {
	case o.regionSet != "":
		s.RegionSet = splitList(o.regionSet)
	case mrap: // a Multi-Region Access Point takes SigV4a for any region
		s.RegionSet = mrapRegionSet
	case o.sigv4a:
		s.RegionSet = []string{region}
	}
	return s, nil
}

// defineSigV4a defines the flags that choose SigV4a.
func (o *curlOptions) defineSigV4a(fs *flag.FlagSet) {
	fs.BoolVar(&o.sigv4a, "sigv4a", false, "sign with SigV4a (AWS4-ECDSA-P256-SHA256) for --region-set")
	fs.StringVar(&o.regionSet, "region-set", "", "SigV4a: regions the signature is good for, comma-separated, '*' wildcards (default: the region); implies --sigv4a")
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
