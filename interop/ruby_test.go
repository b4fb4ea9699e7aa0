package interop

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sigv4/sigv4"
)

// requireRubySDK checks for ruby with the AWS SDK's S3 client.
func requireRubySDK(t *testing.T) {
	t.Helper()
	requireCommand(t, "ruby", "apt-get install -y ruby ruby-aws-sdk-s3")
	if err := exec.Command("ruby", "-e", `require "aws-sdk-s3"`).Run(); err != nil {
		missingClient(t, "ruby cannot load aws-sdk-s3; install it with: apt-get install -y ruby-aws-sdk-s3")
	}
}

// TestRubySDK puts, gets and fetches a presigned GET (Net::HTTP) with the
// AWS SDK for Ruby, whose SigV4 signer (the aws-sigv4 gem) shares no code
// with the other clients here: path-style over plain HTTP.
func TestRubySDK(t *testing.T) {
	requireRubySDK(t)
	data := testData()
	file := writeData(t, data)
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		got := runScript(t, clientEnv(t, v.secret), "ruby",
			filepath.Join("testdata", "ruby_client.rb"), s.URL, bucket, objectKey, file)
		checkResults(t, v, data, got, "PutObject", "GetObject", "PresignedGetObject")
		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "content-md5"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}

// TestRubySigv4 signs requests for a service other than S3 (paths encoded
// twice, queries to sort and escape, a POST body hashed, header white
// space to collapse, a presigned URL) with the aws-sigv4 gem and sends
// them to a Verifier for that service.
func TestRubySigv4(t *testing.T) {
	requireRubySDK(t)
	const service = "execute-api"
	ops := []string{"GetSortedQuery", "GetEscapedPath", "GetEscapedQuery", "PostJSON", "PresignedGet"}
	for _, v := range verdicts {
		t.Run(v.name, func(t *testing.T) {
			verifier := &sigv4.Verifier{
				Keys:     sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
				Regions:  []string{region},
				Services: []string{service},
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res, err := verifier.Verify(r)
				if err == nil {
					_, err = io.ReadAll(res.Body) // the body's hash is checked at its end
				}
				var e *sigv4.Error
				if errors.As(err, &e) {
					if v.code == "OK" { // unexpected: show what the verifier signed
						t.Logf("%s %s: %s\ncanonical request:\n%s", r.Method, r.URL, e.Code, e.CanonicalRequest)
					}
					http.Error(w, e.Code, e.Status)
					return
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				if res.Identity.AccessKeyID != accessKey {
					http.Error(w, "wrong identity", http.StatusInternalServerError)
				}
			}))
			defer srv.Close()
			got := runScript(t, clientEnv(t, v.secret), "ruby", filepath.Join("testdata", "ruby_sigv4.rb"), srv.URL, service)
			if len(got) != len(ops) {
				t.Fatalf("client reported %d requests %+v, want %v", len(got), got, ops)
			}
			for i, r := range got {
				wantCode := v.code
				if wantCode == "OK" {
					wantCode = ""
				}
				if r.Op != ops[i] || r.Status != v.status || r.Code != wantCode {
					t.Errorf("%s: %d %q, want %s: %d %q", r.Op, r.Status, r.Code, ops[i], v.status, wantCode)
				}
			}
		})
	}
}
