package sigv4_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// suiteCase is one case of the official AWS signing test suite
// (testdata/aws-sig-v4-test-suite/v4).
type suiteCase struct {
	name    string
	dir     string
	context struct {
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
	time time.Time
}

func loadSuite(t testing.TB, version string) []*suiteCase {
	t.Helper()
	root := filepath.Join("testdata", "aws-sig-v4-test-suite", version)
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*suiteCase
	for _, d := range dirs {
		c := &suiteCase{name: d.Name(), dir: filepath.Join(root, d.Name())}
		if _, err := os.Stat(filepath.Join(c.dir, "header-canonical-request.txt")); err != nil {
			continue // the two v4a folders with inputs only
		}
		if err := json.Unmarshal(c.read(t, "context.json"), &c.context); err != nil {
			t.Fatal(err)
		}
		if c.time, err = time.Parse(time.RFC3339, c.context.Timestamp); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if version == "v4" && len(cases) != 38 {
		t.Fatalf("found %d v4 cases, want 38", len(cases))
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

func (c *suiteCase) file(t testing.TB, name string) *httpfile.File {
	t.Helper()
	f, err := httpfile.Parse(c.read(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (c *suiteCase) creds() sigv4.Credentials {
	cc := c.context.Credentials
	return sigv4.Credentials{AccessKeyID: cc.AccessKeyID, SecretAccessKey: cc.SecretAccessKey, SessionToken: cc.Token}
}

func (c *suiteCase) clock() func() time.Time { return func() time.Time { return c.time } }

// version is "v4" or "v4a", the folder of the case.
func (c *suiteCase) version() string { return filepath.Base(filepath.Dir(c.dir)) }

// signer returns a Signer configured as the case's context says, recording
// the canonical request and string to sign into *creq and *sts.
func (c *suiteCase) signer(creq, sts *string) *sigv4.Signer {
	return &sigv4.Signer{
		Credentials:      c.creds(),
		Region:           c.context.Region,
		Service:          c.context.Service,
		S3:               !c.context.Normalize,
		ContentSHA256:    c.context.SignBody,
		OmitSessionToken: c.context.OmitSessionToken,
		Now:              c.clock(),
		Debug:            func(cr, s string) { *creq, *sts = cr, s },
	}
}

func (c *suiteCase) verifier() *sigv4.Verifier {
	return &sigv4.Verifier{
		Keys:             sigv4.NewKeyring(c.creds()),
		Regions:          []string{c.context.Region},
		Services:         []string{c.context.Service},
		S3:               !c.context.Normalize,
		OmitSessionToken: c.context.OmitSessionToken,
		Now:              c.clock(),
	}
}

// TestSuiteSign checks that signing each request of the official suite
// gives its canonical request, string to sign and signature byte for byte,
// in both the header and the query form.
func TestSuiteSign(t *testing.T) {
	for _, c := range loadSuite(t, "v4") {
		t.Run(c.name+"/header", func(t *testing.T) {
			req, err := c.file(t, "request.txt").Request("https")
			if err != nil {
				t.Fatal(err)
			}
			var creq, sts string
			if err := c.signer(&creq, &sts).Sign(req); err != nil {
				t.Fatal(err)
			}
			expectEqual(t, "canonical request", creq, string(c.read(t, "header-canonical-request.txt")))
			expectEqual(t, "string to sign", sts, string(c.read(t, "header-string-to-sign.txt")))
			sig := string(c.read(t, "header-signature.txt"))
			expectEqual(t, "signature", afterLast(req.Header.Get("Authorization"), "Signature="), sig)
			want := headerValue(c.file(t, "header-signed-request.txt"), "Authorization")
			expectEqual(t, "Authorization", req.Header.Get("Authorization"), want)
		})
		t.Run(c.name+"/query", func(t *testing.T) {
			req, err := c.file(t, "request.txt").Request("https")
			if err != nil {
				t.Fatal(err)
			}
			var creq, sts string
			expires := time.Duration(c.context.Expiration) * time.Second
			if err := c.signer(&creq, &sts).Presign(req, expires); err != nil {
				t.Fatal(err)
			}
			expectEqual(t, "canonical request", creq, string(c.read(t, "query-canonical-request.txt")))
			expectEqual(t, "string to sign", sts, string(c.read(t, "query-string-to-sign.txt")))
			expectEqual(t, "signature", afterLast(req.URL.RawQuery, "X-Amz-Signature="), firstParam(string(c.read(t, "query-signature.txt"))))
		})
	}
}

// TestSuiteVerify checks that the verifier accepts every signed request of
// the official suite, as the suite wrote it, in both forms.
func TestSuiteVerify(t *testing.T) {
	for _, c := range loadSuite(t, "v4") {
		for _, form := range []string{"header", "query"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				req, err := c.file(t, form+"-signed-request.txt").ServerRequest("https")
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.verifier().Verify(req)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Identity.AccessKeyID != c.context.Credentials.AccessKeyID || res.Presigned != (form == "query") {
					t.Errorf("Result = %+v", res)
				}
				if got := res.Scope.String(); got != "20150830/us-east-1/service/aws4_request" {
					t.Errorf("Scope = %s", got)
				}
			})
		}
	}
}

func expectEqual(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

func afterLast(s, sep string) string {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return ""
	}
	s = s[i+len(sep):]
	if j := strings.IndexByte(s, '&'); j >= 0 {
		s = s[:j]
	}
	return s
}

func firstParam(s string) string { return strings.TrimSpace(s) }

func headerValue(f *httpfile.File, name string) string {
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
