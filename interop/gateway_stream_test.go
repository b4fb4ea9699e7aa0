package interop

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sigv4/sigv4/gateway"
)

// TestGatewayStreamHashed runs a gateway with StreamHashedBodies in front
// of moto, MinIO and moto checking signatures. aws-sdk-go-v2 and boto3 put
// 10 MiB over plain HTTP with a hex SHA-256: the server stores the whole
// body, streamed through. The same boto3 upload with a byte flipped after
// signing is answered XAmzContentSHA256Mismatch: the gateway forwarded
// bytes as they came but never the last, and the server holds nothing.
func TestGatewayStreamHashed(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "") // see TestGoSDK
	streamed := func(c *gateway.Config) { c.StreamHashedBodies = true }
	test := func(t *testing.T, f *gwFixture) {
		data, file := randomFile(t, gwLarge)
		t.Run("gosdk", func(t *testing.T) {
			key := "streamed/gosdk.bin"
			c := goSDKClient(f, false, f.creds)
			m := f.mark()
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			expectSeen(t, f.since(t, m), gwWant{method: "PUT", mode: "hex-sha256", size: gwLarge, code: "OK"})
			f.expectStored(t, key, data)
		})
		t.Run("boto3", func(t *testing.T) {
			requireBoto3(t)
			key := "streamed/boto3.bin"
			m := f.mark()
			checkClientSaw(t, verdict{code: "OK", status: 200}, onePut(t, boto3Run(t, f.http.URL, "", f.creds, f.bucket, key, file, "put")))
			expectSeen(t, f.since(t, m), gwWant{method: "PUT", mode: "hex-sha256", size: gwLarge, code: "OK"})
			f.expectStored(t, key, data)
		})
		t.Run("boto3 tampered", func(t *testing.T) {
			requireBoto3(t)
			key := "streamed/boto3-tampered.bin"
			f.setWrapBody(t, tamperBody)
			m := f.mark()
			saw := onePut(t, boto3Run(t, f.http.URL, "", f.creds, f.bucket, key, file, "put"))
			if saw.code != "XAmzContentSHA256Mismatch" && saw.code != "(connection closed)" {
				t.Errorf("client saw %d %q, want XAmzContentSHA256Mismatch", saw.status, saw.code)
			}
			reqs := f.since(t, m)
			if len(reqs) != 1 {
				t.Fatalf("gateway saw %d requests, want 1 PUT", len(reqs))
			}
			switch r := reqs[0]; {
			case r.Code != "XAmzContentSHA256Mismatch":
				t.Errorf("gateway saw %s, want XAmzContentSHA256Mismatch", r)
			case r.UpstreamEOF:
				t.Errorf("the gateway forwarded the whole body of a tampered upload")
			case r.Upstream == 0:
				t.Errorf("the gateway forwarded nothing: streamed, it sends the bytes as they come")
			default:
				t.Logf("forwarded %d of %d bytes, then aborted", r.Upstream, gwLarge)
			}
			f.expectAbsent(t, key)
		})
	}
	t.Run("moto", func(t *testing.T) { test(t, newGatewayFixtureKeys(t, startMoto(t), false, streamed)) })
	t.Run("minio", func(t *testing.T) { test(t, newGatewayFixtureKeys(t, startMinio(t), false, streamed)) })
	t.Run("moto-auth", func(t *testing.T) {
		m, _ := startMotoAuth(t)
		test(t, newGatewayFixtureKeys(t, m, false, streamed))
	})
}
