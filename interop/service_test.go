package interop

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
