package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
	"github.com/sigv4/sigv4/internal/v4a"
)

// v4aKeys are the two ways a Verifier can hold SigV4a keys: the secret (a
// Keyring derives the public key) or the public key alone.
func v4aKeys(t *testing.T, c *suiteCase) map[string]sigv4.KeySource {
	var pk struct{ X, Y string }
	if err := json.Unmarshal(c.read(t, "public-key.json"), &pk); err != nil {
		t.Fatal(err)
	}
	pub, err := v4a.ParsePublicKey(pk.X, pk.Y)
	if err != nil {
		t.Fatal(err)
	}
	public := sigv4.NewPublicKeyring()
	public.Add(pub, sigv4.Identity{AccessKeyID: c.context.Credentials.AccessKeyID, SessionToken: c.context.Credentials.Token})
	return map[string]sigv4.KeySource{"secret": sigv4.NewKeyring(c.creds()), "public key only": public}
}

func v4aVerifier(c *suiteCase, keys sigv4.KeySource, regions ...string) *sigv4.Verifier {
	v := c.verifier()
	v.Keys = keys
	if len(regions) > 0 {
		v.Regions = regions
	}
	return v
}

// TestSuiteV4aVerify: every signed request of the official SigV4a suite,
// in both forms, verifies with the secret and with the public key alone;
// with one hex digit of its signature changed, with a region set that does
// not take in the verifier's region, or under another access key, it does
// not.
func TestSuiteV4aVerify(t *testing.T) {
	cases := loadSuite(t, "v4a")
	if len(cases) != 38 {
		t.Fatalf("found %d v4a cases, want 38", len(cases))
	}
	for _, c := range cases {
		for _, form := range []string{"header", "query"} {
			for name, keys := range v4aKeys(t, c) {
				t.Run(c.name+"/"+form+"/"+name, func(t *testing.T) {
					raw := string(c.read(t, form+"-signed-request.txt"))
					req, err := parseRequestFile(t, raw).ServerRequest("https")
					if err != nil {
						t.Fatal(err)
					}
					res, err := v4aVerifier(c, keys).Verify(req)
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if res.Identity.AccessKeyID != c.context.Credentials.AccessKeyID || res.Scope.Region != "" ||
						res.Scope.String() != "20150830/service/aws4_request" {
						t.Errorf("Result = %+v, scope %s", res, res.Scope)
					}
					sig := afterLast(raw, "Signature=")
					sig = strings.Fields(sig)[0]
					tampered := strings.Replace(raw, sig, flipHex(sig, 20), 1)
					expectCode(t, v4aVerifier(c, keys), tampered, sigv4.ErrSignatureDoesNotMatch)
					expectCode(t, v4aVerifier(c, keys, "eu-west-1"), raw, regionErr(form))
					expectCode(t, v4aVerifier(c, keys, "eu-west-1", "us-east-1"), raw, nil)
					other := sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: c.context.Credentials.AccessKeyID, SecretAccessKey: "another/secret"})
					expectCode(t, v4aVerifier(c, other), raw, sigv4.ErrSignatureDoesNotMatch)
					expectCode(t, v4aVerifier(c, sigv4.NewKeyring()), raw, sigv4.ErrInvalidAccessKeyID)
				})
			}
		}
	}
}

func regionErr(form string) error {
	if form == "query" {
		return sigv4.ErrAuthorizationQueryParametersError
	}
	return sigv4.ErrAuthorizationHeaderMalformed
}

func parseRequestFile(t *testing.T, raw string) *httpfile.File {
	t.Helper()
	f, err := httpfile.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func expectCode(t *testing.T, v *sigv4.Verifier, raw string, want error) {
	t.Helper()
	req, err := parseRequestFile(t, raw).ServerRequest("https")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(req)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("got %v, want %v", err, want)
	}
}

// A Verifier whose KeySource has no public keys refuses SigV4a plainly;
// a PublicKeyring refuses SigV4 as from an unknown key.
func TestV4aKeySources(t *testing.T) {
	c := loadSuite(t, "v4a")[0]
	v := v4aVerifier(c, onlySigningKeys{sigv4.NewKeyring(c.creds())})
	expectCode(t, v, string(c.read(t, "header-signed-request.txt")), sigv4.ErrNotImplemented)

	v4 := loadSuite(t, "v4")[0]
	pv := v4.verifier()
	pv.Keys = sigv4.NewPublicKeyring()
	expectCode(t, pv, string(v4.read(t, "header-signed-request.txt")), sigv4.ErrInvalidAccessKeyID)
}

type onlySigningKeys struct{ k *sigv4.Keyring }

func (o onlySigningKeys) SigningKey(ctx context.Context, id string, s sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	return o.k.SigningKey(ctx, id, s)
}

// TestSuiteV4aSign: signing each request of the official SigV4a suite, in
// both forms, gives its canonical request and string to sign byte for
// byte; the (randomized) signature verifies with the suite's public key,
// and the signed request with our Verifier holding only that key.
func TestSuiteV4aSign(t *testing.T) {
	for _, c := range loadSuite(t, "v4a") {
		keys := v4aKeys(t, c)["public key only"]
		for _, form := range []string{"header", "query"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				req, err := c.file(t, "request.txt").Request("https")
				if err != nil {
					t.Fatal(err)
				}
				var creq, sts string
				s := c.signer(&creq, &sts)
				s.RegionSet = []string{c.context.Region}
				if form == "header" {
					err = s.Sign(req)
				} else {
					err = s.Presign(req, time.Duration(c.context.Expiration)*time.Second)
				}
				if err != nil {
					t.Fatal(err)
				}
				expectEqual(t, "canonical request", creq, string(c.read(t, form+"-canonical-request.txt")))
				expectEqual(t, "string to sign", sts, string(c.read(t, form+"-string-to-sign.txt")))
				var sig string
				if form == "header" {
					sig = afterLast(req.Header.Get("Authorization"), "Signature=")
				} else {
					sig = afterLast(req.URL.RawQuery, "X-Amz-Signature=")
				}
				pub, _, err := keys.(sigv4.PublicKeySource).PublicKey(context.Background(), c.context.Credentials.AccessKeyID)
				if err != nil || !v4a.Verify(pub, []byte(sts), sig) {
					t.Fatalf("our signature %s does not verify with public-key.json (%v)", sig, err)
				}
				server := req // a raw space in the path cannot cross the wire
				var wire bytes.Buffer
				if req.Write(&wire) == nil {
					if r, err := http.ReadRequest(bufio.NewReader(&wire)); err == nil {
						server = r
					}
				}
				res, err := v4aVerifier(c, keys).Verify(server)
				if err != nil || res.Identity.AccessKeyID != c.context.Credentials.AccessKeyID {
					t.Fatalf("Verify: %v", err)
				}
			})
		}
	}
}
