package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/canonical"
)

// explainCommand explains a SignatureDoesNotMatch: it compares what the
// server computed with what a correct server computes for the request as
// sent, and checks the signature against the credentials.
var explainCommand = &command{
	name:    "explain",
	summary: "say why a server answered SignatureDoesNotMatch",
	usage: `Usage: sigv4 explain --request FILE [--error FILE] [flags]

Explains a SignatureDoesNotMatch. FILE ("-" for standard input) is the
request as it was sent, with its Authorization header or presigned query,
in any of the forms people have:
  - the output of curl -v or sigv4 curl -v ("> " request lines, "< "
    answer lines, "*" lines passed over); with 2>&1 it holds the answer's
    body too, and the last request of the trace is explained;
  - a HAR file (a browser's "Save all as HAR with content"): the last
    signed entry that failed, or --entry N;
  - the raw request, in the format of "sigv4 sign".
--error is the body of the server's answer, where the request file does
not hold it: the <Error> of Amazon S3 and S3-compatible servers, the
<ErrorResponse> of query APIs, or JSON. explain computes the canonical
request and string to sign as a correct server does, shows them beside the
server's, names the first difference and says how to fix it; where the
client escaped the path as curl --aws-sigv4 does (a bare *, :, + or =),
it says so.

Credentials are found as for "sigv4 curl" (the environment, --profile or
AWS_PROFILE, ~/.aws/config and credentials, SSO, ...). With them, explain
also checks the signature itself: a wrong secret, or what the client signed
instead (an unsorted query, a value not re-encoded, white space). Without
--error it says whether the request is correctly signed for them.

Examples:
  # What curl -v printed, with the answer:
  curl -v --aws-sigv4 aws:amz:us-east-1:s3 --user "$KEY:$SECRET" "$URL" > trace.txt 2>&1
  sigv4 explain --request trace.txt

  # The request as sent (the SDKs' debug logs show it) and the server's
  # answer, saved with curl -s -o error.xml:
  sigv4 explain --request put.txt --error error.xml

  # A presigned URL that fails; the server's answer from standard input:
  curl -s "$URL" | sigv4 explain --request get.txt --error -

  # An S3-compatible server (MinIO, Ceph) on its own endpoint:
  sigv4 explain --request put.txt --error error.xml --s3

  # Is this request correctly signed for the dev profile's credentials?
  sigv4 explain --request signed.txt --profile dev

A request file holds the request line, the headers and the body:
  GET /my-bucket/report.csv?versionId=3 HTTP/1.1
  Host: s3.eu-west-1.amazonaws.com
  X-Amz-Date: 20150830T123600Z
  X-Amz-Content-Sha256: UNSIGNED-PAYLOAD
  Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=...

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &explainOptions{}
		fs.StringVar(&o.request, "request", "", "the request as sent, a `file`, or - for standard input")
		fs.StringVar(&o.errorFile, "error", "", "the server's error response body, a `file`, or - for standard input")
		fs.StringVar(&o.region, "region", "", "region the server expects (default: the request's credential scope; a region the host names is checked against it)")
		fs.StringVar(&o.service, "service", "", "service the server expects (default: the request's credential scope)")
		fs.BoolVar(&o.s3, "s3", false, "the server applies Amazon S3's path rules (implied by service s3)")
		fs.StringVar(&o.profile, "profile", "", "AWS CLI profile for credentials (default: AWS_PROFILE)")
		fs.StringVar(&o.body, "body", "", "the request's body, a `file`, where the request given has none (curl -v does not show it)")
		fs.IntVar(&o.entry, "entry", 0, "of a HAR file, the entry `N` to explain, from 1 (default: the last signed one that failed)")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			return o.run(context.Background(), stdin, stdout)
		}
	},
}

type explainOptions struct {
	request, errorFile, region, service, profile string
	body                                         string
	entry                                        int
	s3                                           bool
}

// capturedError is the server's error from the answer in a trace or HAR
// file, if it holds one.
func (r *explanation) capturedError(c *capture) *serverError {
	if c.status < 300 {
		return nil
	}
	if len(c.answer) == 0 {
		r.note(fmt.Sprintf("The server answered %d without a body (as to HEAD): without its canonical request, explain checks the signature against the credentials found here.", c.status))
		return nil
	}
	e, err := parseServerError(c.answer)
	if err != nil {
		r.note(fmt.Sprintf("The server answered %d, but its body is not an error explain reads (%v).", c.status, err))
		return nil
	}
	return e
}

func (o *explainOptions) run(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	if o.request == "-" && o.errorFile == "-" {
		return fmt.Errorf("--request and --error cannot both be standard input; save one to a file: %w", errUsage)
	}
	c, err := readCapture(o.request, stdin, o.entry)
	if err != nil {
		return err
	}
	if o.body != "" {
		if c.file.Body, err = os.ReadFile(o.body); err != nil {
			return err
		}
	}
	sent, err := parseSent(c.file)
	if err != nil {
		return err
	}
	r := &explanation{sent: sent, notes: c.notes}
	if o.errorFile != "" {
		if r.server, err = readServerError(o.errorFile, stdin); err != nil {
			return err
		}
	} else {
		r.server = r.capturedError(c)
	}
	if r.server != nil {
		if !r.server.mismatch() {
			r.result = otherCodeFinding(r.server, sent)
			return r.write(stdout)
		}
	}
	ours, refusal, err := recompute(sent, o.s3 || o.service == "s3")
	if err != nil {
		return err
	}
	if refusal != nil {
		r.result = refusalFinding(refusal, sent)
		return r.write(stdout)
	}
	secret, err := o.secret(ctx, r)
	if err != nil {
		return err
	}
	x, err := o.context(sent, ours)
	if err != nil {
		return err
	}
	r.scopeHint = o.scopeHint(sent)
	r.analyze(x, ours, secret)
	return r.write(stdout)
}

func (o *explainOptions) context(sent *sentRequest, ours signing) (*explainContext, error) {
	c, ok := parseCreq(ours.creq)
	if !ok {
		return nil, fmt.Errorf("cannot read our own canonical request:\n%s", ours.creq)
	}
	service := o.service
	if service == "" {
		service = sent.auth.Credential.Service
	}
	// Whether S3's path rules applied shows in the result: that way the
	// list of S3 service names stays in the library alone.
	s3 := c.path != string(canonical.AppendURI(nil, sent.path, false))
	return &explainContext{sent: sent, ours: c, s3: s3, service: service}, nil
}

// secret returns the secret access key of the request's access key, or ""
// when the signature cannot be checked but the server's error can still
// be compared with ours.
func (o *explainOptions) secret(ctx context.Context, r *explanation) (string, error) {
	id, err := resolveIdentity(ctx, o.profile)
	akid := r.sent.auth.Credential.AccessKeyID
	comparable := r.server.computed()
	switch {
	case err != nil && comparable && errors.Is(err, errNoCredentials):
		r.note("No credentials were found, so the signature itself is not checked: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile, for access key " + akid + ".")
		return "", nil
	case err != nil:
		return "", err
	case id.creds.AccessKeyID != akid && comparable:
		r.note(fmt.Sprintf("The request was signed with access key %s; the credentials found are for %s, so the signature itself is not checked: choose %s's with --profile or AWS_ACCESS_KEY_ID.", akid, id.creds.AccessKeyID, akid))
		return "", nil
	case id.creds.AccessKeyID != akid:
		return "", fmt.Errorf("the request was signed with access key %s, but the credentials found are for %s: choose %s's with --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", akid, id.creds.AccessKeyID, akid)
	}
	r.tokenNote(id.creds.SessionToken)
	return id.creds.SecretAccessKey, nil
}

// scopeHint is a finding when the region or service the server expects,
// from the flags or the host name, is not the one the request was signed
// for: a reason a correctly signed request is refused.
func (o *explainOptions) scopeHint(sent *sentRequest) *finding {
	c := sent.auth.Credential
	region, source := o.region, "--region"
	if _, hostRegion := inferScope(sent.host()); region == "" && hostRegion != "" && strings.Contains(sent.host(), hostRegion) {
		// Only a region the host names: inferScope takes a global
		// endpoint's to be us-east-1, and a service's signing name is
		// often not its host label (email is ses), so neither is
		// evidence against the request's scope.
		region, source = hostRegion, "the host name"
	}
	switch {
	case region != "" && region != c.Region:
		return &finding{
			cause: fmt.Sprintf("The request was signed for region %s, but the server is in %s (%s).", c.Region, region, source),
			fix:   fmt.Sprintf("Sign for %s: --region %s, AWS_REGION, or the profile's region.", region, region),
		}
	case o.service != "" && o.service != c.Service:
		return &finding{
			cause: fmt.Sprintf("The request was signed for service %s, but the server is %s (--service).", c.Service, o.service),
			fix:   fmt.Sprintf("Sign with the signing name of the service: --service %s.", o.service),
		}
	}
	return nil
}

// otherCodeFinding explains the errors that are not about what was
// signed, which servers answer before they compare signatures.
func otherCodeFinding(e *serverError, sent *sentRequest) finding {
	c := sent.auth.Credential
	switch e.Code {
	case "RequestTimeTooSkewed":
		at := ""
		if e.ServerTime != "" {
			at = ", which said " + e.ServerTime
		}
		return finding{
			cause: fmt.Sprintf("The server refused the request's time, not its signature: X-Amz-Date %s is too far from the server's clock%s.", sent.amzDate, at),
			fix:   "Set the client's clock by NTP, and sign just before sending.",
		}
	case "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError":
		if e.Region != "" && e.Region != c.Region {
			return finding{
				cause: fmt.Sprintf("The server used region %s; the request was signed for region %s, and the server says so before checking the signature.", e.Region, c.Region),
				fix:   fmt.Sprintf("Sign for %s: --region %s, AWS_REGION, or the profile's region.", e.Region, e.Region),
			}
		}
	case "InvalidAccessKeyId":
		return finding{
			cause: fmt.Sprintf("The server does not know access key %s: the signature was never compared.", c.AccessKeyID),
			fix:   "Check that the credentials belong to this endpoint (the account, the partition, an S3-compatible server's own keys) and that the key is active.",
		}
	case "XAmzContentSHA256Mismatch":
		return finding{
			cause: "The signature matched, but the body's SHA-256 is not the x-amz-content-sha256 the request declared.",
			fix:   "Hash exactly the bytes sent, after any encoding; or declare UNSIGNED-PAYLOAD.",
		}
	case "ExpiredToken", "InvalidToken":
		return finding{
			cause: "The server refused the session token: " + e.Message,
			fix:   "Get fresh temporary credentials and sign again with their token.",
		}
	}
	return finding{
		cause: fmt.Sprintf("The server answered %s, not SignatureDoesNotMatch: %s", e.Code, e.Message),
		fix:   "explain compares signatures; this error is about something else: fix what its message names.",
	}
}

// refusalFinding explains why a correct server refuses the request before
// it computes a canonical request at all.
func refusalFinding(e *sigv4.Error, sent *sentRequest) finding {
	if c := sent.auth.Credential; c.Date != sent.amzDate[:8] {
		return finding{
			cause: fmt.Sprintf("The request was signed for another date: its credential scope says %s, its X-Amz-Date %s.", c.Date, sent.amzDate),
			fix:   "Take the scope date and X-Amz-Date from one timestamp, in UTC: a client that formats the scope date in local time signs for the wrong day around midnight.",
		}
	}
	return finding{
		cause: fmt.Sprintf("A server following AWS's rules refuses this request before it checks the signature: %s: %s", e.Code, e.Message),
		fix:   "Fix what the message names, then sign again.",
	}
}
