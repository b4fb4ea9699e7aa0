package interop

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	credentialsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	sessionv1 "github.com/aws/aws-sdk-go/aws/session"
	s3v1 "github.com/aws/aws-sdk-go/service/s3"
)

// TestGoSDKv1 puts and gets an object with aws-sdk-go (v1), whose signer
// (aws/signer/v4) is not v2's and is still in many deployed programs, and
// fetches its presigned GET with net/http. Over plain HTTP it hashes the
// body and signs the hex SHA-256.
func TestGoSDKv1(t *testing.T) {
	data := testData()
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		sess, err := sessionv1.NewSessionWithOptions(sessionv1.Options{
			SharedConfigState: sessionv1.SharedConfigDisable,
			Config: awsv1.Config{
				Region:           awsv1.String(region),
				Endpoint:         awsv1.String(s.URL),
				S3ForcePathStyle: awsv1.Bool(true),
				Credentials:      credentialsv1.NewStaticCredentials(accessKey, v.secret, ""),
				HTTPClient:       &http.Client{Timeout: 30 * time.Second},
				MaxRetries:       awsv1.Int(0),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		client := s3v1.New(sess)

		_, err = client.PutObject(&s3v1.PutObjectInput{
			Bucket: awsv1.String(bucket), Key: awsv1.String(objectKey), Body: bytes.NewReader(data),
		})
		checkGoSDKv1(t, v, "PutObject", err, nil, nil)

		out, err := client.GetObject(&s3v1.GetObjectInput{Bucket: awsv1.String(bucket), Key: awsv1.String(objectKey)})
		var got []byte
		if err == nil {
			got, err = io.ReadAll(out.Body)
			out.Body.Close()
		}
		checkGoSDKv1(t, v, "GetObject", err, got, data)

		req, _ := client.GetObjectRequest(&s3v1.GetObjectInput{Bucket: awsv1.String(bucket), Key: awsv1.String(objectKey)})
		url, err := req.Presign(5 * time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkPresigned(t, v, resp.StatusCode, body, data)

		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "content-length"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}

// checkGoSDKv1 is checkGoSDK for v1's errors (awserr.Error).
func checkGoSDKv1(t *testing.T, v verdict, op string, err error, got, want []byte) {
	t.Helper()
	aerr, isAWS := err.(awserr.Error)
	switch {
	case v.code == "OK" && err != nil:
		t.Errorf("%s: %v", op, err)
	case v.code == "OK" && want != nil && !bytes.Equal(got, want):
		t.Errorf("%s: got %d bytes (sha256 %s), want the %d uploaded", op, len(got), sha256Hex(got), len(want))
	case v.code != "OK" && !isAWS:
		t.Errorf("%s: error %v, want AWS error %s", op, err, v.code)
	case v.code != "OK" && aerr.Code() != v.code:
		t.Errorf("%s: error code %s, want %s", op, aerr.Code(), v.code)
	}
}
