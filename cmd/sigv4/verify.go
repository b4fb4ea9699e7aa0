package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/sigv4/sigv4"
)

var verifyCommand = &command{
	name:    "verify",
	summary: "verify the signature of a raw HTTP request file",
	usage: `Usage: sigv4 verify --request FILE --region R --service S [flags]

Verifies the signed HTTP/1.1 request in FILE ("-" for standard input), in the
Authorization header or presigned form, against your AWS credentials (found
where the AWS CLI finds them), or those of --keys. On success it
prints the access key and exits 0; otherwise it prints the AWS error code and
message, and for SignatureDoesNotMatch the canonical request and string to
sign it computed, and exits 1.

Examples:
  sigv4 verify --request signed.txt --region us-east-1 --service s3
  sigv4 verify --request signed.txt --region us-east-1 --service iam \
    --keys keys.txt --time 2015-08-30T12:36:00Z

A keys file has one "ACCESS_KEY_ID SECRET_ACCESS_KEY" pair a line; lines
starting with # are comments.

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		file := fs.String("request", "", "request `file`, or - for standard input")
		region := fs.String("region", "", "region the verifier accepts")
		service := fs.String("service", "", "service the verifier accepts")
		at := fs.String("time", "", "the verifier's clock, RFC 3339 (default now)")
		s3 := fs.Bool("s3", false, "use Amazon S3's path rules (implied by --service s3)")
		keys := fs.String("keys", "", "`file` of access key ID and secret pairs (default: the environment)")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := requireScope(*region, *service); err != nil {
				return err
			}
			f, err := readRequestFile(*file, stdin)
			if err != nil {
				return err
			}
			ring, err := keyring(*keys)
			if err != nil {
				return err
			}
			now, err := clock(*at)
			if err != nil {
				return err
			}
			v := &sigv4.Verifier{Keys: ring, Regions: []string{*region}, Services: []string{*service}, S3: *s3, Now: now}
			req, err := f.ServerRequest("https")
			if err != nil {
				return err
			}
			res, err := verifyAll(v, req)
			return report(res, err, stdout, stderr)
		}
	},
}

// verifyAll verifies req and reads its body to the end, so that a declared
// payload hash is checked too.
func verifyAll(v *sigv4.Verifier, req *http.Request) (*sigv4.Result, error) {
	res, err := v.Verify(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return nil, err
	}
	return res, nil
}

// report prints the outcome: the access key, or the error code and message
// (and what the verifier computed, for a signature mismatch), exit 1.
func report(res *sigv4.Result, err error, stdout, stderr io.Writer) error {
	if err == nil {
		fmt.Fprintln(stdout, res.Identity.AccessKeyID)
		return nil
	}
	var e *sigv4.Error
	if !errors.As(err, &e) {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n", e.Code, e.Message)
	if e.Code == sigv4.ErrSignatureDoesNotMatch.Code {
		fmt.Fprintf(stderr, "# canonical request\n%s\n\n# string to sign\n%s\n", e.CanonicalRequest, e.StringToSign)
	}
	return exitError{code: 1}
}

func keyring(file string) (*sigv4.Keyring, error) {
	if file == "" {
		c, err := credentials("")
		if err != nil {
			return nil, err
		}
		return sigv4.NewKeyring(c), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ring := sigv4.NewKeyring()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want ACCESS_KEY_ID SECRET_ACCESS_KEY", file, n)
		}
		ring.Add(sigv4.Credentials{AccessKeyID: fields[0], SecretAccessKey: fields[1]}, sigv4.Identity{})
	}
	return ring, sc.Err()
}
