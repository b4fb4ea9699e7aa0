package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
)

var (
	testCreds = sigv4.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret/test+key"}
	testTime  = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

func testSigner(service string) *sigv4.Signer {
	return &sigv4.Signer{Credentials: testCreds, Region: "us-east-1", Service: service,
		Now: func() time.Time { return testTime }}
}

func testVerifier(now time.Time, creds ...sigv4.Credentials) *sigv4.Verifier {
	if len(creds) == 0 {
		creds = []sigv4.Credentials{testCreds}
	}
	return &sigv4.Verifier{Keys: sigv4.NewKeyring(creds...), Regions: []string{"us-east-1"},
		Services: []string{"s3", "execute-api"}, Now: func() time.Time { return now }}
}

// onTheWire serializes a client request and reads it back as net/http's
// server would deliver it to a handler.
func onTheWire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func newRequest(t testing.TB, method, url, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// signed returns a header-signed S3 GET as the server receives it.
func signed(t testing.TB, edit func(*http.Request)) *http.Request {
	t.Helper()
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key%20one?list-type=2&prefix=a", "")
	if edit != nil {
		edit(req)
	}
	if err := testSigner("s3").Sign(req); err != nil {
		t.Fatal(err)
	}
	return onTheWire(t, req)
}

func presigned(t testing.TB, expires time.Duration) *http.Request {
	t.Helper()
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
	if err := testSigner("s3").Presign(req, expires); err != nil {
		t.Fatal(err)
	}
	return onTheWire(t, req)
}

func TestClockSkew(t *testing.T) {
	for _, tc := range []struct {
		offset  time.Duration
		maxSkew time.Duration
		code    string
	}{
		{0, 0, ""},
		{14 * time.Minute, 0, ""},
		{-14 * time.Minute, 0, ""},
		{16 * time.Minute, 0, "RequestTimeTooSkewed"},
		{-16 * time.Minute, 0, "RequestTimeTooSkewed"},
		{4 * time.Minute, 5 * time.Minute, ""},
		{6 * time.Minute, 5 * time.Minute, "RequestTimeTooSkewed"},
	} {
		v := testVerifier(testTime.Add(tc.offset))
		v.MaxSkew = tc.maxSkew
		expectOutcome(t, v, signed(t, nil), tc.code)
	}
}

func TestPresignExpiry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expires time.Duration
		offset  time.Duration
		code    string
	}{
		{"fresh", time.Hour, 0, ""},
		{"last second", time.Hour, time.Hour, ""},
		{"expired", time.Hour, time.Hour + time.Second, "AccessDenied"},
		{"seven days", sigv4.MaxExpires, sigv4.MaxExpires - time.Minute, ""},
		{"signed in the future within skew", time.Hour, -10 * time.Minute, ""},
		{"not yet valid", time.Hour, -16 * time.Minute, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectOutcome(t, testVerifier(testTime.Add(tc.offset)), presigned(t, tc.expires), tc.code)
		})
	}
}

func TestPresignExpiresBounds(t *testing.T) {
	s := testSigner("s3")
	for _, d := range []time.Duration{0, -time.Second, 500 * time.Millisecond, sigv4.MaxExpires + time.Second, 1500 * time.Millisecond} {
		if err := s.Presign(newRequest(t, "GET", "https://b.s3.amazonaws.com/k", ""), d); err == nil {
			t.Errorf("Presign(%v) succeeded", d)
		}
	}
	for _, d := range []time.Duration{time.Second, sigv4.MaxExpires} {
		if err := s.Presign(newRequest(t, "GET", "https://b.s3.amazonaws.com/k", ""), d); err != nil {
			t.Errorf("Presign(%v): %v", d, err)
		}
	}
	// A verifier rejects out-of-range X-Amz-Expires even when it is signed.
	for _, bad := range []string{"0", "604801", "-1", "abc", "01", "1e3", ""} {
		req := presigned(t, time.Hour)
		req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires="+bad, 1)
		req.RequestURI = req.URL.RequestURI()
		expectOutcome(t, testVerifier(testTime), req, "AuthorizationQueryParametersError")
	}
}

func TestScopeRules(t *testing.T) {
	for _, tc := range []struct {
		name              string
		regions, services []string
		code              string
	}{
		{"listed", []string{"us-west-2", "us-east-1"}, []string{"s3"}, ""},
		{"any region", []string{"*"}, []string{"s3"}, ""},
		{"other region", []string{"us-west-2"}, []string{"s3"}, "AuthorizationHeaderMalformed"},
		{"other service", []string{"us-east-1"}, []string{"sqs"}, "AuthorizationHeaderMalformed"},
		{"no regions configured", nil, []string{"s3"}, "AuthorizationHeaderMalformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(testTime)
			v.Regions, v.Services = tc.regions, tc.services
			expectOutcome(t, v, signed(t, nil), tc.code)
		})
	}
}

func TestMalformedAuthorization(t *testing.T) {
	good := signed(t, nil).Header.Get("Authorization")
	cred, _, _ := strings.Cut(good, ",")
	sig := afterLast(good, "Signature=")
	for name, value := range map[string]string{
		"repeated credential": good + ", " + strings.TrimPrefix(cred, "AWS4-HMAC-SHA256 "),
		"no signature":        strings.Split(good, ", Signature=")[0],
		"no signed headers":   cred + ", Signature=" + sig,
		"unknown part":        good + ", Foo=bar",
		"part without =":      good + ", junk",
		"short credential":    strings.Replace(good, "/us-east-1/s3/", "/us-east-1/", 1),
		"bad date":            strings.Replace(good, "/20261124/", "/2026-11-24/", 1),
		"empty access key":    strings.Replace(good, "Credential=AKIDTEST/", "Credential=/", 1),
		"upper-case hex":      strings.Replace(good, sig, strings.ToUpper(sig), 1),
		"short signature":     strings.Replace(good, sig, sig[:10], 1),
		"too long":            good + strings.Repeat(" ", authz.MaxHeaderLen),
		"no credential":       "AWS4-HMAC-SHA256",
	} {
		t.Run(name, func(t *testing.T) {
			req := signed(t, nil)
			req.Header.Set("Authorization", value)
			expectOutcome(t, testVerifier(testTime), req, "AuthorizationHeaderMalformed")
		})
	}
	t.Run("SigV2", func(t *testing.T) {
		req := signed(t, nil)
		req.Header.Set("Authorization", "AWS AKIDTEST:c2lnbmF0dXJl")
		expectOutcome(t, testVerifier(testTime), req, "InvalidRequest")
	})
	t.Run("unsigned request", func(t *testing.T) {
		req := onTheWire(t, newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", ""))
		expectOutcome(t, testVerifier(testTime), req, "AccessDenied")
	})
	t.Run("date not signed", func(t *testing.T) {
		req := signed(t, nil)
		req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), ";x-amz-date", "", 1))
		expectOutcome(t, testVerifier(testTime), req, "AccessDenied")
	})
	t.Run("bad x-amz-date", func(t *testing.T) {
		req := signed(t, nil)
		req.Header.Set("X-Amz-Date", "2026-11-24T12:00:00Z")
		expectOutcome(t, testVerifier(testTime), req, "AccessDenied")
	})
}

func TestPresignedQueryMalformed(t *testing.T) {
	for name, edit := range map[string]func(string) string{
		"missing signed headers": func(q string) string { return removeParam(q, "X-Amz-SignedHeaders") },
		"missing date":           func(q string) string { return removeParam(q, "X-Amz-Date") },
		"repeated signature":     func(q string) string { return q + "&X-Amz-Signature=" + queryParam("?"+q, "X-Amz-Signature") },
		"bad date": func(q string) string {
			return strings.Replace(q, "X-Amz-Date=20261124T120000Z", "X-Amz-Date=20261124", 1)
		},
		"bad escape": func(q string) string {
			return strings.Replace(q, "X-Amz-Credential=AKIDTEST", "X-Amz-Credential=%zzAKIDTEST", 1)
		},
		"too long": func(q string) string { return q + "&pad=" + strings.Repeat("a", authz.MaxQueryLen) },
	} {
		t.Run(name, func(t *testing.T) {
			req := presigned(t, time.Hour)
			req.URL.RawQuery = edit(req.URL.RawQuery)
			req.RequestURI = req.URL.RequestURI()
			expectOutcome(t, testVerifier(testTime), req, "AuthorizationQueryParametersError")
		})
	}
}

func removeParam(q, name string) string {
	var kept []string
	for _, f := range strings.Split(q, "&") {
		if !strings.HasPrefix(f, name+"=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, "&")
}

func TestUnsignedAmzHeaders(t *testing.T) {
	req := signed(t, nil)
	req.Header.Set("X-Amz-Meta-Color", "red")
	expectOutcome(t, testVerifier(testTime), req, "AccessDenied")

	// Signed, the same header is accepted.
	expectOutcome(t, testVerifier(testTime), signed(t, func(r *http.Request) { r.Header.Set("X-Amz-Meta-Color", "red") }), "")

	// Presigned URLs follow the same rule.
	req = presigned(t, time.Hour)
	req.Header.Set("X-Amz-Meta-Color", "red")
	expectOutcome(t, testVerifier(testTime), req, "AccessDenied")
}

func TestSessionTokens(t *testing.T) {
	temp := sigv4.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "token-1"}
	sign := func(c sigv4.Credentials) *http.Request {
		s := &sigv4.Signer{Credentials: c, Region: "us-east-1", Service: "s3", Now: func() time.Time { return testTime }}
		req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
		if err := s.Sign(req); err != nil {
			t.Fatal(err)
		}
		return onTheWire(t, req)
	}
	expectOutcome(t, testVerifier(testTime, temp), sign(temp), "")

	noToken := temp
	noToken.SessionToken = ""
	expectOutcome(t, testVerifier(testTime, temp), sign(noToken), "InvalidToken")

	wrongToken := temp
	wrongToken.SessionToken = "token-2"
	expectOutcome(t, testVerifier(testTime, temp), sign(wrongToken), "InvalidToken")

	// A token sent with a long-term key is refused.
	expectOutcome(t, testVerifier(testTime, noToken), sign(temp), "InvalidToken")

	// Expired temporary credentials.
	ring := sigv4.NewKeyring()
	ring.Add(temp, sigv4.Identity{Expiration: testTime.Add(-time.Minute)})
	v := testVerifier(testTime)
	v.Keys = ring
	expectOutcome(t, v, sign(temp), "ExpiredToken")
	ring.Add(temp, sigv4.Identity{Expiration: testTime.Add(time.Minute)})
	expectOutcome(t, v, sign(temp), "")
}

func TestPayloadHash(t *testing.T) {
	put := func(body string, edit func(*http.Request)) *http.Request {
		req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key", body)
		if edit != nil {
			edit(req)
		}
		if err := testSigner("s3").Sign(req); err != nil {
			t.Fatal(err)
		}
		return req
	}
	t.Run("hex hash", func(t *testing.T) {
		expectOutcome(t, testVerifier(testTime), onTheWire(t, put("hello", nil)), "body:")
	})
	t.Run("hex hash, body changed in flight", func(t *testing.T) {
		req := put("hello", nil)
		req.Body = io.NopCloser(strings.NewReader("jello"))
		expectOutcome(t, testVerifier(testTime), onTheWire(t, req), "body:XAmzContentSHA256Mismatch")
	})
	t.Run("body cut short", func(t *testing.T) {
		req := onTheWire(t, put("hello", nil))
		req.Body = io.NopCloser(io.MultiReader(strings.NewReader("hel"), errReader{io.ErrUnexpectedEOF}))
		expectOutcome(t, testVerifier(testTime), req, "body:IncompleteBody")
	})
	t.Run("unsigned payload", func(t *testing.T) {
		req := put("hello", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload) })
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader("anything")), 8
		expectOutcome(t, testVerifier(testTime), onTheWire(t, req), "body:")
	})
	t.Run("not a hash", func(t *testing.T) {
		req := put("hello", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "abc") })
		expectOutcome(t, testVerifier(testTime), onTheWire(t, req), "InvalidArgument")
	})
	for _, tc := range []struct{ name, payload, length, trailer, want string }{
		{"streaming without its decoded length", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", "", "MissingContentLength"},
		{"streaming with a negative decoded length", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "-1", "", "MissingContentLength"},
		{"streaming with an unknown trailer", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "5", "x-amz-meta-a", "InvalidRequest"},
		{"streaming with a trailer its mode has no room for", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "5", "x-amz-checksum-crc32", "InvalidRequest"},
		{"streaming in an unknown mode", "STREAMING-AWS4-HMAC-SHA512-PAYLOAD", "5", "", "InvalidArgument"},
		{"streaming SigV4a chunks under a SigV4 signature", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "5", "", "InvalidRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := put("hello", func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", tc.payload)
				if tc.length != "" {
					r.Header.Set("X-Amz-Decoded-Content-Length", tc.length)
				}
				if tc.trailer != "" {
					r.Header.Set("X-Amz-Trailer", tc.trailer)
				}
			})
			expectOutcome(t, testVerifier(testTime), onTheWire(t, req), tc.want)
		})
	}
}

func TestUndeclaredPayload(t *testing.T) {
	// A service other than S3 signs the body's hash without sending it.
	post := func(body string) *http.Request {
		req := newRequest(t, "POST", "https://api.example.com/prod/items", body)
		req.Header.Set("Content-Type", "application/json")
		if err := testSigner("execute-api").Sign(req); err != nil {
			t.Fatal(err)
		}
		return req
	}
	expectOutcome(t, testVerifier(testTime), onTheWire(t, post(`{"a":1}`)), "body:")

	req := post(`{"a":1}`)
	req.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
	expectOutcome(t, testVerifier(testTime), onTheWire(t, req), "SignatureDoesNotMatch")

	v := testVerifier(testTime)
	v.MaxBodyBuffer = 4
	expectOutcome(t, v, onTheWire(t, post(`{"a":1}`)), "MaxMessageLengthExceeded")
}

func TestSignatureDoesNotMatchDetails(t *testing.T) {
	req := signed(t, nil)
	req.Method = "DELETE"
	_, err := testVerifier(testTime).Verify(req)
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" || e.Status != 403 {
		t.Fatalf("Verify: %v", err)
	}
	if !strings.HasPrefix(e.CanonicalRequest, "DELETE\n/key%20one\nlist-type=2&prefix=a\n") {
		t.Errorf("CanonicalRequest = %q", e.CanonicalRequest)
	}
	if !strings.HasPrefix(e.StringToSign, "AWS4-HMAC-SHA256\n20261124T120000Z\n20261124/us-east-1/s3/aws4_request\n") {
		t.Errorf("StringToSign = %q", e.StringToSign)
	}
	if e.AccessKeyID != "AKIDTEST" || e.SignatureProvided == "" {
		t.Errorf("AccessKeyID = %q, SignatureProvided = %q", e.AccessKeyID, e.SignatureProvided)
	}
}

// countingKeys counts lookups and records the scopes asked for.
type countingKeys struct {
	sigv4.KeySource
	n atomic.Int64
}

func (k *countingKeys) SigningKey(ctx context.Context, id string, s sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	k.n.Add(1)
	return k.KeySource.SigningKey(ctx, id, s)
}

func TestUnknownAccessKey(t *testing.T) {
	other := sigv4.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "x"}
	keys := &countingKeys{KeySource: sigv4.NewKeyring(testCreds)}
	v := testVerifier(testTime)
	v.Keys = keys
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
	if err := (&sigv4.Signer{Credentials: other, Region: "us-east-1", Service: "s3", Now: func() time.Time { return testTime }}).Sign(req); err != nil {
		t.Fatal(err)
	}
	expectOutcome(t, v, onTheWire(t, req), "InvalidAccessKeyId")
	if keys.n.Load() != 1 {
		t.Errorf("KeySource asked %d times, want 1", keys.n.Load())
	}
}

type failingKeys struct{}

func (failingKeys) SigningKey(context.Context, string, sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return sigv4.SigningKey{}, sigv4.Identity{}, io.ErrClosedPipe
}

func TestKeySourceFailure(t *testing.T) {
	v := testVerifier(testTime)
	v.Keys = failingKeys{}
	_, err := v.Verify(signed(t, nil))
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "InternalError" || e.Status != 500 || strings.Contains(e.Message, "pipe") {
		t.Fatalf("Verify: %#v; want InternalError that hides its cause from the message", err)
	}
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Error("the cause is not wrapped")
	}
}

func TestVerifyDoesNotModifyRequest(t *testing.T) {
	req := signed(t, func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "1") })
	before := req.Clone(context.Background())
	if _, err := testVerifier(testTime).Verify(req); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before.Header, req.Header) || before.URL.String() != req.URL.String() ||
		before.Host != req.Host || before.Method != req.Method {
		t.Error("Verify modified the request")
	}
}

func TestCanonicalRequestBound(t *testing.T) {
	big := func(r *http.Request, size int) {
		for i := range 8 {
			r.Header.Set("X-Amz-Meta-Big"+itoa(i), strings.Repeat("v", size))
		}
	}
	// The signer refuses what no verifier would accept...
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
	big(req, sigv4.MaxCanonicalRequest/8)
	if err := testSigner("s3").Sign(req); err == nil {
		t.Error("Sign accepted a canonical request over MaxCanonicalRequest")
	}
	// ...and the verifier rejects a request grown on the way.
	grown := signed(t, func(r *http.Request) { big(r, 100) })
	big(grown, sigv4.MaxCanonicalRequest/8)
	expectOutcome(t, testVerifier(testTime), grown, "RequestHeaderSectionTooLarge")
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestVerifyClientSpellings: a request built in memory may hold one header
// under two spellings. Verify, called on it directly, must join the values
// in the order net/http would send them, whatever order map iteration
// gives; the same request with the values swapped is rejected.
func TestVerifyClientSpellings(t *testing.T) {
	v := testVerifier(testTime)
	for i := range 40 {
		req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
		req.Header["X-Amz-Meta-A"] = []string{"upper"}
		req.Header["X-AMZ-META-A"] = []string{"shout"}
		if err := testSigner("s3").Sign(req); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(req); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		req.Header["X-Amz-Meta-A"], req.Header["X-AMZ-META-A"] = req.Header["X-AMZ-META-A"], req.Header["X-Amz-Meta-A"]
		if _, err := v.Verify(req); !errors.Is(err, sigv4.ErrSignatureDoesNotMatch) {
			t.Fatalf("run %d: values swapped between spellings: got %v, want SignatureDoesNotMatch", i, err)
		}
	}
}

// querySignedNoExpires signs a GET in its query without X-Amz-Expires, as
// aws4 and the query APIs outside S3 do, with a signer written out here.
func querySignedNoExpires(t *testing.T, service, secret string, at time.Time) *http.Request {
	t.Helper()
	const host, path = "api.example.com", "/prod/items"
	amzDate := at.UTC().Format("20060102T150405Z")
	scope := sigv4.Scope{Date: amzDate[:8], Region: "us-east-1", Service: service}
	query := "X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=" + testCreds.AccessKeyID + "%2F" + scope.Date + "%2Fus-east-1%2F" + service + "%2Faws4_request" +
		"&X-Amz-Date=" + amzDate + "&X-Amz-SignedHeaders=host"
	payload := sigv4.EmptySHA256
	if service == "s3" {
		payload = sigv4.UnsignedPayload
	}
	creq := "GET\n" + path + "\n" + query + "\nhost:" + host + "\n\nhost\n" + payload
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope.Date + "/us-east-1/" + service + "/aws4_request\n" + hex.EncodeToString(sum[:])
	key := sigv4.DeriveSigningKey(secret, scope)
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(sts))
	return onTheWire(t, newRequest(t, "GET", "https://"+host+path+"?"+query+"&X-Amz-Signature="+hex.EncodeToString(mac.Sum(nil)), ""))
}

// TestPresignedWithoutExpires: outside S3 a query signature may leave out
// X-Amz-Expires (the query APIs' common parameters do not list it); it is
// then good while its date is within the clock skew, as a signed header
// would be. Amazon S3 requires it.
func TestPresignedWithoutExpires(t *testing.T) {
	for _, tc := range []struct {
		name    string
		service string
		secret  string
		offset  time.Duration // of the verifier's clock
		edit    func(*http.Request)
		code    string
	}{
		{"fresh", "execute-api", testCreds.SecretAccessKey, 0, nil, ""},
		{"within the skew", "execute-api", testCreds.SecretAccessKey, 14 * time.Minute, nil, ""},
		{"signed in the future within the skew", "execute-api", testCreds.SecretAccessKey, -14 * time.Minute, nil, ""},
		{"stale", "execute-api", testCreds.SecretAccessKey, 16 * time.Minute, nil, "RequestTimeTooSkewed"},
		{"from the future", "execute-api", testCreds.SecretAccessKey, -16 * time.Minute, nil, "RequestTimeTooSkewed"},
		{"other secret", "execute-api", "another secret", 0, nil, "SignatureDoesNotMatch"},
		{"expiry added after signing", "execute-api", testCreds.SecretAccessKey, 0, func(r *http.Request) {
			r.URL.RawQuery += "&X-Amz-Expires=3600"
			r.RequestURI = r.URL.RequestURI()
		}, "SignatureDoesNotMatch"},
		{"empty expiry added", "execute-api", testCreds.SecretAccessKey, 0, func(r *http.Request) {
			r.URL.RawQuery += "&X-Amz-Expires="
			r.RequestURI = r.URL.RequestURI()
		}, "AuthorizationQueryParametersError"},
		{"S3 requires it", "s3", testCreds.SecretAccessKey, 0, nil, "AuthorizationQueryParametersError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := querySignedNoExpires(t, tc.service, tc.secret, testTime)
			if tc.edit != nil {
				tc.edit(req)
			}
			expectOutcome(t, testVerifier(testTime.Add(tc.offset)), req, tc.code)
		})
	}
}

// TestUnsignedContentSHA256 covers the one x-amz-* header that may go
// unsigned outside Amazon S3, as aws-requests-auth sends it: its value is
// the canonical request's last line, which the signature covers anyway.
func TestUnsignedContentSHA256(t *testing.T) {
	const body = `{"query":{"match_all":{}}}`
	sum := sha256.Sum256([]byte(body))
	post := func(t *testing.T, header string) *http.Request {
		req := newRequest(t, "POST", "https://api.example.com/prod/_search", body)
		if err := testSigner("execute-api").Sign(req); err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", header) // after signing
		return onTheWire(t, req)
	}
	t.Run("the body's hash", func(t *testing.T) {
		expectOutcome(t, testVerifier(testTime), post(t, hex.EncodeToString(sum[:])), "")
	})
	t.Run("another hash", func(t *testing.T) {
		other := sha256.Sum256([]byte("other"))
		expectOutcome(t, testVerifier(testTime), post(t, hex.EncodeToString(other[:])), "SignatureDoesNotMatch")
	})
	t.Run("UNSIGNED-PAYLOAD", func(t *testing.T) {
		expectOutcome(t, testVerifier(testTime), post(t, sigv4.UnsignedPayload), "SignatureDoesNotMatch")
	})
	t.Run("S3 wants it signed", func(t *testing.T) {
		req := signed(t, nil)
		auth := req.Header.Get("Authorization")
		req.Header.Set("Authorization", strings.Replace(auth, ";x-amz-content-sha256", "", 1))
		if req.Header.Get("Authorization") == auth {
			t.Fatal("x-amz-content-sha256 was not among the signed headers")
		}
		expectOutcome(t, testVerifier(testTime), req, "AccessDenied")
	})
}

// unavailableKeys is a KeySource whose keys cannot be reached just now.
type unavailableKeys struct{}

func (unavailableKeys) SigningKey(context.Context, string, sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return sigv4.SigningKey{}, sigv4.Identity{}, fmt.Errorf("key authority unreachable: %w", sigv4.ErrServiceUnavailable)
}

// TestKeySourceAWSError: a KeySource's *Error (ServiceUnavailable) is the
// client's answer, never taken for an unknown key; any other failure is
// InternalError.
func TestKeySourceAWSError(t *testing.T) {
	v := testVerifier(testTime)
	v.Keys = unavailableKeys{}
	_, err := v.Verify(signed(t, nil))
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "ServiceUnavailable" || e.Status != 503 || e.Message == "" {
		t.Errorf("Verify: %v", err)
	}
}

// TestResultNamesWhatWasSigned: CanonicalRequestHash is the SHA-256 of the
// canonical request the signer built, and Expires the end of the
// signature's acceptance.
func TestResultNamesWhatWasSigned(t *testing.T) {
	var creq string
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
	s := testSigner("s3")
	s.Debug = func(c, _ string) { creq = c }
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	res, err := testVerifier(testTime).Verify(onTheWire(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if res.CanonicalRequestHash != sha256.Sum256([]byte(creq)) || !res.Expires.Equal(testTime.Add(15*time.Minute)) {
		t.Errorf("hash %x, expires %v", res.CanonicalRequestHash, res.Expires)
	}
	res, err = testVerifier(testTime).Verify(presigned(t, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Expires.Equal(testTime.Add(time.Hour)) {
		t.Errorf("presigned: expires %v", res.Expires)
	}
}
