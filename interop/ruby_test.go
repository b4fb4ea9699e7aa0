package interop

import (
	"os/exec"
	"path/filepath"
	"testing"
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

// TestRubySigv4 signs requests for a service other than S3 with the
// aws-sigv4 gem and sends them to a Verifier for that service (see
// testServiceSigner).
func TestRubySigv4(t *testing.T) {
	requireRubySDK(t)
	testServiceSigner(t, append(serviceOps, "PresignedGet"), "ruby", filepath.Join("testdata", "ruby_sigv4.rb"))
}
