package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
)

var signCommand = &command{
	name:    "sign",
	summary: "sign a raw HTTP request file and print the signed request",
	usage: `Usage: sigv4 sign --request FILE --region R --service S [flags]

Signs the HTTP/1.1 request in FILE ("-" for standard input) with your AWS
credentials (found where the AWS CLI finds them: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, --profile or AWS_PROFILE, ~/.aws/config), and writes the signed request, in the same format, to standard output.

Examples:
  # Sign with an Authorization header, showing the canonical request:
  printf 'GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\nHost:iam.amazonaws.com\n' |
    sigv4 sign --request - --region us-east-1 --service iam --debug

  # A presigned URL for an S3 object, valid one hour:
  sigv4 sign --request get.txt --region eu-west-1 --service s3 --presign --expires 3600

  # SigV4a, one signature for two regions:
  sigv4 sign --request get.txt --region us-east-1 --service s3 --region-set us-east-1,eu-west-1

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		file := fs.String("request", "", "request `file`, or - for standard input")
		region := fs.String("region", "", "region of the credential scope")
		service := fs.String("service", "", "service of the credential scope")
		at := fs.String("time", "", "signing time, RFC 3339 (default now)")
		s3 := fs.Bool("s3", false, "use Amazon S3's path rules (implied by --service s3)")
		presign := fs.Bool("presign", false, "sign the query string (a presigned URL) instead of adding Authorization")
		expires := fs.Int("expires", 3600, "seconds a presigned URL is valid, 1 to 604800")
		signBody := fs.Bool("sign-body", false, "send and sign X-Amz-Content-Sha256 (implied by --service s3)")
		profile := fs.String("profile", "", "AWS CLI profile for credentials (default: AWS_PROFILE)")
		sigv4a := fs.Bool("sigv4a", false, "sign with SigV4a (AWS4-ECDSA-P256-SHA256) for --region-set")
		regionSet := fs.String("region-set", "", "SigV4a: regions the signature is good for, comma-separated, '*' wildcards (default: --region); implies --sigv4a")
		debug := fs.Bool("debug", false, "print the canonical request and string to sign to standard error")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := requireScope(*region, *service); err != nil {
				return err
			}
			f, err := readRequestFile(*file, stdin)
			if err != nil {
				return err
			}
			creds, err := credentials(*profile)
			if err != nil {
				return err
			}
			now, err := clock(*at)
			if err != nil {
				return err
			}
			s := &sigv4.Signer{Credentials: creds, Region: *region, Service: *service, S3: *s3, ContentSHA256: *signBody, Now: now}
			if *sigv4a || *regionSet != "" {
				s.RegionSet = splitList(cmp.Or(*regionSet, *region))
			}
			if *debug {
				s.Debug = func(creq, sts string) {
					fmt.Fprintf(stderr, "# canonical request\n%s\n\n# string to sign\n%s\n\n", creq, sts)
				}
			}
			return signFile(s, f, *presign, time.Duration(*expires)*time.Second, stdout)
		}
	},
}

func signFile(s *sigv4.Signer, f *httpfile.File, presign bool, expires time.Duration, w io.Writer) error {
	req, err := f.Request("https")
	if err != nil {
		return err
	}
	target := f.Target
	if presign {
		if err := s.Presign(req, expires); err != nil {
			return err
		}
		path, _, _ := strings.Cut(f.Target, "?")
		target = path + "?" + req.URL.RawQuery
	} else if err := s.Sign(req); err != nil {
		return err
	}
	return httpfile.Write(w, req, target, f.Headers, f.Body)
}
