package postpolicy_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/postpolicy"
)

// FuzzVerify feeds arbitrary forms (and policies) to the verifier: it
// answers every one with an upload or an error, within its bounds. Its
// seeds in testdata/fuzz/FuzzVerify are forms real clients sent (boto3,
// the JS SDK, aws-sdk-go-v2, minio-go, through curl -F and requests),
// captured by the interop tests (SIGV4_POST_CORPUS); the clock is each
// form's own x-amz-date, so that they verify and the fuzzer starts from
// forms that reach the file.
func FuzzVerify(f *testing.F) {
	creds := sigv4.Credentials{AccessKeyID: "AKIDFUZZ", SecretAccessKey: "fuzz"}
	interop := sigv4.Credentials{AccessKeyID: "AKIAINTEROPEXAMPLE01", SecretAccessKey: "interop/Secret+Key/EXAMPLEKEYdoNotUse0001"}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	signed, _ := postpolicy.Sign(postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: []postpolicy.Condition{
		postpolicy.StartsWith("key", "u/"), postpolicy.ContentLengthRange(0, 64)}}, creds, "us-east-1", now, map[string]string{"key": "u/x"})
	var seed bytes.Buffer
	seed.WriteString("--B\r\n")
	for k, v := range signed {
		seed.WriteString("Content-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n--B\r\n")
	}
	seed.WriteString("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nhello\r\n--B--\r\n")
	const ct = "multipart/form-data; boundary=B"
	f.Add(ct, "b", seed.Bytes())
	f.Add(ct, "b", []byte("--B\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n"+
		base64.StdEncoding.EncodeToString([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1,2],{"a":"b"},["eq","$x",""]]}`))+
		"\r\n--B--\r\n"))
	var at time.Time // the clock of the form being verified; one at a time
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds, interop), Regions: []string{"*"}, Now: func() time.Time { return at }}
	f.Fuzz(func(t *testing.T, contentType, bucket string, body []byte) {
		at = now
		if m := formDate.FindSubmatch(body); m != nil {
			if d, err := time.Parse("20060102T150405Z", string(m[1])); err == nil {
				at = d.Add(time.Minute)
			}
		}
		req := httptest.NewRequest("POST", "https://s3.amazonaws.com/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		up, err := v.Verify(req, bucket)
		if err != nil {
			return
		}
		if up.Bucket != bucket || up.Fields["bucket"] != bucket {
			t.Fatalf("verified for bucket %q, the URL's is %q", up.Bucket, bucket)
		}
		io.Copy(io.Discard, up.File)
	})
}

// formDate finds a form's x-amz-date field, in any case.
var formDate = regexp.MustCompile(`(?i)name="x-amz-date"\r\n\r\n(\d{8}T\d{6}Z)\r\n`)

// TestClientForms: the forms real clients sent (FuzzVerify's seeds)
// verify, at their own time, with the file as it was sent; one day
// later, or with a byte of the policy changed, they do not.
func TestClientForms(t *testing.T) {
	seeds, err := filepath.Glob("testdata/fuzz/FuzzVerify/*")
	if err != nil || len(seeds) < 6 {
		t.Fatalf("%d seeds, %v", len(seeds), err)
	}
	keys := sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: "AKIAINTEROPEXAMPLE01", SecretAccessKey: "interop/Secret+Key/EXAMPLEKEYdoNotUse0001"})
	for _, path := range seeds {
		contentType, bucket, body := readSeed(t, path)
		m := formDate.FindSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no x-amz-date", path)
		}
		at, _ := time.Parse("20060102T150405Z", string(m[1]))
		verify := func(at time.Time, body []byte) error {
			v := &postpolicy.Verifier{Keys: keys, Regions: []string{"us-east-1"}, Now: func() time.Time { return at }}
			req := httptest.NewRequest("POST", "http://127.0.0.1/"+bucket, bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			up, err := v.Verify(req, bucket)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, up.File)
			return err
		}
		if err := verify(at.Add(time.Minute), body); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		if err := verify(at.Add(24*time.Hour), body); code(err) != "AccessDenied" {
			t.Errorf("%s, a day later: %v", filepath.Base(path), err)
		}
		p := policyField.FindSubmatchIndex(body)
		if p == nil {
			t.Fatalf("%s: no policy field", path)
		}
		tampered := bytes.Clone(body)
		i := p[2] + 10
		tampered[i] ^= 'A' ^ 'B' // still base64, another policy
		if err := verify(at.Add(time.Minute), tampered); err == nil {
			t.Errorf("%s: its policy changed, accepted", filepath.Base(path))
		}
	}
}

var policyField = regexp.MustCompile(`(?i)name="policy"\r\n\r\n([A-Za-z0-9+/=]+)\r\n`)

// readSeed reads a corpus file of FuzzVerify.
func readSeed(t *testing.T, path string) (contentType, bucket string, body []byte) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a corpus file", path)
	}
	var vals [3]string
	for i, line := range lines[1:] {
		_, q, _ := strings.Cut(line, "(")
		if vals[i], err = strconv.Unquote(strings.TrimSuffix(q, ")")); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return vals[0], vals[1], []byte(vals[2])
}
