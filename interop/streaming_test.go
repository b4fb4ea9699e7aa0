package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/sigv4/sigv4"
)

// Streaming (aws-chunked) uploads: each client is driven to send its
// object aws-chunked, and the server must store exactly the decoded bytes
// when the signature is right, and store nothing when the seed signature is
// wrong or when a payload byte is corrupted in transit after the seed
// signature (a chunk signature, or the trailing checksum, must catch it).

// Payload modes, as declared in x-amz-content-sha256.
const (
	streamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsigned      = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// streamSizes are the object sizes every streaming client uploads; the
// large one is skipped under -short.
var streamSizes = []struct {
	name  string
	size  int
	large bool
}{
	{"1MiB", 1 << 20, false},
	{"64MiB", 64 << 20, true},
}

// streamWant is what a client must send for a streaming upload.
type streamWant struct {
	tls     bool   // the client talks to an HTTPS server
	payload string // the x-amz-content-sha256 it declares
	trailer string // the x-amz-trailer it declares, "" for none
	// chunked: the body goes with Transfer-Encoding: chunked and no
	// Content-Length, else with a Content-Length of the encoded body.
	chunked bool
	// chunk is the size of the client's aws-chunked chunks (the first one
	// is min(chunk, object size)); 0 means one chunk holds the whole object.
	chunk int
}

// tamperedCode is what the verifier must answer when a payload byte is
// corrupted after the seed signature: a signed chunk fails its chunk
// signature; an unsigned chunk is caught by the trailing checksum.
func (w streamWant) tamperedCode() (string, int) {
	if w.payload == streamingUnsigned {
		return sigv4.ErrBadDigest.Code, sigv4.ErrBadDigest.Status
	}
	return sigv4.ErrSignatureDoesNotMatch.Code, sigv4.ErrSignatureDoesNotMatch.Status
}

// streamVerdict is one run of a streaming client.
type streamVerdict struct {
	verdict
	tamper bool // corrupt one payload byte on its way to the verifier
}

func streamVerdicts(w streamWant) []streamVerdict {
	code, status := w.tamperedCode()
	return []streamVerdict{
		{verdict: verdicts[0]},
		{verdict: verdicts[1]},
		{verdict: verdict{name: "tampered chunk", secret: secretKey, code: code, status: status}, tamper: true},
	}
}

// clientSaw is the answer a client reported: status 0 when the client
// does not say (the AWS CLI), code "" on success.
type clientSaw struct {
	status int
	code   string
}

// uploadFunc uploads data (also in file) to s as bucket/objectKey with
// secret, and reports what the client saw.
type uploadFunc func(t *testing.T, s *s3Server, secret string, data []byte, file string) clientSaw

// testStreaming runs upload for every size and verdict, each against a new
// server, and checks the server's verdict, what the client declared, and
// what was stored.
func testStreaming(t *testing.T, w streamWant, upload uploadFunc) {
	for _, sz := range streamSizes {
		t.Run(sz.name, func(t *testing.T) {
			if sz.large && testing.Short() {
				t.Skip("large upload skipped under -short")
			}
			data := randomData(t, sz.size)
			file := writeData(t, data)
			for _, v := range streamVerdicts(w) {
				t.Run(v.name, func(t *testing.T) {
					var s *s3Server
					if w.tls {
						s = newS3TLSServer(t)
					} else {
						s = newS3Server(t)
					}
					if v.tamper {
						s.wrapBody = tamperBody
					}
					saw := upload(t, s, v.secret, data, file)
					checkClientSaw(t, v.verdict, saw)
					checkStreamOutcome(t, s, v.verdict, w, data)
				})
			}
		})
	}
}

// randomData is size random bytes, new for every test.
func randomData(t *testing.T, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	return data
}

// checkClientSaw checks the client's answer against the verdict.
func checkClientSaw(t *testing.T, v verdict, saw clientSaw) {
	t.Helper()
	wantCode := v.code
	if wantCode == "OK" {
		wantCode = ""
	}
	if saw.code != wantCode || (saw.status != 0 && saw.status != v.status) {
		t.Errorf("client saw %d %q, want %d %q", saw.status, saw.code, v.status, wantCode)
	}
}

// checkStreamOutcome checks the one request the server saw: its verdict,
// the payload mode and framing the client used, and that the object stored
// is the uploaded bytes (accepted) or that nothing was stored (rejected).
func checkStreamOutcome(t *testing.T, s *s3Server, v verdict, w streamWant, data []byte) {
	t.Helper()
	got := s.Outcomes()
	if len(got) != 1 {
		for i, o := range got {
			t.Logf("request %d: %s %s -> %s %d", i, o.Method, o.Path, o.Code, o.Status)
		}
		t.Fatalf("server saw %d requests, want 1 PUT", len(got))
	}
	o := got[0]
	logStreamRequest(t, o)
	if o.Method != "PUT" || o.Path != "/"+bucket+"/"+objectKey {
		t.Errorf("request: %s %s, want PUT /%s/%s", o.Method, o.Path, bucket, objectKey)
	}

	// What the client declared, whatever the verdict.
	if o.Declared != w.payload {
		t.Errorf("x-amz-content-sha256: %q, want %q", o.Declared, w.payload)
	}
	if dl := o.Header.Get("X-Amz-Decoded-Content-Length"); dl != strconv.Itoa(len(data)) {
		t.Errorf("x-amz-decoded-content-length: %q, want %d", dl, len(data))
	}
	if tr := o.Header.Get("X-Amz-Trailer"); !strings.EqualFold(tr, w.trailer) {
		t.Errorf("x-amz-trailer: %q, want %q", tr, w.trailer)
	}
	chunked := len(o.TransferEncoding) == 1 && o.TransferEncoding[0] == "chunked"
	if chunked != w.chunked {
		t.Errorf("Transfer-Encoding %q, Content-Length %d: want chunked=%v", o.TransferEncoding, o.ContentLength, w.chunked)
	}
	if !w.chunked && o.ContentLength <= int64(len(data)) {
		t.Errorf("Content-Length %d, want the aws-chunked encoding of %d bytes", o.ContentLength, len(data))
	}

	// The verdict.
	if o.Code != v.code || o.Status != v.status {
		t.Errorf("verdict %s %d, want %s %d", o.Code, o.Status, v.code, v.status)
		if o.Err != nil {
			t.Logf("verifier: %v", o.Err)
			if o.Err.CanonicalRequest != "" {
				t.Logf("verifier's canonical request:\n%s\nstring to sign:\n%s", o.Err.CanonicalRequest, o.Err.StringToSign)
			}
		}
	}
	if o.AccessKeyID != accessKey {
		t.Errorf("access key %q, want %q", o.AccessKeyID, accessKey)
	}

	// The framing, when the body was read far enough to see it.
	if o.Wire != nil && o.Wire.n > 0 {
		if size, ok := firstChunkSize(o.Wire.head); !ok {
			t.Errorf("body does not start with an aws-chunked chunk header: %q", o.Wire.head[:min(len(o.Wire.head), 100)])
		} else if wantSize := min(cmp0(w.chunk, len(data)), len(data)); size != wantSize {
			t.Errorf("first aws-chunked chunk is %d bytes, want %d", size, wantSize)
		}
		if w.trailer != "" && !bytes.Contains(bytes.ToLower(o.Wire.tail), []byte(strings.ToLower(w.trailer)+":")) {
			t.Errorf("body does not end with a %s trailer: %q", w.trailer, o.Wire.tail)
		}
	}

	// What was stored.
	stored, ok := s.object(bucket, objectKey)
	switch {
	case v.code == "OK" && o.PayloadHash != w.payload:
		t.Errorf("Result.PayloadHash %q, want %q", o.PayloadHash, w.payload)
	case v.code == "OK" && !ok:
		t.Errorf("nothing stored, want the %d bytes uploaded", len(data))
	case v.code == "OK" && !bytes.Equal(stored, data):
		t.Errorf("stored %d bytes (sha256 %s), want the %d uploaded (sha256 %s)",
			len(stored), sha256Hex(stored), len(data), sha256Hex(data))
	case v.code != "OK" && s.objectCount() != 0:
		t.Errorf("a rejected upload stored %d objects (%s: %d bytes)", s.objectCount(), objectKey, len(stored))
	}
}

// cmp0 is n, or def when n is 0.
func cmp0(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// logStreamRequest logs what the client sent: headers and aws-chunked
// framing (the first chunk header and the end of the body, quoted so that
// the trailer's line endings show).
func logStreamRequest(t *testing.T, o outcome) {
	t.Helper()
	h := o.Header
	t.Logf("%s %s -> %s %d; x-amz-content-sha256=%s Content-Length=%d Transfer-Encoding=%q Content-Encoding=%q x-amz-decoded-content-length=%s x-amz-trailer=%q Expect=%q PayloadHash=%s signed=%s",
		o.Method, o.Path, o.Code, o.Status, o.Declared, o.ContentLength, o.TransferEncoding,
		h.Get("Content-Encoding"), h.Get("X-Amz-Decoded-Content-Length"), h.Get("X-Amz-Trailer"), h.Get("Expect"),
		o.PayloadHash, o.SignedHeaders)
	if o.Wire != nil && o.Wire.n > 0 {
		line, _, _ := bytes.Cut(o.Wire.head, []byte("\n"))
		end := o.Wire.tail[max(0, len(o.Wire.tail)-120):]
		if i := bytes.LastIndex(o.Wire.tail, []byte("\r\n0")); i >= 0 {
			end = o.Wire.tail[i:] // from the end of the last data chunk
		}
		t.Logf("wire: %d bytes read; first line %q; end %q", o.Wire.n, line, end)
	}
}

// firstChunkSize parses the size of the first aws-chunked chunk.
func firstChunkSize(head []byte) (int, bool) {
	line, _, ok := bytes.Cut(head, []byte("\r\n"))
	if !ok {
		return 0, false
	}
	hexSize, _, _ := bytes.Cut(line, []byte(";"))
	n, err := strconv.ParseInt(string(hexSize), 16, 64)
	return int(n), err == nil
}

// tamperBody flips one bit of the payload: 1000 bytes after the end of
// the first line (the first chunk header), inside the first chunk's data
// for every client here (whose chunks are 64 KiB or more).
func tamperBody(body io.ReadCloser) io.ReadCloser {
	return &tamperedBody{ReadCloser: body, at: -1}
}

type tamperedBody struct {
	io.ReadCloser
	n  int64 // bytes read so far
	at int64 // offset of the byte to flip, -1 until the first LF
}

func (b *tamperedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	for i := range n {
		off := b.n + int64(i)
		if b.at < 0 && p[i] == '\n' {
			b.at = off + 1000
		}
		if off == b.at {
			p[i] ^= 0x01
		}
	}
	b.n += int64(n)
	return n, err
}

// writeCABundle writes the TLS server's certificate as a PEM CA bundle for
// an external client.
func writeCABundle(t *testing.T, s *s3Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// minioPut uploads with minio-go over plain HTTP: a known size, so one
// PUT with signed 64 KiB chunks (DisableMultipart: above 16 MiB it would
// otherwise go multipart). checksum, if set, is sent as a signed trailer,
// which needs a client created with TrailingHeaders.
func minioPut(checksum minio.ChecksumType) uploadFunc {
	return func(t *testing.T, s *s3Server, secret string, data []byte, _ string) clientSaw {
		c, err := minio.New(strings.TrimPrefix(s.URL, "http://"), &minio.Options{
			Creds:           miniocreds.NewStaticV4(accessKey, secret, ""),
			Region:          region,
			BucketLookup:    minio.BucketLookupPath,
			TrailingHeaders: checksum.IsSet(),
			MaxRetries:      1,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
		defer cancel()
		_, err = c.PutObject(ctx, bucket, objectKey, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{DisableMultipart: true, Checksum: checksum})
		if err == nil {
			return clientSaw{status: 200}
		}
		resp := minio.ToErrorResponse(err)
		if resp.StatusCode == 0 {
			t.Fatalf("PutObject: %v", err)
		}
		return clientSaw{status: resp.StatusCode, code: resp.Code}
	}
}

// TestStreamMinioSignedChunks: minio-go over plain HTTP signs every 64 KiB
// chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), with a Content-Length.
func TestStreamMinioSignedChunks(t *testing.T) {
	testStreaming(t, streamWant{payload: streamingSigned, chunk: 64 << 10}, minioPut(0))
}

// TestStreamMinioSignedTrailer: minio-go with a CRC32C checksum sends it
// as a signed trailer (x-amz-trailer-signature) after signed 64 KiB chunks.
func TestStreamMinioSignedTrailer(t *testing.T) {
	testStreaming(t, streamWant{payload: streamingSignedTrailer, trailer: "x-amz-checksum-crc32c", chunk: 64 << 10},
		minioPut(minio.ChecksumCRC32C))
}

// TestStreamBoto3: boto3 over HTTPS sends a file unsigned-trailer
// aws-chunked, with Transfer-Encoding: chunked and 1 MiB chunks.
func TestStreamBoto3(t *testing.T) {
	requireBoto3(t)
	w := streamWant{tls: true, payload: streamingUnsigned, trailer: "x-amz-checksum-crc32", chunked: true, chunk: 1 << 20}
	testStreaming(t, w, func(t *testing.T, s *s3Server, secret string, _ []byte, file string) clientSaw {
		got := runScript(t, clientEnv(t, secret), "python3",
			filepath.Join("testdata", "boto3_stream.py"), s.URL, bucket, objectKey, file, writeCABundle(t, s))
		return onePut(t, got)
	})
}

// TestStreamAWSCLI: aws s3api put-object over HTTPS sends the file as
// boto3 does. (aws s3 cp would go multipart above 8 MiB.)
func TestStreamAWSCLI(t *testing.T) {
	requireCommand(t, "aws", "apt-get install -y awscli (or python3 -m pip install awscli)")
	w := streamWant{tls: true, payload: streamingUnsigned, trailer: "x-amz-checksum-crc32", chunked: true, chunk: 1 << 20}
	testStreaming(t, w, func(t *testing.T, s *s3Server, secret string, _ []byte, file string) clientSaw {
		// clientEnv drops the machine's AWS_CA_BUNDLE; --ca-bundle trusts
		// the test server alone.
		_, err := run(t, clientEnv(t, secret), "aws", "s3api", "put-object",
			"--bucket", bucket, "--key", objectKey, "--body", file,
			"--endpoint-url", s.URL, "--ca-bundle", writeCABundle(t, s),
			"--cli-connect-timeout", "10", "--cli-read-timeout", "30")
		if err == nil {
			return clientSaw{}
		}
		// The CLI prints "An error occurred (Code) when calling ...".
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, "An error occurred ("); ok {
			if code, _, ok := strings.Cut(rest, ")"); ok {
				return clientSaw{code: code}
			}
		}
		t.Fatalf("put-object failed without an S3 error: %v", err)
		return clientSaw{}
	})
}

// TestStreamGoSDK: aws-sdk-go-v2 over HTTPS with a seekable body sends an
// unsigned trailer with the whole object in one chunk, with Content-Length.
func TestStreamGoSDK(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "") // see TestGoSDK
	w := streamWant{tls: true, payload: streamingUnsigned, trailer: "x-amz-checksum-crc32"}
	testStreaming(t, w, func(t *testing.T, s *s3Server, secret string, data []byte, _ string) clientSaw {
		client := s3.New(s3.Options{
			Region:           region,
			BaseEndpoint:     aws.String(s.URL),
			UsePathStyle:     true,
			Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
			HTTPClient:       goSDKTLSClient(s),
			RetryMaxAttempts: 1,

			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		})
		ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
		defer cancel()
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(objectKey), Body: bytes.NewReader(data),
		})
		if err == nil {
			return clientSaw{status: 200}
		}
		var apiErr interface{ ErrorCode() string }
		var httpErr interface{ HTTPStatusCode() int }
		if !errors.As(err, &apiErr) || !errors.As(err, &httpErr) {
			t.Fatalf("PutObject: %v", err)
		}
		return clientSaw{status: httpErr.HTTPStatusCode(), code: apiErr.ErrorCode()}
	})
}

// goSDKTLSClient is the SDK's own default HTTP client (which waits 1 s for
// a 100 Continue before sending a body over 2 MiB), trusting the test
// server's certificate alone.
func goSDKTLSClient(s *s3Server) *awshttp.BuildableClient {
	tlsConfig := s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = tlsConfig
	}).WithTimeout(clientTimeout)
}

// TestStreamJSSDK: the JS SDK v3 sends a stream body with a known length
// unsigned-trailer aws-chunked in 64 KiB chunks with Transfer-Encoding:
// chunked, even over plain HTTP.
func TestStreamJSSDK(t *testing.T) {
	requireJSSDK(t)
	w := streamWant{payload: streamingUnsigned, trailer: "x-amz-checksum-crc32", chunked: true, chunk: 64 << 10}
	testStreaming(t, w, func(t *testing.T, s *s3Server, secret string, _ []byte, file string) clientSaw {
		got := runScript(t, clientEnv(t, secret), "node", filepath.Join(nodeDir, "s3stream.js"), s.URL, bucket, objectKey, file)
		return onePut(t, got)
	})
}

// onePut is the single PutObject a streaming client script reports.
func onePut(t *testing.T, got []opResult) clientSaw {
	t.Helper()
	if len(got) != 1 || got[0].Op != "PutObject" {
		t.Fatalf("client reported %+v, want one PutObject", got)
	}
	return clientSaw{status: got[0].Status, code: got[0].Code}
}
