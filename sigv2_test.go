package sigv4_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/sigv2"
)

var testDomains = []string{"s3.amazonaws.com"}

func sigV2Verifier(now time.Time, creds ...sigv4.Credentials) *sigv4.Verifier {
	v := testVerifier(now, creds...)
	v.SigV2, v.VirtualHostDomains = true, testDomains
	return v
}

// signV2 signs req (as a client builds it) with SigV2 in its Authorization
// header, as S3 defines it, and returns it as the server receives it.
func signV2(t testing.TB, req *http.Request, creds sigv4.Credentials) *http.Request {
	t.Helper()
	if req.Header.Get("Date") == "" && req.Header.Get("X-Amz-Date") == "" {
		req.Header.Set("Date", testTime.Format(http.TimeFormat))
	}
	sts := stringToSignV2(req, "")
	req.Header.Set("Authorization", "AWS "+creds.AccessKeyID+":"+base64.StdEncoding.EncodeToString(sigv4.SigV2MAC(creds.SecretAccessKey, sts)))
	return onTheWire(t, req)
}

// presignV2 adds the SigV2 query parameters of a URL good until expires.
func presignV2(t testing.TB, req *http.Request, creds sigv4.Credentials, expires time.Time) *http.Request {
	t.Helper()
	exp := itoa(int(expires.Unix()))
	sig := base64.StdEncoding.EncodeToString(sigv4.SigV2MAC(creds.SecretAccessKey, stringToSignV2(req, exp)))
	q := "AWSAccessKeyId=" + creds.AccessKeyID + "&Expires=" + exp + "&Signature=" + url.QueryEscape(sig)
	if req.URL.RawQuery != "" {
		q = req.URL.RawQuery + "&" + q
	}
	req.URL.RawQuery = q
	return onTheWire(t, req)
}

func stringToSignV2(req *http.Request, expires string) []byte {
	return sigv2.AppendStringToSign(nil, &sigv2.Request{Method: req.Method, Path: req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery, Header: req.Header, Expires: expires,
		Bucket: sigv2.BucketOfHost(req.URL.Host, testDomains)})
}

type sigV2Examples struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	Examples []struct {
		Name, Method, Host, Target, Expires string
		CNAME                               bool `json:"cname"`
		Headers                             [][2]string
		Signature                           string
		Erratum                             string
		RuleStringToSign                    string `json:"rule_string_to_sign"`
	}
}

// TestSigV2S3Examples verifies the SigV2 examples of the S3 documentation
// as a server receives them, then tampers with each part the signature
// covers: each is refused. What SigV2 does not cover (the query but for
// sub-resources, the host of a path-style request) is shown unsigned.
func TestSigV2S3Examples(t *testing.T) {
	data, err := os.ReadFile("testdata/s3-sigv2-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex sigV2Examples
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	creds := sigv4.Credentials{AccessKeyID: ex.Credentials.AccessKeyID, SecretAccessKey: ex.Credentials.SecretAccessKey}
	for _, e := range ex.Examples {
		t.Run(e.Name, func(t *testing.T) {
			if e.CNAME {
				t.Skip("a CNAME-addressed bucket (the whole host) is not one the Verifier can tell from a path-style host; the string to sign is checked in internal/sigv2")
			}
			raw := func(edit func(target *string, h *[][2]string)) *http.Request {
				target, h := e.Target, append([][2]string(nil), e.Headers...)
				if edit != nil {
					edit(&target, &h)
				}
				var b strings.Builder
				b.WriteString(e.Method + " " + target + " HTTP/1.1\r\nHost: " + e.Host + "\r\n")
				for _, kv := range h {
					b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
				}
				if e.Expires == "" {
					b.WriteString("Authorization: AWS " + creds.AccessKeyID + ":" + e.Signature + "\r\n")
				}
				req, err := http.ReadRequest(bufioReader(b.String() + "\r\n"))
				if err != nil {
					t.Fatal(err)
				}
				return req
			}
			when := exampleTime(t, e.Expires, e.Headers)
			v := sigV2Verifier(when, creds)
			if e.Erratum != "" {
				_, err := v.Verify(raw(nil))
				var se *sigv4.Error
				if errCode(err) != "SignatureDoesNotMatch" || !asError(err, &se) || se.StringToSign != e.RuleStringToSign {
					t.Fatalf("the erratum's published signature: %v, want SignatureDoesNotMatch over the rule's string", err)
				}
				return
			}
			res, err := v.Verify(raw(nil))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Algorithm != "AWS" || res.Identity.AccessKeyID != creds.AccessKeyID || res.Scope.Service != "s3" || res.Presigned != (e.Expires != "") {
				t.Errorf("result %+v", res)
			}
			refused := map[string]func(*string, *[][2]string){
				"method": nil,
				"path":   func(tg *string, _ *[][2]string) { *tg = setPath(*tg, pathOf(*tg)+"x") },
				"sub-resource added": func(tg *string, _ *[][2]string) {
					*tg = addQuery(*tg, "versionId=1")
				},
				"x-amz-* header added": func(_ *string, h *[][2]string) { *h = append(*h, [2]string{"X-Amz-Meta-New", "1"}) },
			}
			for i, kv := range e.Headers {
				name := strings.ToLower(kv[0])
				if name == "content-type" || name == "content-md5" || name == "date" || strings.HasPrefix(name, "x-amz-") {
					refused[kv[0]+" changed"] = func(_ *string, h *[][2]string) { (*h)[i][1] += "0" }
				}
			}
			for name, edit := range refused {
				req := raw(edit)
				if name == "method" {
					req.Method = map[string]string{"GET": "HEAD", "PUT": "POST", "DELETE": "GET"}[e.Method]
				}
				code := "SignatureDoesNotMatch"
				if e.Expires == "" && strings.HasPrefix(name, "Date") {
					code = "AccessDenied" // "...0" is no longer a date
				}
				if _, err := v.Verify(req); errCode(err) != code {
					t.Errorf("%s: %v, want %s", name, err, code)
				}
			}
			if _, err := sigV2Verifier(when, sigv4.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "other"}).Verify(raw(nil)); errCode(err) != "SignatureDoesNotMatch" {
				t.Errorf("another secret: %v", err)
			}
			if _, err := sigV2Verifier(when, testCreds).Verify(raw(nil)); errCode(err) != "InvalidAccessKeyId" {
				t.Errorf("unknown access key: %v", err)
			}
			if _, err := v.Verify(raw(func(tg *string, _ *[][2]string) { *tg = addQuery(*tg, "marker=zzz") })); err != nil {
				t.Errorf("a parameter that is no sub-resource is not signed, as in S3: %v", err)
			}
			late := sigV2Verifier(when.Add(16*time.Minute), creds)
			code := "RequestTimeTooSkewed"
			if e.Expires != "" {
				code, late = "AccessDenied", sigV2Verifier(when.Add(time.Hour), creds)
			}
			if _, err := late.Verify(raw(nil)); errCode(err) != code {
				t.Errorf("late: %v, want %s", err, code)
			}
		})
	}
}

func asError(err error, e **sigv4.Error) bool {
	se, ok := err.(*sigv4.Error)
	*e = se
	return ok
}

// exampleTime is a clock at which an example is fresh: its Date, or a
// minute before its Expires.
func exampleTime(t *testing.T, expires string, headers [][2]string) time.Time {
	t.Helper()
	if expires != "" {
		secs, _ := time.ParseDuration(expires + "s")
		return time.Unix(0, 0).Add(secs - time.Minute)
	}
	for _, kv := range headers {
		if strings.EqualFold(kv[0], "date") {
			when, err := time.Parse("Mon, 2 Jan 2006 15:04:05 -0700", kv[1])
			if err != nil {
				t.Fatal(err)
			}
			return when
		}
	}
	t.Fatal("no date")
	return time.Time{}
}

// TestSigV2Refused: off, on a verifier that is not for S3, and on a key
// source without secrets, a SigV2 request is refused saying what it is.
func TestSigV2Refused(t *testing.T) {
	header := func() *http.Request {
		return signV2(t, newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", ""), testCreds)
	}
	url := func() *http.Request {
		return presignV2(t, newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", ""), testCreds, testTime.Add(time.Hour))
	}
	off := testVerifier(testTime)
	notS3 := sigV2Verifier(testTime)
	notS3.Services = []string{"execute-api"}
	scoped := sigV2Verifier(testTime)
	scoped.Keys = scopedOnly{scoped.Keys}
	for name, c := range map[string]struct {
		v    *sigv4.Verifier
		want string
	}{
		"off":            {off, "sigv4 serve --sigv2"},
		"not S3":         {notS3, "Amazon S3 only"},
		"no secret here": {scoped, "only derived keys"},
	} {
		for form, req := range map[string]func() *http.Request{"Authorization header": header, "presigned URL": url} {
			_, err := c.v.Verify(req())
			if errCode(err) != "InvalidRequest" || !strings.Contains(err.Error(), "Signature Version 2 "+form) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: %v", name, form, err)
			}
		}
	}
	if _, err := sigV2Verifier(testTime).Verify(header()); err != nil {
		t.Errorf("on: %v", err)
	}
	if _, err := sigV2Verifier(testTime).Verify(url()); err != nil {
		t.Errorf("on, presigned: %v", err)
	}
}

// scopedOnly is a KeySource that gives derived keys only, as a key
// authority's client does.
type scopedOnly struct{ keys sigv4.KeySource }

func (s scopedOnly) SigningKey(ctx context.Context, id string, scope sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return s.keys.SigningKey(ctx, id, scope)
}

func TestSigV2Malformed(t *testing.T) {
	v := sigV2Verifier(testTime)
	good := signV2(t, newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", ""), testCreds)
	for name, c := range map[string]struct {
		edit func(*http.Request)
		code string
	}{
		"no colon":           {func(r *http.Request) { r.Header.Set("Authorization", "AWS AKIDTEST") }, "InvalidArgument"},
		"no access key":      {func(r *http.Request) { r.Header.Set("Authorization", "AWS :c2ln") }, "InvalidArgument"},
		"bad base64":         {func(r *http.Request) { r.Header.Set("Authorization", "AWS AKIDTEST:!!!!") }, "SignatureDoesNotMatch"},
		"no date":            {func(r *http.Request) { r.Header.Del("Date") }, "AccessDenied"},
		"two dates":          {func(r *http.Request) { r.Header.Add("Date", r.Header.Get("Date")) }, "InvalidArgument"},
		"x_amz_ header":      {func(r *http.Request) { r.Header["X_amz_meta_a"] = []string{"1"} }, "AccessDenied"},
		"also a SigV2 query": {func(r *http.Request) { r.URL.RawQuery = "AWSAccessKeyId=AKIDTEST&Signature=x&Expires=1" }, "InvalidArgument"},
		"streaming": {func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}, "InvalidRequest"},
	} {
		req := good.Clone(context.Background())
		c.edit(req)
		if _, err := v.Verify(req); errCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	for name, q := range map[string]string{
		"no expires":    "AWSAccessKeyId=AKIDTEST&Signature=c2ln",
		"bad expires":   "AWSAccessKeyId=AKIDTEST&Signature=c2ln&Expires=soon",
		"signed twice":  "AWSAccessKeyId=AKIDTEST&Signature=c2ln&Signature=c2ln&Expires=1",
		"and SigV4 too": "AWSAccessKeyId=AKIDTEST&Signature=c2ln&Expires=1&X-Amz-Signature=00",
	} {
		req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key?"+q, "")
		code := "AccessDenied"
		if name == "and SigV4 too" {
			code = "InvalidArgument"
		}
		if _, err := v.Verify(onTheWire(t, req)); errCode(err) != code {
			t.Errorf("%s: %v, want %s", name, err, code)
		}
	}
}

// TestSigV2Token: a temporary key's requests carry its token, signed as
// an x-amz-* header (or query parameter, presigned).
func TestSigV2Token(t *testing.T) {
	tmp := sigv4.Credentials{AccessKeyID: "ASIATEST", SecretAccessKey: "tmp-secret", SessionToken: "the-token"}
	v := sigV2Verifier(testTime, tmp)
	withToken := func(token string) *http.Request {
		req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key", "")
		if token != "" {
			req.Header.Set("X-Amz-Security-Token", token)
		}
		return signV2(t, req, tmp)
	}
	expectOutcome(t, v, withToken("the-token"), "")
	expectOutcome(t, v, withToken(""), "InvalidToken")
	expectOutcome(t, v, withToken("another"), "InvalidToken")
	req := newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key?x-amz-security-token=the-token", "")
	expectOutcome(t, v, presignV2(t, req, tmp, testTime.Add(time.Minute)), "")
	req = newRequest(t, "GET", "https://bucket.s3.amazonaws.com/key?x-amz-security-token=other", "")
	expectOutcome(t, v, presignV2(t, req, tmp, testTime.Add(time.Minute)), "InvalidToken")
}

// TestSigV2Body: SigV2 signs Content-MD5, not the body; the body is
// checked against it (and against a signed x-amz-content-sha256) as it
// is read.
func TestSigV2Body(t *testing.T) {
	v := sigV2Verifier(testTime)
	put := func(body, md5sum, sha string) *http.Request {
		req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key", body)
		if md5sum != "" {
			req.Header.Set("Content-Md5", md5sum)
		}
		if sha != "" {
			req.Header.Set("X-Amz-Content-Sha256", sha)
		}
		return signV2(t, req, testCreds)
	}
	sum := md5.Sum([]byte("hello"))
	good := base64.StdEncoding.EncodeToString(sum[:])
	expectOutcome(t, v, put("hello", good, ""), "")
	expectOutcome(t, v, put("hellO", good, ""), "body:BadDigest")
	expectOutcome(t, v, put("hello", "", sigv4.UnsignedPayload), "")
	expectOutcome(t, v, put("hello", "", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"), "")
	expectOutcome(t, v, put("hellO", "", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"), "body:XAmzContentSHA256Mismatch")
	res, err := v.Verify(put("hello", good, ""))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "hello" || res.PayloadHash != sigv4.UnsignedPayload || res.ContentLength != 5 {
		t.Errorf("body %q, %+v", b, res)
	}
}

// TestSigV2VirtualHost: the bucket of a virtual-hosted request is signed;
// another bucket's host, or the same request read as path-style, is not
// the one that was signed.
func TestSigV2VirtualHost(t *testing.T) {
	v := sigV2Verifier(testTime)
	req := signV2(t, newRequest(t, "GET", "https://photos.s3.amazonaws.com/cat.jpg?acl", ""), testCreds)
	expectOutcome(t, v, req, "")
	other := req.Clone(context.Background())
	other.Host = "videos.s3.amazonaws.com"
	expectOutcome(t, v, other, "SignatureDoesNotMatch")
	pathStyle := sigV2Verifier(testTime)
	pathStyle.VirtualHostDomains = nil
	expectOutcome(t, pathStyle, req, "SignatureDoesNotMatch")
	// Path-style: the same signature is good at any host, as in S3.
	req = signV2(t, newRequest(t, "GET", "https://s3.amazonaws.com/photos/cat.jpg", ""), testCreds)
	expectOutcome(t, v, req, "")
	req.Host = "s3.example.net"
	expectOutcome(t, v, req, "")
}
