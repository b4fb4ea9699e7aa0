package v4a_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/httpfile"
	"github.com/sigv4/sigv4/internal/v4a"
)

// suiteRoot holds the official SigV4a vectors.
var suiteRoot = filepath.Join("..", "..", "testdata", "aws-sig-v4-test-suite", "v4a")

// forms are the two ways a request carries its signature in the suite.
var forms = []string{"header", "query"}

// suiteCase is one case of the official SigV4a test suite.
type suiteCase struct {
	name, dir string
	context   struct {
		Credentials struct {
			AccessKeyID     string `json:"access_key_id"`
			SecretAccessKey string `json:"secret_access_key"`
			Token           string `json:"token"`
		} `json:"credentials"`
		Expiration       int    `json:"expiration_in_seconds"`
		Normalize        bool   `json:"normalize"`
		Region           string `json:"region"`
		Service          string `json:"service"`
		SignBody         bool   `json:"sign_body"`
		Timestamp        string `json:"timestamp"`
		OmitSessionToken bool   `json:"omit_session_token"`
	}
	publicKey struct{ X, Y string }
	amzDate   string // 20150830T123600Z
}

// loadSuite reads the 38 complete cases: two folders of the suite hold
// only inputs (context.json and request.txt) and are left out.
func loadSuite(t testing.TB) []*suiteCase {
	t.Helper()
	dirs, err := os.ReadDir(suiteRoot)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*suiteCase
	for _, d := range dirs {
		c := &suiteCase{name: d.Name(), dir: filepath.Join(suiteRoot, d.Name())}
		if _, err := os.Stat(filepath.Join(c.dir, "public-key.json")); err != nil {
			continue
		}
		if err := json.Unmarshal(c.read(t, "context.json"), &c.context); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := json.Unmarshal(c.read(t, "public-key.json"), &c.publicKey); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ts, err := time.Parse(time.RFC3339, c.context.Timestamp)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		c.amzDate = string(canonical.AppendTime(nil, ts))
		cases = append(cases, c)
	}
	if len(cases) != 38 {
		t.Fatalf("found %d complete v4a cases, want 38", len(cases))
	}
	return cases
}

func (c *suiteCase) read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readTrim reads a one-line file, such as a signature.
func (c *suiteCase) readTrim(t testing.TB, name string) string {
	return strings.TrimSpace(string(c.read(t, name)))
}

func (c *suiteCase) pub(t testing.TB) *ecdsa.PublicKey {
	t.Helper()
	pub, err := v4a.ParsePublicKey(c.publicKey.X, c.publicKey.Y)
	if err != nil {
		t.Fatalf("%s: public-key.json: %v", c.name, err)
	}
	return pub
}

// TestSuitePublicKey derives each case's key from its credentials and
// checks its public half against public-key.json.
func TestSuitePublicKey(t *testing.T) {
	for _, c := range loadSuite(t) {
		t.Run(c.name, func(t *testing.T) {
			cr := c.context.Credentials
			key, err := v4a.DeriveKey(cr.AccessKeyID, cr.SecretAccessKey)
			if err != nil {
				t.Fatal(err)
			}
			x, y, err := v4a.PublicKeyHex(&key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if x != strings.ToLower(c.publicKey.X) || y != strings.ToLower(c.publicKey.Y) {
				t.Errorf("public key:\n got: X=%s Y=%s\nwant: X=%s Y=%s", x, y, c.publicKey.X, c.publicKey.Y)
			}
			if !key.PublicKey.Equal(c.pub(t)) {
				t.Error("ParsePublicKey(public-key.json) differs from the derived key")
			}
		})
	}
}

// TestSuiteSignature verifies the suite's signatures, in both forms, over
// the suite's strings to sign, and checks that each fails once any hex
// digit of the signature, a byte of the string to sign or the key changes.
func TestSuiteSignature(t *testing.T) {
	other, err := v4a.DeriveKey("AKIDEXAMPLE2", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadSuite(t) {
		pub := c.pub(t)
		for _, form := range forms {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				sts := c.read(t, form+"-string-to-sign.txt")
				sig := c.readTrim(t, form+"-signature.txt")
				if !v4a.Verify(pub, sts, sig) || !v4a.Verify(pub, sts, []byte(sig)) {
					t.Fatalf("the suite's signature does not verify: %s", sig)
				}
				// The signed request holds another signature (each is
				// randomized) of the same string to sign.
				if signed := signedRequestSignature(t, c, form); !v4a.Verify(pub, sts, signed) {
					t.Errorf("the signature in %s-signed-request.txt does not verify: %s", form, signed)
				}
				for i := range len(sig) {
					if bad := changeHexDigit(sig, i); v4a.Verify(pub, sts, bad) {
						t.Fatalf("verifies with hex digit %d changed: %s", i, bad)
					}
				}
				for _, i := range []int{0, len(sts) / 2, len(sts) - 1} {
					bad := bytes.Clone(sts)
					bad[i] ^= 1
					if v4a.Verify(pub, bad, sig) {
						t.Fatalf("verifies with byte %d of the string to sign changed", i)
					}
				}
				if v4a.Verify(&other.PublicKey, sts, sig) {
					t.Fatal("verifies under another key")
				}
			})
		}
	}
}

// changeHexDigit returns s with its i-th hex digit replaced by the next
// lower-case hex digit.
func changeHexDigit(s string, i int) string {
	const digits = "0123456789abcdef"
	b := []byte(s)
	b[i] = digits[(strings.IndexByte(digits, b[i])+1)%16]
	return string(b)
}

// signedRequestSignature returns the signature in the case's signed request.
func signedRequestSignature(t *testing.T, c *suiteCase, form string) string {
	t.Helper()
	f, err := httpfile.Parse(c.read(t, form+"-signed-request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if form == "query" {
		_, sig, _ := strings.Cut(f.Target, canonical.ParamSignature+"=")
		sig, _, _ = strings.Cut(sig, "&")
		sig, _, _ = strings.Cut(sig, " ")
		return sig
	}
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, "Authorization") {
			_, sig, _ := strings.Cut(h.Value, "Signature=")
			return sig
		}
	}
	t.Fatal("no Authorization header")
	return ""
}

// TestSuiteStringToSign builds each case's canonical request from
// request.txt through internal/canonical, compares it with the suite's,
// and builds the string to sign from the suite's canonical request.
func TestSuiteStringToSign(t *testing.T) {
	for _, c := range loadSuite(t) {
		for _, form := range forms {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				wantCreq := c.read(t, form+"-canonical-request.txt")
				wantSTS := string(c.read(t, form+"-string-to-sign.txt"))
				if got := stringToSign(c, wantCreq); got != wantSTS {
					t.Errorf("string to sign of the suite's canonical request:\n got: %q\nwant: %q", got, wantSTS)
				}
				creq := canonicalRequest(t, c, form == "query")
				if string(creq) != string(wantCreq) {
					t.Errorf("canonical request of request.txt:\n got: %q\nwant: %q", creq, wantCreq)
				}
			})
		}
	}
}

// stringToSign builds a SigV4a string to sign: the scope has no region.
func stringToSign(c *suiteCase, creq []byte) string {
	h := sha256.Sum256(creq)
	return string(canonical.AppendStringToSign(nil, canonical.AlgorithmECDSA,
		c.amzDate, c.amzDate[:8], "", c.context.Service, &h))
}

// canonicalRequest builds the canonical request of the case's request.txt
// as a SigV4a signer does: X-Amz-Region-Set names the region set (here one
// region), in a header or, presigned, in the query with the other X-Amz-*
// parameters.
func canonicalRequest(t *testing.T, c *suiteCase, presigned bool) []byte {
	t.Helper()
	f, err := httpfile.Parse(c.read(t, "request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path, rawQuery, _ := strings.Cut(f.Target, "?")
	body := sha256.Sum256(f.Body)
	payloadHash := hex.EncodeToString(body[:])
	token := c.context.Credentials.Token
	if c.context.OmitSessionToken {
		token = "" // added after signing
	}

	var hs canonical.HeaderSet
	for _, h := range f.Headers {
		hs.Add(h.Name, []string{h.Value})
	}
	if presigned {
		hs.Sort()
		signed := hs.AppendSigned(nil)
		params := []string{
			"X-Amz-Algorithm", canonical.AlgorithmECDSA,
			"X-Amz-Credential", c.context.Credentials.AccessKeyID + "/" +
				string(canonical.AppendScope(nil, c.amzDate[:8], "", c.context.Service)),
			"X-Amz-Date", c.amzDate,
			"X-Amz-Expires", "3600",
			"X-Amz-Region-Set", c.context.Region,
			"X-Amz-SignedHeaders", string(signed),
		}
		if token != "" {
			params = append(params, canonical.ParamSecurityToken, token)
		}
		q := []byte(rawQuery)
		for i := 0; i < len(params); i += 2 {
			if len(q) > 0 {
				q = append(q, '&')
			}
			q = canonical.AppendEscaped(append(canonical.AppendEscaped(q, params[i]), '='), params[i+1])
		}
		rawQuery = string(q)
	} else {
		hs.Add("X-Amz-Date", []string{c.amzDate})
		hs.Add("X-Amz-Region-Set", []string{c.context.Region})
		if token != "" {
			hs.Add("X-Amz-Security-Token", []string{token})
		}
		if c.context.SignBody {
			hs.Add("X-Amz-Content-Sha256", []string{payloadHash})
		}
		hs.Sort()
	}
	r := canonical.Request{
		Method:      f.Method,
		Path:        path,
		RawQuery:    rawQuery,
		Headers:     &hs,
		PayloadHash: payloadHash,
		S3:          !c.context.Normalize,
		Presigned:   presigned,
	}
	return r.Append(nil, new(canonical.Scratch))
}

// TestSuiteSignOwn signs every string to sign of the suite with the key
// derived from the case's credentials and verifies the result under the
// suite's public key.
func TestSuiteSignOwn(t *testing.T) {
	for _, c := range loadSuite(t) {
		cr := c.context.Credentials
		key, err := v4a.DeriveKey(cr.AccessKeyID, cr.SecretAccessKey)
		if err != nil {
			t.Fatal(err)
		}
		pub := c.pub(t)
		for _, form := range forms {
			sts := c.read(t, form+"-string-to-sign.txt")
			sig1, err := v4a.Sign(key, sts)
			if err != nil {
				t.Fatal(err)
			}
			sig2, err := v4a.AppendSign([]byte("prefix"), key, sts)
			if err != nil {
				t.Fatal(err)
			}
			sig2 = bytes.TrimPrefix(sig2, []byte("prefix"))
			if !v4a.Verify(pub, sts, sig1) || !v4a.Verify(pub, sts, sig2) {
				t.Errorf("%s/%s: our signature does not verify", c.name, form)
			}
			if bytes.Equal(sig1, sig2) {
				t.Errorf("%s/%s: two signatures are equal; they should be randomized", c.name, form)
			}
		}
	}
}
