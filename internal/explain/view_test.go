package explain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
)

const suiteDir = "../../testdata/aws-sig-v4-test-suite/v4"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	} `json:"credentials"`
	Normalize bool   `json:"normalize"`
	OmitToken bool   `json:"omit_session_token"`
	Service   string `json:"service"`
}

// TestViewOfficialSuite: for every case of the official SigV4 suite, in
// both forms, the page's numbers (the canonical request, the string to
// sign, the signing key, the signature) are the suite's and the
// library's; with another secret the signature does not match, and the
// key differs.
func TestViewOfficialSuite(t *testing.T) {
	cases, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		dir := filepath.Join(suiteDir, c.Name())
		var ctx suiteContext
		if data, err := os.ReadFile(filepath.Join(dir, "context.json")); err != nil || json.Unmarshal(data, &ctx) != nil {
			continue
		}
		for _, form := range []string{"header", "query"} {
			signed, err := os.ReadFile(filepath.Join(dir, form+"-signed-request.txt"))
			if err != nil {
				continue
			}
			t.Run(c.Name()+"/"+form, func(t *testing.T) {
				creds := func(secret string) func(string) (Credentials, error) {
					return func(akid string) (Credentials, error) {
						return Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
					}
				}
				r, err := Explain(Input{Request: signed, S3: !ctx.Normalize, OmitSessionToken: ctx.OmitToken, Credentials: creds(ctx.Credentials.SecretAccessKey)})
				if err != nil {
					t.Fatal(err)
				}
				v := r.View()
				st := v.Steps
				if st == nil {
					t.Fatalf("no steps: %+v", v.Findings)
				}
				want := func(name string) string {
					b, err := os.ReadFile(filepath.Join(dir, form+"-"+name))
					if err != nil {
						t.Fatal(err)
					}
					return strings.TrimRight(string(b), "\n")
				}
				if got := st.Canonical; got != want("canonical-request.txt") {
					t.Errorf("canonical request:\n%s\nwant\n%s", got, want("canonical-request.txt"))
				}
				if st.StringToSign != want("string-to-sign.txt") {
					t.Errorf("string to sign:\n%s\nwant\n%s", st.StringToSign, want("string-to-sign.txt"))
				}
				if st.Signature != want("signature.txt") || st.Match == nil || !*st.Match {
					t.Errorf("signature %s (match %v), want %s", st.Signature, st.Match, want("signature.txt"))
				}
				scope, _ := parseScope(strings.Split(st.StringToSign, "\n")[2])
				lib := sigv4.DeriveSigningKey(ctx.Credentials.SecretAccessKey, scope)
				if len(st.Key) != 4 || st.Key[3].Value != hex.EncodeToString(lib[:]) {
					t.Errorf("signing key %+v, the library's %x", st.Key, lib)
				}
				if got := strings.Join(strings.Fields(st.Parts[0].Value+" "+st.Parts[1].Value), " "); !strings.HasPrefix(st.Canonical, st.Parts[0].Value+"\n"+st.Parts[1].Value+"\n") {
					t.Errorf("parts %q do not make the canonical request", got)
				}

				other, err := Explain(Input{Request: signed, S3: !ctx.Normalize, OmitSessionToken: ctx.OmitToken, Credentials: creds("another/secret")})
				if err != nil {
					t.Fatal(err)
				}
				ost := other.View().Steps
				if ost.Match == nil || *ost.Match || ost.Key[3].Value == st.Key[3].Value {
					t.Errorf("another secret: match %v, key %s", ost.Match, ost.Key[3].Value)
				}
			})
			n++
		}
	}
	if n < 40 {
		t.Errorf("%d cases of the suite ran, want them all", n)
	}
}

// TestCandidatesSigns: explaining with Signs, told by a holder of the
// secret which of the Candidates the signature signs, finds what
// explaining with the secret finds; the secret never reaches Explain.
func TestCandidatesSigns(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	dir := filepath.Join(suiteDir, "get-vanilla-query-order-key-case")
	signed, err := os.ReadFile(filepath.Join(dir, "header-signed-request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, request, secret string }{
		{"correct", string(signed), secret},
		{"another secret", string(signed), "another/secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Request: []byte(tc.request)}
			cands, err := Candidates(in)
			if err != nil || len(cands) == 0 {
				t.Fatalf("candidates %q, %v", cands, err)
			}
			provided := sigOf(t, tc.request)
			matched := map[string]bool{}
			for _, sts := range cands { // what the page does, with the secret
				if signatureOf(tc.secret, sts) == provided {
					matched[sts] = true
				}
			}
			in.Signs = func(sts string) bool { return matched[sts] }
			viaPage, err := Explain(in)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := Explain(Input{Request: []byte(tc.request), Credentials: func(akid string) (Credentials, error) {
				return Credentials{AccessKeyID: akid, SecretAccessKey: tc.secret}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if viaPage.Cause() != direct.Cause() || viaPage.Cause() == "" {
				t.Errorf("through Signs: %q\nwith the secret: %q", viaPage.Cause(), direct.Cause())
			}
		})
	}
}

func sigOf(t *testing.T, request string) string {
	i := strings.Index(request, "Signature=")
	if i < 0 {
		t.Fatal("no signature")
	}
	return strings.Fields(request[i+len("Signature="):])[0]
}

var _ = hmac.New
var _ = sha256.New

// TestPresignedURLAlone: a presigned URL pasted alone is explained as its
// GET: its parameters, its expiry, correctly signed for the suite's
// secret; its signature changed, it is not.
func TestPresignedURLAlone(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	signed, err := os.ReadFile(filepath.Join(suiteDir, "get-vanilla", "query-signed-request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(signed), "\n")
	target := strings.Fields(line)[1]
	url := "https://example.amazonaws.com" + target
	creds := func(akid string) (Credentials, error) {
		return Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
	}
	r, err := Explain(Input{Request: []byte(url + "\n"), Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	v := r.View()
	p := v.Request.Presigned
	if p == nil || p.Seconds != 3600 || p.Signed != "2015-08-30T12:36:00Z" || p.ExpiresAt != "2015-08-30T13:36:00Z" || len(p.Params) != 6 {
		t.Fatalf("presigned view %+v", p)
	}
	if !strings.Contains(r.Cause(), "correctly signed") || v.Steps.Match == nil || !*v.Steps.Match {
		t.Errorf("cause %q, match %v", r.Cause(), v.Steps.Match)
	}
	i := strings.Index(url, "X-Amz-Signature=") + len("X-Amz-Signature=")
	flip := "0"
	if url[i] == '0' {
		flip = "1"
	}
	tampered := url[:i] + flip + url[i+1:]
	if r, err = Explain(Input{Request: []byte(tampered), Credentials: creds}); err != nil || strings.Contains(r.Cause(), "correctly signed") {
		t.Errorf("tampered: %v, %q", err, r.Cause())
	}
}
