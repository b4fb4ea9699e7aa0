package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sigv4/sigv4/internal/explain"
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
		fs.BoolVar(&o.omitToken, "omit-session-token", false, "the server takes a session token added after signing, unsigned (a presigned URL's cannot be told)")
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
	s3, omitToken                                bool
}

func (o *explainOptions) run(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	if o.request == "" {
		return fmt.Errorf("--request is required: %w", errUsage)
	}
	if o.request == "-" && o.errorFile == "-" {
		return fmt.Errorf("--request and --error cannot both be standard input; save one to a file: %w", errUsage)
	}
	in := explain.Input{Entry: o.entry, Region: o.region, Service: o.service, S3: o.s3, OmitSessionToken: o.omitToken, InferScope: inferScope,
		Credentials: func(akid string) (explain.Credentials, error) {
			id, err := resolveIdentity(ctx, o.profile)
			if errors.Is(err, errNoCredentials) {
				return explain.Credentials{}, fmt.Errorf("%w: %v", explain.ErrNoCredentials, err)
			}
			c := id.creds
			return explain.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, err
		}}
	var err error
	if in.Request, err = readInput(o.request, stdin, explain.MaxInput); err != nil {
		return err
	}
	if o.errorFile != "" {
		if in.Error, err = readInput(o.errorFile, stdin, 1<<20); err != nil {
			return err
		}
	}
	if o.body != "" {
		if in.Body, err = os.ReadFile(o.body); err != nil {
			return err
		}
	}
	if o.entry < 0 {
		return fmt.Errorf("--entry %d: entries count from 1: %w", o.entry, errUsage)
	}
	r, err := explain.Explain(in)
	if err != nil {
		return err
	}
	return r.WriteText(stdout)
}

// readInput reads a file named on the command line ("-": standard input),
// up to max bytes.
func readInput(name string, stdin io.Reader, max int64) ([]byte, error) {
	r, done, err := openInput(name, stdin)
	if err != nil {
		return nil, err
	}
	defer done()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err == nil && int64(len(data)) > max {
		err = fmt.Errorf("%s is over %d bytes", name, max)
	}
	return data, err
}
