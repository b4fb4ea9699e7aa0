package interop

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestGoSDK puts and gets an object with aws-sdk-go-v2 in process and
// fetches a presigned GET with net/http. The body is a bytes.Reader: over
// plain HTTP the SDK hashes a seekable body and signs the hex SHA-256 (it
// refuses an unseekable one), so no aws-chunked upload is involved.
func TestGoSDK(t *testing.T) {
	// The client is built by hand, not by config.LoadDefaultConfig, so
	// nothing of the machine applies; AWS_CA_BUNDLE with a plain
	// http.Client would even make LoadDefaultConfig panic.
	t.Setenv("AWS_CA_BUNDLE", "")
	data := testData()
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
		defer cancel()
		client := newGoS3Client(s.URL, v.secret)

		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(objectKey), Body: bytes.NewReader(data),
		})
		checkGoSDK(t, v, "PutObject", err, nil, nil)

		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(objectKey)})
		var got []byte
		if err == nil {
			got, err = io.ReadAll(out.Body)
			out.Body.Close()
		}
		checkGoSDK(t, v, "GetObject", err, got, data)

		status, body := fetchPresignedGet(t, ctx, client)
		checkPresigned(t, v, status, body, data)

		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "x-amz-checksum-crc32"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}

// newGoS3Client is an S3 client for the test server: path-style, static
// credentials, one attempt (a rejection must be one request), plain HTTP.
// Checksums are computed "when supported", the default that
// config.LoadDefaultConfig gives (s3.New alone leaves it unset, which sends
// none on PutObject): the SDK then signs an x-amz-checksum-crc32 header.
func newGoS3Client(endpoint, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
		RetryMaxAttempts: 1,

		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

// fetchPresignedGet presigns a GetObject and fetches it with net/http, as
// whoever is handed the URL would.
func fetchPresignedGet(t *testing.T, ctx context.Context, client *s3.Client) (int, []byte) {
	t.Helper()
	p, err := s3.NewPresignClient(client).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(objectKey)},
		s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = p.SignedHeader.Clone() // Host is among them and set by net/http
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// checkGoSDK checks an SDK call: success with the uploaded bytes back
// (for a GET), or the verdict's error code. The SDK's API errors have an
// ErrorCode method (smithy.APIError).
func checkGoSDK(t *testing.T, v verdict, op string, err error, got, want []byte) {
	t.Helper()
	var apiErr interface{ ErrorCode() string }
	switch {
	case v.code == "OK" && err != nil:
		t.Errorf("%s: %v", op, err)
	case v.code == "OK" && want != nil && !bytes.Equal(got, want):
		t.Errorf("%s: got %d bytes (sha256 %s), want the %d uploaded", op, len(got), sha256Hex(got), len(want))
	case v.code != "OK" && !errors.As(err, &apiErr):
		t.Errorf("%s: error %v, want API error %s", op, err, v.code)
	case v.code != "OK" && apiErr.ErrorCode() != v.code:
		t.Errorf("%s: error code %s, want %s", op, apiErr.ErrorCode(), v.code)
	}
}

// checkPresigned checks the answer to a presigned GET fetched by hand: the
// uploaded bytes, or the verdict's status and S3 error code.
func checkPresigned(t *testing.T, v verdict, status int, body, data []byte) {
	t.Helper()
	if status != v.status {
		t.Errorf("presigned GET: status %d, want %d; body:\n%.500s", status, v.status, body)
		return
	}
	if v.code == "OK" {
		if !bytes.Equal(body, data) {
			t.Errorf("presigned GET: got %d bytes (sha256 %s), want the %d uploaded", len(body), sha256Hex(body), len(data))
		}
		return
	}
	var e s3Error
	if err := xml.Unmarshal(body, &e); err != nil || e.Code != v.code {
		t.Errorf("presigned GET: error %q (%v), want %s", e.Code, err, v.code)
	}
}
