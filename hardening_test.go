package sigv4_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
)

// readCounter counts what is read of a body.
type readCounter struct {
	r *strings.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (c *readCounter) Close() error { return nil }

// Amazon S3 wants x-amz-content-sha256 on every request signed in the
// Authorization header; without it, a verifier would have to hold the
// body to hash it before it could tell a forger from a client.
func TestS3RequiresContentSHA256(t *testing.T) {
	put := func(edit func(*http.Request)) *http.Request {
		req := newRequest(t, "PUT", "https://bucket.s3.amazonaws.com/key", "payload")
		if err := testSigner("s3").Sign(req); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(req)
		}
		return onTheWire(t, req)
	}
	v := testVerifier(testTime)
	expectOutcome(t, v, put(nil), "")
	req := put(func(r *http.Request) { r.Header.Del(sigv4.HeaderContentSHA256) })
	body := &readCounter{r: strings.NewReader("payload")}
	req.Body = body
	_, err := v.Verify(req)
	if code := errorCode(err); code != "InvalidRequest" || !strings.Contains(err.Error(), "x-amz-content-sha256") {
		t.Fatalf("Verify: %v, want InvalidRequest naming x-amz-content-sha256", err)
	}
	if body.n != 0 {
		t.Errorf("%d bytes of the body were read before the answer", body.n)
	}
}

// Outside S3 a body with no declared hash is hashed by the verifier, but
// only for a key that exists: an unknown key's body is not read at all.
func TestUnknownKeyBodyNotRead(t *testing.T) {
	post := func(c sigv4.Credentials) *http.Request {
		req := newRequest(t, "POST", "https://api.example.com/items", `{"a":1}`)
		s := testSigner("execute-api")
		s.Credentials = c
		if err := s.Sign(req); err != nil {
			t.Fatal(err)
		}
		req = onTheWire(t, req)
		if req.Header.Get(sigv4.HeaderContentSHA256) != "" {
			t.Fatal("the signer declared a payload hash; the test needs none")
		}
		return req
	}
	v := testVerifier(testTime)
	for _, tc := range []struct {
		name     string
		creds    sigv4.Credentials
		code     string
		wantRead bool
	}{
		{"known key", testCreds, "", true},
		{"known key, wrong secret", sigv4.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "wrong"}, "SignatureDoesNotMatch", true},
		{"unknown key", sigv4.Credentials{AccessKeyID: "AKIDNOSUCHKEY", SecretAccessKey: "x"}, "InvalidAccessKeyId", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := post(tc.creds)
			body := &readCounter{r: strings.NewReader(`{"a":1}`)}
			req.Body = body
			_, err := v.Verify(req)
			if code := errorCode(err); code != tc.code {
				t.Fatalf("Verify: %v, want %q", err, tc.code)
			}
			if read := body.n > 0; read != tc.wantRead {
				t.Errorf("%d bytes read, want read: %v", body.n, tc.wantRead)
			}
		})
	}
}

// A header spelled with underscores (X_Amz_Acl) is x-amz-acl to a server
// that reads "_" as "-", so it must be signed like one.
func TestUnderscoreAmzHeaderMustBeSigned(t *testing.T) {
	v := testVerifier(testTime)
	for _, name := range []string{"X_Amz_Acl", "x_amz_meta-a", "X-Amz_Server-Side-Encryption", "x_AMZ-grant-read"} {
		t.Run(name, func(t *testing.T) {
			// Signed: accepted.
			ok := signed(t, func(r *http.Request) { r.Header[name] = []string{"public-read"} })
			expectOutcome(t, v, ok, "")
			// Added after signing: refused.
			late := signed(t, nil)
			late.Header[name] = []string{"public-read"}
			expectOutcome(t, v, late, "AccessDenied")
		})
	}
	// Not an x-amz-* header by any reading: may go unsigned.
	other := signed(t, nil)
	other.Header["X_Amzon"] = []string{"1"}
	other.Header["Xx-Amz-A"] = []string{"1"}
	expectOutcome(t, v, other, "")
}

func errorCode(err error) string {
	if err == nil {
		return ""
	}
	e, ok := err.(*sigv4.Error)
	if !ok {
		return "not an *Error: " + err.Error()
	}
	return e.Code
}
