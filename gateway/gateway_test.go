package gateway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/internal/chunk"
)

// authHeaders must never reach the upstream.
var authHeaders = []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"}

// TestForward sends a body in every payload mode and checks that the
// upstream received exactly the decoded bytes, the identity, and no
// authentication.
func TestForward(t *testing.T) {
	data := testData(100<<10 + 7)
	tests := []struct {
		name string
		// sign signs req for the mode; it may change how it is sent.
		sign      func(t *testing.T, req *http.Request)
		body      []byte
		streaming bool
		encoding  string // Content-Encoding the upstream must get
	}{
		{name: "hex", body: data, sign: func(t *testing.T, req *http.Request) { mustSign(t, signer("s3"), req) }},
		{name: "hex/chunked-transfer", body: data, sign: func(t *testing.T, req *http.Request) {
			mustSign(t, signer("s3"), req)
			req.ContentLength = -1 // sent with Transfer-Encoding: chunked
		}},
		{name: "empty", sign: func(t *testing.T, req *http.Request) { mustSign(t, signer("s3"), req) }},
		{name: "unsigned", body: data, sign: func(t *testing.T, req *http.Request) {
			s := signer("s3")
			s.UnsignedPayload = true
			mustSign(t, s, req)
		}},
		{name: "no-hash/sts", body: []byte("Action=ListRoles&Version=2011-06-15"), sign: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			mustSign(t, signer("sts"), req)
		}},
		{name: "streaming/signed", body: data, streaming: true, sign: chunkedSign(chunked.Options{ChunkSize: 16 << 10})},
		{name: "streaming/signed-trailer", body: data, streaming: true, sign: chunkedSign(chunked.Options{Checksum: "CRC32C", ChunkSize: 16 << 10})},
		{name: "streaming/unsigned-trailer", body: data, streaming: true, sign: chunkedSign(chunked.Options{Unsigned: true})},
		{name: "streaming/unsigned-trailer/chunked-transfer", body: data, streaming: true, sign: func(t *testing.T, req *http.Request) {
			chunkedSign(chunked.Options{Unsigned: true, ChunkSize: 1 << 20})(t, req)
			req.ContentLength = -1 // as boto3 sends it
		}},
		{name: "streaming/gzip", body: data, streaming: true, encoding: "gzip", sign: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Encoding", "gzip")
			chunkedSign(chunked.Options{ChunkSize: 32 << 10})(t, req)
		}},
		{name: "streaming/one-byte", body: []byte("x"), streaming: true, sign: chunkedSign(chunked.Options{Checksum: "SHA256"})},
		{name: "streaming/empty", body: []byte{}, streaming: true, sign: chunkedSign(chunked.Options{Unsigned: true})},
	}
	for _, tt := range tests {
		for _, mode := range bodyModes {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				temp := t.TempDir()
				e := newEnv(t, gateway.Config{MaxMemoryBody: 32 << 10, TempDir: temp, StreamHashedBodies: mode == "streamed"})
				method := "PUT"
				if strings.HasPrefix(tt.name, "no-hash") {
					method = "POST"
				}
				req := e.request(t, method, "/bucket/dir/key%20with%20space.bin", tt.body)
				tt.sign(t, req)
				resp := e.do(t, req)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
				}
				got := e.received(t)
				if len(got) != 1 {
					t.Fatalf("the upstream received %d requests, want 1", len(got))
				}
				r := got[0]
				checkForwarded(t, r, resp, tt.body)
				if r.Path != "/bucket/dir/key with space.bin" || r.RawPath != "" && r.RawPath != "/bucket/dir/key%20with%20space.bin" {
					t.Errorf("upstream path %q (raw %q)", r.Path, r.RawPath)
				}
				if tt.streaming {
					for _, h := range []string{"X-Amz-Decoded-Content-Length", "X-Amz-Trailer"} {
						if v := r.Header.Get(h); v != "" {
							t.Errorf("upstream got %s: %s", h, v)
						}
					}
					if v := r.Header.Get("X-Amz-Content-Sha256"); v != sigv4.UnsignedPayload {
						t.Errorf("upstream got x-amz-content-sha256 %q, want UNSIGNED-PAYLOAD", v)
					}
					if v := r.Header.Values("Content-Encoding"); strings.Join(v, ",") != tt.encoding {
						t.Errorf("upstream got Content-Encoding %q, want %q", v, tt.encoding)
					}
				}
				switch {
				case mode == "streamed" && tt.name == "hex/chunked-transfer":
					// Streamed as it came: of unknown length.
					if r.ContentLength != -1 || strings.Join(r.TransferEncoding, ",") != "chunked" {
						t.Errorf("upstream got Content-Length %d, Transfer-Encoding %v; want chunked", r.ContentLength, r.TransferEncoding)
					}
				case len(tt.body) > 0 && (r.ContentLength != int64(len(tt.body)) || len(r.TransferEncoding) > 0):
					t.Errorf("upstream got Content-Length %d, Transfer-Encoding %v; want %d and none", r.ContentLength, r.TransferEncoding, len(tt.body))
				}
				if files, _ := os.ReadDir(temp); len(files) > 0 {
					t.Errorf("temporary files left behind: %v", files)
				}
			})
		}
	}
}

// bodyModes are the ways the gateway forwards a body with a declared
// SHA-256: held until it matched (the default), or streamed with its last
// byte held back (Config.StreamHashedBodies).
var bodyModes = []string{"held", "streamed"}

// checkForwarded checks what the upstream got of an accepted request.
func checkForwarded(t *testing.T, r received, resp response, body []byte) {
	t.Helper()
	if !r.Complete || !bytes.Equal(r.Body, body) {
		t.Errorf("upstream got %d bytes (complete %v, %v), want the %d sent", len(r.Body), r.Complete, r.Err, len(body))
	}
	if got := r.Header.Get(gateway.HeaderAccessKey); got != accessKey {
		t.Errorf("upstream got %s %q, want %q", gateway.HeaderAccessKey, got, accessKey)
	}
	if got := r.Header.Values(gateway.HeaderPrincipal); len(got) != 1 || got[0] != principal {
		t.Errorf("upstream got %s %q, want %q", gateway.HeaderPrincipal, got, principal)
	}
	for _, h := range authHeaders {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("upstream got %s: %s", h, v)
		}
	}
	id := resp.Header.Get("X-Amz-Request-Id")
	if id == "" || r.Header.Get(gateway.HeaderRequestID) != id || resp.Header.Get("X-Amzn-Requestid") != id {
		t.Errorf("request IDs: answer %q / %q, upstream %q: want one, the gateway's",
			id, resp.Header.Get("X-Amzn-Requestid"), r.Header.Get(gateway.HeaderRequestID))
	}
	if resp.Header.Get("Date") == "" {
		t.Error("no Date header in the answer")
	}
}

func mustSign(t *testing.T, s *sigv4.Signer, req *http.Request) {
	t.Helper()
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
}

func chunkedSign(opts chunked.Options) func(*testing.T, *http.Request) {
	return func(t *testing.T, req *http.Request) {
		t.Helper()
		if err := chunked.Sign(signer("s3"), req, opts); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRejectBody sends bodies that fail to verify, some only at their very
// end, and checks that the client gets the error and that the upstream
// never receives a complete request.
func TestRejectBody(t *testing.T) {
	data := testData(100<<10 + 7)
	tests := []struct {
		name   string
		body   []byte
		sign   func(t *testing.T, req *http.Request)
		status int
		code   string
		none   bool // the upstream must see nothing at all
	}{
		{name: "wrong-secret", body: data, status: 403, code: "SignatureDoesNotMatch", none: true,
			sign: func(t *testing.T, req *http.Request) {
				s := signer("s3")
				s.Credentials.SecretAccessKey = "wrong"
				mustSign(t, s, req)
			}},
		{name: "unknown-key", body: data, status: 403, code: "InvalidAccessKeyId", none: true,
			sign: func(t *testing.T, req *http.Request) {
				s := signer("s3")
				s.Credentials.AccessKeyID = "AKIDUNKNOWN"
				mustSign(t, s, req)
			}},
		{name: "hex-mismatch", body: data, status: 400, code: "XAmzContentSHA256Mismatch", none: true,
			sign: func(t *testing.T, req *http.Request) {
				mustSign(t, signer("s3"), req)
				req.Body = io.NopCloser(corrupt(bytes.NewReader(data), len(data)-1))
			}},
		{name: "hex-mismatch/temp-file", body: data, status: 400, code: "XAmzContentSHA256Mismatch", none: true,
			sign: func(t *testing.T, req *http.Request) {
				mustSign(t, signer("s3"), req)
				req.Body = io.NopCloser(corrupt(bytes.NewReader(data), 50<<10))
			}},
		{name: "signed-chunk/last-tampered", body: data, status: 403, code: "SignatureDoesNotMatch",
			sign: func(t *testing.T, req *http.Request) {
				chunkedSign(chunked.Options{ChunkSize: 16 << 10})(t, req)
				req.Body = io.NopCloser(corrupt(req.Body, int(req.ContentLength)-200))
			}},
		{name: "signed-trailer/tampered-checksum", body: data, status: 403, code: "SignatureDoesNotMatch",
			sign: func(t *testing.T, req *http.Request) {
				chunkedSign(chunked.Options{Checksum: "CRC32", ChunkSize: 16 << 10})(t, req)
				req.Body = io.NopCloser(corruptAfter(req.Body, "x-amz-checksum-crc32:"))
			}},
		{name: "unsigned-trailer/bad-checksum", body: data, status: 400, code: "BadDigest",
			sign: func(t *testing.T, req *http.Request) {
				chunkedSign(chunked.Options{Unsigned: true})(t, req)
				req.Body = io.NopCloser(corruptAfter(req.Body, "x-amz-checksum-crc32:"))
			}},
		{name: "unsigned-trailer/corrupted-data", body: data, status: 400, code: "BadDigest",
			sign: func(t *testing.T, req *http.Request) {
				chunkedSign(chunked.Options{Unsigned: true})(t, req)
				req.Body = io.NopCloser(corrupt(req.Body, 70<<10))
			}},
		{name: "unsigned-trailer/lying-length-longer", body: data, status: 400, code: "IncompleteBody",
			sign: func(t *testing.T, req *http.Request) { unsignedTrailerStream(t, req, data, len(data)+1) }},
		{name: "unsigned-trailer/lying-length-shorter", body: data, status: 400, code: "IncompleteBody",
			sign: func(t *testing.T, req *http.Request) { unsignedTrailerStream(t, req, data, len(data)-1) }},
		{name: "signed/lying-length-longer", body: data, status: 400, code: "IncompleteBody",
			sign: func(t *testing.T, req *http.Request) { signedStream(t, req, data, len(data)+1) }},
		{name: "signed/lying-length-shorter", body: data, status: 400, code: "IncompleteBody",
			sign: func(t *testing.T, req *http.Request) { signedStream(t, req, data, len(data)-1) }},
	}
	for _, tt := range tests {
		for _, mode := range bodyModes {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				temp := t.TempDir()
				e := newEnv(t, gateway.Config{MaxMemoryBody: 32 << 10, TempDir: temp, StreamHashedBodies: mode == "streamed"})
				req := e.request(t, "PUT", "/bucket/key", tt.body)
				tt.sign(t, req)
				resp := e.do(t, req)
				checkError(t, resp, tt.status, tt.code)
				got := e.received(t)
				if tt.none && (mode == "held" || !strings.HasPrefix(tt.name, "hex-mismatch")) && len(got) > 0 {
					t.Errorf("the upstream received %d requests, want none", len(got))
				}
				checkNoneComplete(t, got)
				if files, _ := os.ReadDir(temp); len(files) > 0 {
					t.Errorf("temporary files left behind: %v", files)
				}
			})
		}
	}
}

// corrupt flips byte at of r.
func corrupt(r io.Reader, at int) io.Reader {
	b, _ := io.ReadAll(r)
	b[at] ^= 0x55
	return bytes.NewReader(b)
}

// corruptAfter changes the first byte after marker.
func corruptAfter(r io.Reader, marker string) io.Reader {
	b, _ := io.ReadAll(r)
	i := bytes.Index(b, []byte(marker))
	if i < 0 {
		panic("no " + marker)
	}
	i += len(marker)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return bytes.NewReader(b)
}

// unsignedTrailerStream makes req a STREAMING-UNSIGNED-PAYLOAD-TRAILER
// upload of data, in one chunk with a correct CRC32, whose signed
// x-amz-decoded-content-length says declared.
func unsignedTrailerStream(t *testing.T, req *http.Request, data []byte, declared int) {
	t.Helper()
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(declared))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	if err := signer("s3").SignPayload(req, chunked.UnsignedPayloadTrailer); err != nil {
		t.Fatal(err)
	}
	req.Body, req.ContentLength = io.NopCloser(&b), int64(b.Len())
}

// signedStream makes req a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload of
// data with valid chunk signatures, whose signed
// x-amz-decoded-content-length says declared.
func signedStream(t *testing.T, req *http.Request, data []byte, declared int) {
	t.Helper()
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(declared))
	if err := signer("s3").SignPayload(req, chunked.SignedPayload); err != nil {
		t.Fatal(err)
	}
	amzDate := req.Header.Get("X-Amz-Date")
	_, seed, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	scope := sigv4.Scope{Date: amzDate[:8], Region: region, Service: "s3"}
	chain := chunk.NewChain(sigv4.DeriveSigningKey(secret, scope), amzDate, scope.String(), seed)
	enc := chunk.NewEncoder(bytes.NewReader(data), chunk.EncoderConfig{
		Mode: chunk.Signed, Chain: chain, DecodedLength: int64(len(data)), ChunkSize: 16 << 10})
	stream, err := io.ReadAll(enc)
	if err != nil {
		t.Fatal(err)
	}
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(stream)), int64(len(stream))
}

// TestPresignedGET checks that the authentication parameters leave the
// query and everything else in it stays byte for byte.
func TestPresignedGET(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	query := "versionId=a%2Fb&response-content-type=text%2Fplain&uploads&x=1+2"
	req := e.request(t, "GET", "/bucket/key?"+query, nil)
	if err := signer("s3").Presign(req, time.Hour); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.URL.RawQuery, "X-Amz-Signature=") {
		t.Fatalf("not presigned: %s", req.URL)
	}
	resp := e.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	if got[0].RawQuery != query {
		t.Errorf("upstream query\n%s\nwant\n%s", got[0].RawQuery, query)
	}
	checkForwarded(t, got[0], resp, []byte{})
}

// TestIdentitySpoof sends the gateway's identity headers, signed, and
// checks that the upstream gets only the gateway's.
func TestIdentitySpoof(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	req := e.request(t, "GET", "/bucket/key", nil)
	req.Header.Set("X-Sigv4-Principal", "arn:aws:iam::999999999999:root")
	req.Header.Set("X-Sigv4-Access-Key", "AKIDADMIN")
	req.Header.Set("X-SIGV4-Other", "x")
	req.Header.Set("X-Sigv4-Service", "iam")
	req.Header["X_sigv4_region"] = []string{"eu-west-1"}
	req.Header["X_sigv4_principal"] = []string{"arn:aws:iam::999999999999:root"}
	mustSign(t, signer("s3"), req)
	resp := e.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	checkForwarded(t, got[0], resp, []byte{})
	for name := range got[0].Header {
		if strings.Contains(strings.ToLower(name), "sigv4") && name != gateway.HeaderAccessKey &&
			name != gateway.HeaderPrincipal && name != gateway.HeaderRequestID &&
			name != gateway.HeaderService && name != gateway.HeaderRegion {
			t.Errorf("upstream got %s: %q", name, got[0].Header[name])
		}
	}
	for name, want := range map[string]string{gateway.HeaderService: "s3", gateway.HeaderRegion: region} {
		if v := got[0].Header[name]; len(v) != 1 || v[0] != want {
			t.Errorf("upstream got %s: %q, want only %q", name, v, want)
		}
	}
}

// TestSessionToken checks that a session token is required and never
// forwarded.
func TestSessionToken(t *testing.T) {
	keys := sigv4.NewKeyring()
	temp := sigv4.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "session-token-value"}
	keys.Add(temp, sigv4.Identity{Principal: "arn:aws:sts::123456789012:assumed-role/r/s"})
	v := &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3"}}
	e := newEnv(t, gateway.Config{Verifier: v})
	s := &sigv4.Signer{Credentials: temp, Region: region, Service: "s3"}

	req := e.request(t, "GET", "/bucket/key", nil)
	mustSign(t, s, req)
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	req = e.request(t, "GET", "/bucket/key?a=b", nil)
	if err := s.Presign(req, time.Minute); err != nil {
		t.Fatal(err)
	}
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	for _, r := range e.received(t) {
		if r.Header.Get("X-Amz-Security-Token") != "" || strings.Contains(r.RawQuery, "Token") {
			t.Errorf("upstream got the session token: %v %s", r.Header, r.RawQuery)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, temp.SessionToken) || strings.Contains(logs, "Signature") ||
		!strings.Contains(logs, `"access_key_id":"ASIATEMP"`) {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestJSONErrors checks the AWS JSON protocol error format.
func TestJSONErrors(t *testing.T) {
	e := newEnv(t, gateway.Config{ErrorFormat: gateway.FormatJSON})
	req := e.request(t, "POST", "/", []byte(`{"TableName":"t"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	s := signer("dynamodb")
	s.Credentials.SecretAccessKey = "wrong"
	mustSign(t, s, req)
	resp := e.do(t, req)
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := jsonUnmarshal(resp.Body, &body); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", resp.StatusCode, err, resp.Body)
	}
	if resp.StatusCode != 403 || body.Type != "InvalidSignatureException" || body.Message == "" {
		t.Errorf("answer %d %+v", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type %q", ct)
	}
	if et := resp.Header.Get("X-Amzn-ErrorType"); et != body.Type {
		t.Errorf("X-Amzn-ErrorType %q, want %q", et, body.Type)
	}
	if resp.Header.Get("X-Amzn-RequestId") == "" || resp.Header.Get("Date") == "" {
		t.Errorf("no x-amzn-RequestId or Date: %v", resp.Header)
	}
	if got := e.received(t); len(got) > 0 {
		t.Errorf("the upstream received %d requests", len(got))
	}
}

// TestSignatureDoesNotMatchDetails checks the details S3 returns.
func TestSignatureDoesNotMatchDetails(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	req := e.request(t, "GET", "/bucket/key", nil)
	s := signer("s3")
	s.Credentials.SecretAccessKey = "wrong"
	mustSign(t, s, req)
	x := checkError(t, e.do(t, req), 403, "SignatureDoesNotMatch")
	if x.AWSAccessKeyID != accessKey || !strings.HasPrefix(x.StringToSign, "AWS4-HMAC-SHA256\n") ||
		!strings.HasPrefix(x.CanonicalRequest, "GET\n/bucket/key\n") {
		t.Errorf("details: %+v", x)
	}
}

// TestRejectUnreadBody checks that a rejected upload is answered, not
// reset, when the client sends its body without waiting for 100 Continue.
func TestRejectUnreadBody(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	data := testData(1 << 20)
	for i := range 3 { // on the same connection
		req := e.request(t, "PUT", "/bucket/key", data)
		req.Header.Set("Expect", "100-continue")
		s := signer("s3")
		s.Credentials.SecretAccessKey = "wrong"
		mustSign(t, s, req)
		resp := e.do(t, req)
		checkError(t, resp, 403, "SignatureDoesNotMatch")
		t.Logf("attempt %d: %s", i, resp.Status)
	}
	req := e.request(t, "HEAD", "/bucket/key", nil)
	checkHeadError := e.do(t, req)
	if checkHeadError.StatusCode != 403 || len(checkHeadError.Body) != 0 {
		t.Errorf("HEAD: %d with %d bytes", checkHeadError.StatusCode, len(checkHeadError.Body))
	}
}

// TestEntityTooLarge checks MaxBody in every mode.
func TestEntityTooLarge(t *testing.T) {
	data := testData(64 << 10)
	for _, mode := range []string{"hex", "hex/chunked-transfer", "streaming", "unsigned", "unsigned/chunked-transfer"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, gateway.Config{MaxBody: 32 << 10, MaxMemoryBody: 8 << 10, TempDir: t.TempDir()})
			req := e.request(t, "PUT", "/bucket/key", data)
			switch mode {
			case "hex", "hex/chunked-transfer":
				mustSign(t, signer("s3"), req)
			case "streaming":
				chunkedSign(chunked.Options{})(t, req)
			default:
				s := signer("s3")
				s.UnsignedPayload = true
				mustSign(t, s, req)
			}
			if strings.HasSuffix(mode, "chunked-transfer") {
				req.ContentLength = -1
			}
			checkError(t, e.do(t, req), 400, "EntityTooLarge")
			checkNoneComplete(t, e.received(t))
		})
	}
}

// TestTempDir checks that a body over MaxMemoryBody is held in TempDir:
// a TempDir that does not exist fails it, and only it.
func TestTempDir(t *testing.T) {
	e := newEnv(t, gateway.Config{MaxMemoryBody: 1 << 10, TempDir: t.TempDir() + "/missing"})
	small := e.request(t, "PUT", "/bucket/small", testData(1<<10))
	mustSign(t, signer("s3"), small)
	if resp := e.do(t, small); resp.StatusCode != http.StatusOK {
		t.Errorf("small body: %d %s", resp.StatusCode, resp.Body)
	}
	large := e.request(t, "PUT", "/bucket/large", testData(1<<10+1))
	mustSign(t, signer("s3"), large)
	checkError(t, e.do(t, large), 500, "InternalError")
	if !strings.Contains(e.logs.String(), "missing") {
		t.Errorf("the log does not say why:\n%s", e.logs)
	}
}

// TestUpstreamDown checks the answer when the upstream cannot be reached.
func TestUpstreamDown(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	e.up.Close()
	req := e.request(t, "GET", "/bucket/key", nil)
	mustSign(t, signer("s3"), req)
	checkError(t, e.do(t, req), 502, "BadGateway")
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestNewErrors(t *testing.T) {
	v := newVerifier()
	for _, cfg := range []gateway.Config{
		{},
		{Verifier: v, ErrorFormat: "yaml"},
		{Verifier: v, Upstream: mustParse("localhost:8080")},
		{Verifier: v, MaxBody: -1},
	} {
		if _, err := gateway.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
