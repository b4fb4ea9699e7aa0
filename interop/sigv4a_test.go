package interop

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/v4a"
)

// requireSigV4aJS checks for node and the installed, pinned pure-JS SigV4a
// signer of the JS SDK.
func requireSigV4aJS(t *testing.T) {
	t.Helper()
	const install = "npm ci --prefix interop/node --no-audit --no-fund (from the repository root)"
	requireCommand(t, "node", "apt-get install -y nodejs npm, then "+install)
	for _, pkg := range []string{"@aws-sdk/signature-v4a", "@smithy/signature-v4a"} {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", pkg, "package.json")); err != nil {
			missingClient(t, "%s is not installed; install it with: %s", pkg, install)
		}
	}
}

// newS3ServerWith is newS3Server with its verifier changed by configure
// before the server starts.
func newS3ServerWith(t *testing.T, configure func(v *sigv4.Verifier)) *s3Server {
	t.Helper()
	s := newS3Handler()
	configure(s.verifier)
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// v4aAuthorization is the Authorization header of a SigV4a request by
// accessKey: a credential scope without a region.
var v4aAuthorization = regexp.MustCompile(`^AWS4-ECDSA-P256-SHA256 Credential=` + accessKey +
	`/\d{8}/s3/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{128,144}$`)

// TestSigV4aJSSDK sends a PUT with a body and a GET signed by the JS SDK's
// pure-JS SigV4a signer (SignatureV4a of @aws-sdk/signature-v4a) for the
// region sets "*" and "us-east-1,us-west-2" to a Verifier of us-east-1
// that holds the secret (a Keyring), only the public key derived in Go
// (a PublicKeyring), or what a key authority gives it: accepted with the right secret, SignatureDoesNotMatch
// with another one, and, for a verifier in a region outside the set,
// AuthorizationHeaderMalformed ("*" takes in every region).
func TestSigV4aJSSDK(t *testing.T) {
	requireSigV4aJS(t)
	data := testData()
	file := writeData(t, data)
	script := filepath.Join(nodeDir, "sigv4a.js")

	key, err := v4a.DeriveKey(accessKey, secretKey)
	if err != nil {
		t.Fatal(err)
	}
	public := sigv4.NewPublicKeyring()
	public.Add(&key.PublicKey, sigv4.Identity{AccessKeyID: accessKey})
	keySources := []struct {
		name string
		keys sigv4.KeySource
	}{
		{"secret", sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey})},
		{"public key only", public},
		// A gateway on a key authority: the public key from the authority.
		{"key authority", authorityKeys(t, sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}), nil)},
	}
	wants := []want{
		{method: "PUT", payload: sha256Hex(data), signs: "x-amz-region-set"},
		{method: "GET", payload: emptySHA256, signs: "x-amz-region-set"},
	}

	for _, set := range []string{"*", "us-east-1,us-west-2"} {
		t.Run("region set "+set, func(t *testing.T) {
			for _, ks := range keySources {
				for _, v := range verdicts {
					t.Run(ks.name+"/"+v.name, func(t *testing.T) {
						s := newS3ServerWith(t, func(vf *sigv4.Verifier) { vf.Keys = ks.keys })
						if v.code != "OK" {
							s.putObject(bucket, objectKey, data)
						}
						got := runScript(t, clientEnv(t, v.secret), "node", script, s.URL, bucket, objectKey, file, set)
						checkResults(t, v, data, got, "PutObject", "GetObject")
						checkOutcomes(t, s, v, wants...)
						checkV4aSent(t, s, set, wants)
					})
				}
			}
			t.Run("verifier outside the region set", func(t *testing.T) {
				s := newS3ServerWith(t, func(vf *sigv4.Verifier) { vf.Regions = []string{"eu-central-1"} })
				got := runScript(t, clientEnv(t, secretKey), "node", script, s.URL, bucket, objectKey, file, set)
				checkV4aSent(t, s, set, wants)
				if set == "*" {
					v := verdicts[0] // accepted
					checkResults(t, v, data, got, "PutObject", "GetObject")
					checkOutcomes(t, s, v, wants...)
					return
				}
				// Refused on its region set, before any key is looked up,
				// and nothing stored.
				v := verdict{code: "AuthorizationHeaderMalformed", status: 400}
				checkResults(t, v, data, got, "PutObject", "GetObject")
				for i, o := range s.Outcomes() {
					if o.Code != v.code || o.Status != v.status || o.Err == nil || o.Err.Region != "eu-central-1" {
						t.Errorf("request %d: %s %d (%v), want %s %d naming region eu-central-1", i, o.Code, o.Status, o.Err, v.code, v.status)
					}
				}
				if n := s.objectCount(); n != 0 {
					t.Errorf("%d objects stored by refused requests", n)
				}
			})
		})
	}

	// SignatureV4a has no presign at the pinned version: the SDK signs
	// SigV4a in headers only. When a new version adds it, test it.
	t.Run("presign", func(t *testing.T) {
		out, err := run(t, clientEnv(t, secretKey), "node", script, "probe")
		if err != nil {
			t.Fatal(err)
		}
		var probe struct {
			Presign bool
			Version string
		}
		if err := json.Unmarshal([]byte(out), &probe); err != nil {
			t.Fatalf("probe output %q: %v", out, err)
		}
		if probe.Presign {
			t.Errorf("@aws-sdk/signature-v4a %s has presign: add presigned SigV4a URLs to this test", probe.Version)
		}
		t.Logf("@aws-sdk/signature-v4a %s: SignatureV4a.presign is not a function (header signing only)", probe.Version)
	})
}

// checkV4aSent checks what the client sent, whatever the verdict: a
// SigV4a Authorization header with a credential scope without a region,
// the region set in X-Amz-Region-Set, and the payload hash declared in
// x-amz-content-sha256.
func checkV4aSent(t *testing.T, s *s3Server, set string, wants []want) {
	t.Helper()
	for i, o := range s.Outcomes() {
		auth := o.Header.Get("Authorization")
		if !v4aAuthorization.MatchString(auth) {
			t.Errorf("request %d: Authorization %q is not a SigV4a header with a scope without region", i, auth)
		}
		if got := o.Header.Values("X-Amz-Region-Set"); len(got) != 1 || got[0] != set {
			t.Errorf("request %d: X-Amz-Region-Set %q, want %q", i, got, set)
		}
		if i < len(wants) && o.Declared != wants[i].payload {
			t.Errorf("request %d: x-amz-content-sha256 %q, want %q", i, o.Declared, wants[i].payload)
		}
		t.Logf("request %d sent: Authorization %s; X-Amz-Region-Set %q; X-Amz-Date %s; x-amz-content-sha256 %s",
			i, auth, set, o.Header.Get("X-Amz-Date"), o.Declared)
	}
}
