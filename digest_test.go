package sigv4_test

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/internal/chunk"
)

// TestContentMD5: in every payload mode, an S3 body that matches its
// Content-MD5 reads to its end; one byte off, it ends in BadDigest; a
// malformed value is InvalidDigest from Verify; outside S3 the header is
// the service's business.
func TestContentMD5(t *testing.T) {
	body := strings.Repeat("the object's bytes, as they were sent\n", 500) // 19 KiB: three chunks
	sum := md5.Sum([]byte(body))
	good := base64.StdEncoding.EncodeToString(sum[:])
	other := md5.Sum([]byte(body + "!"))
	bad := base64.StdEncoding.EncodeToString(other[:])
	modes := map[string]func(t *testing.T, req *http.Request){
		"hex": func(t *testing.T, req *http.Request) { mustSignT(t, testSigner("s3"), req) },
		"unsigned": func(t *testing.T, req *http.Request) {
			s := testSigner("s3")
			s.UnsignedPayload = true
			mustSignT(t, s, req)
		},
		"streaming": func(t *testing.T, req *http.Request) {
			if err := chunked.Sign(testSigner("s3"), req, chunked.Options{ChunkSize: 8 << 10}); err != nil {
				t.Fatal(err)
			}
		},
		"streaming-trailer": func(t *testing.T, req *http.Request) {
			if err := chunked.Sign(testSigner("s3"), req, chunked.Options{Unsigned: true, Checksum: "CRC32"}); err != nil {
				t.Fatal(err)
			}
		},
	}
	v := testVerifier(testTime)
	for name, sign := range modes {
		for _, tc := range []struct {
			md5, code string // code "" : accepted
			atVerify  bool
		}{
			{good, "", false},
			{bad, "BadDigest", false},
			{"not base64!", "InvalidDigest", true},
			{base64.StdEncoding.EncodeToString([]byte("short")), "InvalidDigest", true},
		} {
			req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key", body)
			req.Header.Set("Content-MD5", tc.md5)
			sign(t, req)
			res, err := v.Verify(onTheWire(t, req))
			if tc.atVerify {
				checkErrCode(t, name, err, tc.code)
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", name, tc.md5, err)
			}
			got, err := io.ReadAll(res.Body)
			if tc.code == "" {
				if err != nil || string(got) != body {
					t.Errorf("%s: read %q, %v", name, got, err)
				}
				continue
			}
			checkErrCode(t, name, err, tc.code)
		}
	}

	// An empty body is checked at once.
	req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/empty", "")
	req.Header.Set("Content-MD5", good)
	mustSignT(t, testSigner("s3"), req)
	_, err := v.Verify(onTheWire(t, req))
	checkErrCode(t, "empty", err, "BadDigest")

	// Outside S3, Content-MD5 is not the verifier's to check.
	req = newRequest(t, "PUT", "https://example.execute-api.us-east-1.amazonaws.com/prod/x", body)
	req.Header.Set("Content-MD5", bad)
	mustSignT(t, testSigner("execute-api"), req)
	res, err := v.Verify(onTheWire(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(res.Body); err != nil || string(got) != body {
		t.Errorf("execute-api: read %q, %v", got, err)
	}
}

func mustSignT(t *testing.T, s *sigv4.Signer, req *http.Request) {
	t.Helper()
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
}

func checkErrCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	} else if !strings.Contains(e.Message, "Content-MD5") {
		t.Errorf("%s: message %q", what, e.Message)
	}
}

// TestChecksumHeaders: an S3 body is checked against its
// x-amz-checksum-* header, for every algorithm, in every payload mode:
// right value accepted, one byte off BadDigest at the end; a malformed
// value, two checksum headers, or an x-amz-sdk-checksum-algorithm naming
// another algorithm are refused by Verify (InvalidRequest).
func TestChecksumHeaders(t *testing.T) {
	body := strings.Repeat("checksummed bytes\n", 1000)
	v := testVerifier(testTime)
	value := func(name, data string) string {
		h := chunk.NewChecksum(name)
		h.Write([]byte(data))
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	send := func(mode string, headers map[string]string) (*sigv4.Result, error) {
		req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key", body)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		switch mode {
		case "hex":
			mustSignT(t, testSigner("s3"), req)
		case "unsigned":
			s := testSigner("s3")
			s.UnsignedPayload = true
			mustSignT(t, s, req)
		case "streaming":
			if err := chunked.Sign(testSigner("s3"), req, chunked.Options{ChunkSize: 8 << 10}); err != nil {
				t.Fatal(err)
			}
		}
		return v.Verify(onTheWire(t, req))
	}
	for _, mode := range []string{"hex", "unsigned", "streaming"} {
		for _, name := range []string{"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256"} {
			alg := strings.ToUpper(strings.TrimPrefix(name, "x-amz-checksum-"))
			res, err := send(mode, map[string]string{name: value(name, body), "X-Amz-Sdk-Checksum-Algorithm": alg})
			if err != nil {
				t.Fatalf("%s %s: %v", mode, name, err)
			}
			if got, err := io.ReadAll(res.Body); err != nil || string(got) != body {
				t.Errorf("%s %s: read %d bytes, %v", mode, name, len(got), err)
			}
			res, err = send(mode, map[string]string{name: value(name, body+"!")})
			if err != nil {
				t.Fatalf("%s %s: %v", mode, name, err)
			}
			_, err = io.ReadAll(res.Body)
			checkCodeMsg(t, mode+" "+name, err, "BadDigest", name)
			_, err = send(mode, map[string]string{name: "AAAA"})
			checkCodeMsg(t, mode+" "+name+" malformed", err, "InvalidRequest", name)
		}
		_, err := send(mode, map[string]string{"x-amz-checksum-crc32": value("x-amz-checksum-crc32", body), "x-amz-checksum-sha1": value("x-amz-checksum-sha1", body)})
		checkCodeMsg(t, mode+" two", err, "InvalidRequest", "single x-amz-checksum-")
		_, err = send(mode, map[string]string{"x-amz-checksum-crc32": value("x-amz-checksum-crc32", body), "X-Amz-Sdk-Checksum-Algorithm": "SHA256"})
		checkCodeMsg(t, mode+" other algorithm", err, "InvalidRequest", "x-amz-sdk-checksum-algorithm")
		// With Content-MD5 too: both are checked.
		res, err := send(mode, map[string]string{"x-amz-checksum-crc32": value("x-amz-checksum-crc32", body), "Content-MD5": md5Of(body + "!")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(res.Body)
		checkCodeMsg(t, mode+" md5 off", err, "BadDigest", "Content-MD5")
	}
	// CompleteMultipartUpload's checksum is the object's, not its body's.
	req := newRequest(t, "POST", "https://bucket.s3.amazonaws.com/key?uploadId=abc", "<CompleteMultipartUpload/>")
	req.Header.Set("x-amz-checksum-crc32", value("x-amz-checksum-crc32", "the object"))
	mustSignT(t, testSigner("s3"), req)
	res, err := v.Verify(onTheWire(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(res.Body); err != nil {
		t.Errorf("CompleteMultipartUpload: %v", err)
	}
}

func md5Of(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func checkCodeMsg(t *testing.T, what string, err error, code, inMessage string) {
	t.Helper()
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, inMessage) {
		t.Errorf("%s: %v, want %s about %s", what, err, code, inMessage)
	}
}

// TestChecksumInPresignedQuery: the JS SDK v3 presigns a PutObject with a
// checksum by moving x-amz-checksum-* and x-amz-sdk-checksum-algorithm
// into the query; the body is checked against it as against a header.
func TestChecksumInPresignedQuery(t *testing.T) {
	body := strings.Repeat("presigned upload\n", 100)
	v := testVerifier(testTime)
	crc := func(data string) string {
		h := chunk.NewChecksum("x-amz-checksum-crc32")
		h.Write([]byte(data))
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	for _, tc := range []struct{ sum, code string }{{crc(body), ""}, {crc(body + "!"), "BadDigest"}, {"AAAA", "InvalidRequest"}} {
		req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key?x-amz-sdk-checksum-algorithm=CRC32&x-amz-checksum-crc32="+url.QueryEscape(tc.sum), body)
		if err := testSigner("s3").Presign(req, time.Hour); err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(onTheWire(t, req))
		if err == nil {
			_, err = io.ReadAll(res.Body)
		}
		if tc.code == "" {
			if err != nil {
				t.Errorf("the right checksum: %v", err)
			}
			continue
		}
		checkCodeMsg(t, "checksum "+tc.sum, err, tc.code, "x-amz-checksum-crc32")
	}
	// Outside a presigned URL, the query is not where checksums go.
	req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key?x-amz-checksum-crc32="+url.QueryEscape(crc("other")), body)
	mustSignT(t, testSigner("s3"), req)
	res, err := v.Verify(onTheWire(t, req))
	if err == nil {
		_, err = io.ReadAll(res.Body)
	}
	if err != nil {
		t.Errorf("a header-signed request with a checksum-named query parameter: %v", err)
	}
}
