package interop

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	smithycreds "github.com/aws/smithy-go/aws-http-auth/credentials"
	smithyv4 "github.com/aws/smithy-go/aws-http-auth/sigv4"
	smithyauth "github.com/aws/smithy-go/aws-http-auth/v4"

	"github.com/sigv4/sigv4"
)

// serviceName is the service, other than S3, that independent signers sign
// for in testServiceSigner: its paths are normalized and encoded twice.
const serviceName = "execute-api"

// serviceOps are the requests every such signer's script sends first, in
// order: a query to sort (repeated and empty parameters), a path with
// escapes, a query with escapes, and a JSON POST with a hashed body and
// white space in a header value. Scripts may add cases of their own.
var serviceOps = []string{"GetSortedQuery", "GetEscapedPath", "GetEscapedQuery", "PostJSON"}

// testServiceSigner runs a signer's script (command, then the endpoint and
// the service as its last two arguments) against a Verifier of
// serviceName, once per verdict, and checks that it reported ops, every
// request accepted with the right secret, SignatureDoesNotMatch with
// another.
func testServiceSigner(t *testing.T, ops []string, command ...string) {
	for _, v := range verdicts {
		t.Run(v.name, func(t *testing.T) {
			srv := newServiceServer(t, v)
			args := append(append([]string{}, command[1:]...), srv.URL, serviceName)
			got := runScript(t, clientEnv(t, v.secret), command[0], args...)
			if len(got) != len(ops) {
				t.Fatalf("client reported %d requests %+v, want %v", len(got), got, ops)
			}
			wantCode := v.code
			if wantCode == "OK" {
				wantCode = ""
			}
			for i, r := range got {
				if r.Op != ops[i] || r.Status != v.status || r.Code != wantCode {
					t.Errorf("%s: %d %q, want %s: %d %q", r.Op, r.Status, r.Code, ops[i], v.status, wantCode)
				}
			}
		})
	}
}

// TestRequestsAuth signs with aws-requests-auth, which sends
// x-amz-content-sha256 unsigned: accepted outside S3, where its value is
// covered anyway as the canonical request's last line.
func TestRequestsAuth(t *testing.T) {
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import aws_requests_auth, requests").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		missingClient(t, "no python3 can import aws_requests_auth; install it with: apt-get install -y python3-aws-requests-auth")
	}
	testServiceSigner(t, serviceOps, python, filepath.Join("testdata", "requests_auth.py"))
}

// newServiceServer answers 200 to a request that verifies for serviceName
// (body included), and otherwise the error's code as text with its status.
// An unexpected rejection logs the verifier's canonical request.
func newServiceServer(t *testing.T, v verdict) *httptest.Server {
	verifier := &sigv4.Verifier{
		Keys:     sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions:  []string{region},
		Services: []string{serviceName},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := verifier.Verify(r)
		if err == nil {
			_, err = io.ReadAll(res.Body) // a hashed body is checked at its end
		}
		var e *sigv4.Error
		switch {
		case errors.As(err, &e):
			if v.code == "OK" {
				t.Logf("%s %s: %s\ncanonical request:\n%s", r.Method, r.URL, e.Code, e.CanonicalRequest)
			}
			http.Error(w, e.Code, e.Status)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case res.Identity.AccessKeyID != accessKey:
			http.Error(w, "wrong identity "+res.Identity.AccessKeyID, http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAWS4Node signs requests for a service other than S3 with aws4, the
// npm package many Node programs sign with (an implementation of its own,
// pinned in node/package-lock.json), including a path with dot segments
// and a repeated slash, which aws4 normalizes as AWS does outside S3 (see
// testServiceSigner).
func TestAWS4Node(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "aws4", "package.json")); err != nil {
		missingClient(t, "aws4 is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund (from the repository root)")
	}
	testServiceSigner(t, append(serviceOps, "GetDotSegments", "PresignedGet"), "node", filepath.Join(nodeDir, "aws4_service.js"))
}

// TestJSSDKServiceSigner signs requests for a service other than S3 with
// the JS SDK v3's SignatureV4, configured as its clients configure it for
// every service but S3 (see testServiceSigner).
func TestJSSDKServiceSigner(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@smithy", "signature-v4", "package.json")); err != nil {
		missingClient(t, "@smithy/signature-v4 is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund (from the repository root)")
	}
	testServiceSigner(t, append(serviceOps, "GetDotSegments", "PresignedGet"), "node", filepath.Join(nodeDir, "jssdk_service.js"))
}

// TestBotocoreServiceSigner signs requests for a service other than S3
// with botocore's SigV4Auth and SigV4QueryAuth, the signers of boto3 and
// the AWS CLI (see testServiceSigner).
func TestBotocoreServiceSigner(t *testing.T) {
	requireBoto3(t)
	testServiceSigner(t, append(serviceOps, "PresignedGet"), "python3", filepath.Join("testdata", "botocore_service.py"))
}

// goServiceSigner is a Go signer under test: sign signs req in place,
// in its Authorization header or, with presign, in its query.
type goServiceSigner struct {
	name string
	sign func(req *http.Request, body string, creds aws.Credentials, presign bool) error
}

var goServiceSigners = []goServiceSigner{
	{"aws-sdk-go-v2", func(req *http.Request, body string, creds aws.Credentials, presign bool) error {
		signer, hash := awsv4.NewSigner(), sha256Hex([]byte(body))
		if !presign {
			return signer.SignHTTP(context.Background(), creds, req, hash, serviceName, region, time.Now())
		}
		url, signed, err := signer.PresignHTTP(context.Background(), creds, req, hash, serviceName, region, time.Now())
		if err == nil {
			err = setURL(req, url, signed)
		}
		return err
	}},
	{"smithy-go aws-http-auth", func(req *http.Request, body string, creds aws.Credentials, presign bool) error {
		sum := sha256.Sum256([]byte(body))
		in := &smithyv4.SignRequestInput{
			Request: req, PayloadHash: sum[:], Service: serviceName, Region: region,
			Credentials: smithycreds.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		}
		if presign {
			in.SignatureType = smithyauth.SignatureTypeQueryString
		}
		return smithyv4.New().SignRequest(in)
	}},
}

// setURL points req at a presigned URL and sets the headers it signed.
func setURL(req *http.Request, url string, signed http.Header) error {
	u, err := req.URL.Parse(url)
	if err != nil {
		return err
	}
	req.URL, req.Header = u, signed.Clone()
	return nil
}

// TestGoServiceSigners signs requests for a service other than S3 in
// process with aws-sdk-go-v2's v4.Signer and smithy-go's aws-http-auth
// signer, presigned URLs included: aws-sdk-go-v2's both with X-Amz-Expires
// in the query (as its presign clients put it there) and without (as a
// caller who adds none gets it, and as smithy-go's query signature always
// is: good while within the clock skew).
func TestGoServiceSigners(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	cases := []struct {
		op, method, target, body string
		header                   http.Header
		presign                  bool
	}{
		{"GetSortedQuery", "GET", "/prod/items?b=2&a=1&a=0&empty=", "", nil, false},
		{"GetEscapedPath", "GET", "/prod/a%20b/%C3%BC/x%2By/%7Etilde", "", nil, false},
		{"GetEscapedQuery", "GET", "/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~", "", nil, false},
		{"PostJSON", "POST", "/prod/items", `{"name":"café","n":1}`, http.Header{"Content-Type": {"application/json"}, "X-Custom": {"  two   spaces  "}}, false},
		{"PresignedGet", "GET", "/prod/a%20b?x=1&X-Amz-Expires=300", "", nil, true},
		{"PresignedGetNoExpires", "GET", "/prod/a%20b?x=1", "", nil, true},
	}
	for _, signer := range goServiceSigners {
		for _, v := range verdicts {
			t.Run(signer.name+"/"+v.name, func(t *testing.T) {
				srv := newServiceServer(t, v)
				creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: v.secret}
				client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
				for _, c := range cases {
					req, err := http.NewRequest(c.method, srv.URL+c.target, strings.NewReader(c.body))
					if err != nil {
						t.Fatal(err)
					}
					for k, vs := range c.header {
						req.Header[k] = vs
					}
					if err := signer.sign(req, c.body, creds, c.presign); err != nil {
						t.Fatal(err)
					}
					if got, want := req.URL.Query().Has("X-Amz-Expires"), strings.Contains(c.target, "X-Amz-Expires"); c.presign && got != want {
						t.Fatalf("%s: presigned URL %s; want X-Amz-Expires: %v", c.op, req.URL, want)
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if code := strings.TrimSpace(string(body)); resp.StatusCode != v.status || v.code != "OK" && code != v.code {
						t.Errorf("%s: %d %q, want %d %s", c.op, resp.StatusCode, code, v.status, v.code)
					}
				}
			})
		}
	}
}

// TestAWS4FetchNode signs requests for a service other than S3 with
// aws4fetch (pinned in node/package-lock.json), whose presigned URL, like
// aws4's, has no X-Amz-Expires outside S3 (see testServiceSigner).
func TestAWS4FetchNode(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "aws4fetch", "package.json")); err != nil {
		missingClient(t, "aws4fetch is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund (from the repository root)")
	}
	testServiceSigner(t, append(serviceOps, "GetDotSegments", "PresignedGet"), "node", filepath.Join(nodeDir, "aws4fetch_service.js"))
}

// TestBotocoreDateHeader: botocore signs a request that carries a Date
// header with that Date (formatdate's "-0000" zone) and no X-Amz-Date, for
// S3 and other services alike. Amazon S3 reads the request time from it;
// so must we: accepted with the right secret, refused with another, and
// refused once the Date is changed after signing.
func TestBotocoreDateHeader(t *testing.T) {
	requireBoto3(t)
	verifier := &sigv4.Verifier{
		Keys:     sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions:  []string{region},
		Services: []string{serviceName, "s3"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := verifier.Verify(r)
		if err == nil {
			_, err = io.ReadAll(res.Body)
		}
		var e *sigv4.Error
		switch {
		case errors.As(err, &e):
			http.Error(w, e.Code, e.Status)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	for _, v := range verdicts {
		t.Run(v.name, func(t *testing.T) {
			got := runScript(t, clientEnv(t, v.secret), "python3", filepath.Join("testdata", "botocore_date.py"), srv.URL, serviceName)
			want := []struct{ op, code string }{{"DateHeader", v.code}, {"DateHeaderS3", v.code}, {"DateTampered", "SignatureDoesNotMatch"}}
			if len(got) != len(want) {
				t.Fatalf("client reported %+v", got)
			}
			for i, r := range got {
				code := cmp.Or(r.Code, "OK")
				if r.Op != want[i].op || code != want[i].code {
					t.Errorf("%s (Date: %s): %d %s, want %s %s", r.Op, r.SHA256, r.Status, code, want[i].op, want[i].code)
				}
				if !strings.HasSuffix(r.SHA256, " -0000") {
					t.Errorf("%s: Date %q, not formatdate's", r.Op, r.SHA256)
				}
			}
		})
	}
}

// TestSigV2Refused: requests signed with AWS Signature Version 2, by
// botocore's HmacV1Auth (header) and HmacV1QueryAuth (presigned URL) and
// by s3cmd signurl, are refused as Amazon S3 refuses them where it takes
// only SigV4 (InvalidRequest), with a message that names SigV2, not
// taken for unsigned requests.
func TestSigV2Refused(t *testing.T) {
	requireBoto3(t)
	var mu sync.Mutex
	var messages []string
	verifier := &sigv4.Verifier{
		Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions: []string{region}, Services: []string{"s3"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := verifier.Verify(r)
		var e *sigv4.Error
		if !errors.As(err, &e) {
			http.Error(w, "accepted", http.StatusOK)
			return
		}
		mu.Lock()
		messages = append(messages, e.Message)
		mu.Unlock()
		http.Error(w, e.Code, e.Status)
	}))
	defer srv.Close()
	got := runScript(t, clientEnv(t, secretKey), "python3", filepath.Join("testdata", "botocore_sigv2.py"), srv.URL)
	if len(got) != 2 {
		t.Fatalf("client reported %+v", got)
	}
	for _, r := range got {
		if r.Status != http.StatusBadRequest || r.Code != "InvalidRequest" {
			t.Errorf("%s: %d %s, want 400 InvalidRequest", r.Op, r.Status, r.Code)
		}
	}
	if _, err := exec.LookPath("s3cmd"); err == nil {
		cfg := filepath.Join(t.TempDir(), "s3cfg")
		os.WriteFile(cfg, []byte("[default]\naccess_key = "+accessKey+"\nsecret_key = "+secretKey+
			"\nhost_base = "+strings.TrimPrefix(srv.URL, "http://")+"\nhost_bucket = "+strings.TrimPrefix(srv.URL, "http://")+
			"\nuse_https = False\nsignature_v2 = True\n"), 0o600)
		out, err := exec.Command("s3cmd", "-c", cfg, "signurl", "s3://bucket/key", "+300").Output()
		if err != nil {
			t.Fatalf("s3cmd signurl: %v", err)
		}
		resp, err := http.Get(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "InvalidRequest") {
			t.Errorf("s3cmd signurl %s: %d %s, want 400 InvalidRequest", out, resp.StatusCode, body)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("s3cmd is missing")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := len(got) + 1; len(messages) != want {
		t.Errorf("%d requests refused, want %d (botocore's two and s3cmd's)", len(messages), want)
	}
	for _, m := range messages {
		if !strings.Contains(m, "Signature Version 2") {
			t.Errorf("message %q does not say SigV2", m)
		}
	}
}
