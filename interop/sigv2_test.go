package interop

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// sigV2Server verifies every request with SigV2 on (for S3, with
// virtual-hosted buckets under s3.test) and answers 200 with an empty body,
// or the S3 error. It records what each verified request was.
type sigV2Server struct {
	*httptest.Server
	mu       sync.Mutex
	verified []*http.Request
}

func newSigV2Server(t *testing.T, creds ...sigv4.Credentials) *sigV2Server {
	t.Helper()
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(creds...), Regions: []string{region}, Services: []string{"s3"},
		SigV2: true, VirtualHostDomains: []string{"s3.test"}}
	s := &sigV2Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err == nil {
			_, err = io.Copy(io.Discard, res.Body) // digests are checked at the end
		}
		var e *sigv4.Error
		if errors.As(err, &e) {
			rep := rejectReply(e)
			for k, v := range rep.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rep.status)
			w.Write(rep.body)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if res.Algorithm != "AWS" {
			http.Error(w, "not SigV2: "+res.Algorithm, http.StatusTeapot)
			return
		}
		s.mu.Lock()
		s.verified = append(s.verified, r)
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestSigV2Accepted: with SigV2 on, what botocore signs with SigV2 (boto3's
// S3 client with signature_version 's3', path-style and virtual-hosted,
// with a session token; generate_presigned_url; HmacV1Auth and
// HmacV1QueryAuth on raw requests) is accepted, and each request changed
// after signing in a part the signature covers is refused with the code
// S3 answers.
func TestSigV2Accepted(t *testing.T) {
	requireBoto3(t)
	temp := sigv4.Credentials{AccessKeyID: "ASIAINTEROPEXAMPLE01", SecretAccessKey: "temp/Secret+Key/EXAMPLE", SessionToken: "session/token+EXAMPLE=="}
	srv := newSigV2Server(t, sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, temp)
	env := append(clientEnv(t, secretKey), "TEMP_ACCESS_KEY_ID="+temp.AccessKeyID,
		"TEMP_SECRET_ACCESS_KEY="+temp.SecretAccessKey, "TEMP_SESSION_TOKEN="+temp.SessionToken)
	got := runScript(t, env, "python3", filepath.Join("testdata", "botocore_sigv2_accept.py"), srv.URL)
	if len(got) < 40 {
		t.Fatalf("the client reported %d requests: %+v", len(got), got)
	}
	accepted := 0
	for _, r := range got {
		want, _, _ := strings.Cut(r.Op, ":")
		switch {
		case want == "OK" && r.Status == http.StatusOK:
			accepted++
		case want == "OK":
			t.Errorf("%s: %d %s, want 200", r.Op, r.Status, r.Code)
		case r.Code != want:
			t.Errorf("%s: %d %s, want %s", r.Op, r.Status, r.Code, want)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.verified) != accepted {
		t.Errorf("%d requests verified, %d accepted", len(srv.verified), accepted)
	}
	hosts := map[string]bool{}
	for _, r := range srv.verified {
		hosts[strings.Split(r.Host, ":")[0]] = true
	}
	if !hosts["bucket.s3.test"] || !hosts["s3.test"] {
		t.Errorf("hosts verified %v: want virtual-hosted (bucket.s3.test) and service (s3.test) requests", hosts)
	}
	t.Logf("%d requests: %d accepted, %d tampered ones refused", len(got), accepted, len(got)-accepted)
}

// TestSigV2S3cmd: s3cmd signs with SigV2 (signature_v2 = True): its signurl
// URL is accepted, and refused once expired or changed.
func TestSigV2S3cmd(t *testing.T) {
	if _, err := exec.LookPath("s3cmd"); err != nil {
		missingClient(t, "s3cmd is missing: apt-get install -y s3cmd")
	}
	srv := newSigV2Server(t, sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	if err := os.WriteFile(cfg, []byte("[default]\naccess_key = "+accessKey+"\nsecret_key = "+secretKey+
		"\nhost_base = "+host+"\nhost_bucket = "+host+"\nuse_https = False\nsignature_v2 = True\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	signurl := func(obj, expiry string) string {
		out, err := exec.Command("s3cmd", "-c", cfg, "signurl", obj, expiry).Output()
		if err != nil {
			t.Fatalf("s3cmd signurl: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		code, _, _ := strings.Cut(string(body), "</Code>")
		_, code, _ = strings.Cut(code, "<Code>")
		return resp.StatusCode, code
	}
	good := signurl("s3://bucket/dir/photo one.jpg", "+300")
	for name, c := range map[string]struct {
		url, code string
	}{
		"as signed":        {good, ""},
		"another object":   {strings.Replace(good, "photo", "photp", 1), "SignatureDoesNotMatch"},
		"expires extended": {strings.Replace(good, "Expires=", "Expires=9", 1), "SignatureDoesNotMatch"},
		"already expired":  {signurl("s3://bucket/key", strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)), "AccessDenied"},
		"unsigned param":   {good + "&prefix=x", ""},
		"sub-resource":     {good + "&acl", "SignatureDoesNotMatch"},
	} {
		status, code := get(c.url)
		if code != c.code || (c.code == "" && status != http.StatusOK) {
			t.Errorf("%s (%s): %d %q, want %q", name, c.url, status, code, c.code)
		}
	}
}
