package interop

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

// TestAWSCLI uploads and downloads an object with AWS CLI v1's s3api over
// plain HTTP, where it signs a hex payload hash (as botocore does).
func TestAWSCLI(t *testing.T) {
	requireCommand(t, "aws", "apt-get install -y awscli (or python3 -m pip install awscli)")
	data := testData()
	file := writeData(t, data)
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		env := clientEnv(t, v.secret)
		aws := func(args ...string) error {
			args = append(args, "--endpoint-url", s.URL, "--cli-connect-timeout", "10", "--cli-read-timeout", "10")
			_, err := run(t, env, "aws", args...)
			return err
		}
		download := filepath.Join(t.TempDir(), "download.bin")
		errs := []error{
			aws("s3api", "put-object", "--bucket", bucket, "--key", objectKey, "--body", file),
			aws("s3api", "get-object", "--bucket", bucket, "--key", objectKey, download),
		}
		for i, err := range errs {
			checkCLIError(t, v, i, err)
		}
		if v.code == "OK" {
			got, err := os.ReadFile(download)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("downloaded %d bytes (sha256 %s), want the %d uploaded (sha256 %s)",
					len(got), sha256Hex(got), len(data), sha256Hex(data))
			}
		}
		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "x-amz-checksum-crc32"},
			want{method: "GET", payload: emptySHA256},
		)
	})
}

// checkCLIError checks that command i succeeded, or failed with the
// verdict's error code, which the CLI prints as "An error occurred (Code)".
func checkCLIError(t *testing.T, v verdict, i int, err error) {
	t.Helper()
	switch {
	case v.code == "OK" && err != nil:
		t.Errorf("command %d: %v", i, err)
	case v.code != "OK" && err == nil:
		t.Errorf("command %d succeeded, want %s", i, v.code)
	case v.code != "OK" && !strings.Contains(err.Error(), "("+v.code+")"):
		t.Errorf("command %d: %v, want error %s", i, err, v.code)
	}
}

// TestAWSCLIWhoami: the first commands a newcomer pastes, against a
// gateway with no upstream (its whoami service): "aws s3 ls" lists no
// bucket and succeeds, "aws sts get-caller-identity" names the caller;
// with another secret both fail.
func TestAWSCLIWhoami(t *testing.T) {
	requireCommand(t, "aws", "apt-get install -y awscli (or python3 -m pip install awscli)")
	creds := sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	gw, err := gateway.New(gateway.Config{
		Verifier: &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{region}, Services: []string{"s3", "sts"}},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()
	for _, secret := range []string{secretKey, wrongSecret} {
		env := clientEnv(t, secret)
		out, err := run(t, env, "aws", "s3", "ls", "--endpoint-url", front.URL)
		if secret == secretKey && (err != nil || strings.TrimSpace(out) != "") {
			t.Errorf("aws s3 ls: %q %v", out, err)
		}
		if secret != secretKey && err == nil {
			t.Errorf("aws s3 ls with another secret succeeded: %q", out)
		}
		out, err = run(t, env, "aws", "sts", "get-caller-identity", "--endpoint-url", front.URL, "--output", "text", "--query", "Arn")
		if secret == secretKey && (err != nil || strings.TrimSpace(out) != "arn:aws:iam::000000000000:user/"+accessKey) {
			t.Errorf("aws sts get-caller-identity: %q %v", out, err)
		}
		if secret != secretKey && err == nil {
			t.Errorf("aws sts get-caller-identity with another secret succeeded: %q", out)
		}
	}
}
