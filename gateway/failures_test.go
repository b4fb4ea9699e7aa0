package gateway_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/internal/debugpage"
)

// signedAsTyped is a GET of path signed as curl --aws-sigv4 signs it: the
// path as typed, not escaped; secret signs it.
func signedAsTyped(t testing.TB, base, path, secret string) (*http.Request, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	date := now.Format("20060102T150405Z")
	scope := sigv4.Scope{Date: date[:8], Region: region, Service: "s3"}
	creq := "GET\n" + path + "\n\nhost:" + req.URL.Host + "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:" + date +
		"\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + date + "\n" + scope.String() + "\n" + hex.EncodeToString(sum[:])
	key := sigv4.DeriveSigningKey(secret, scope)
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(sts))
	sig := hex.EncodeToString(mac.Sum(nil))
	req.Header.Set("X-Amz-Date", date)
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
		accessKey, scope.String(), sig))
	return req, sig
}

func adminGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body)
}

// TestRecentFailures: a request the gateway refuses is on the admin
// page's /failures, with the access key, the code, the canonical request
// the gateway computed and what the client signed instead (found with the
// signing key of its scope), and opens as the debugger's view; neither
// holds the signature. The ring keeps the last RecentFailures only; with
// none configured there is no page. A correct request leaves nothing.
func TestRecentFailures(t *testing.T) {
	e := newEnv(t, gateway.Config{RecentFailures: 3})
	admin := e.gw.AdminHandler()

	ok := e.request(t, "GET", "/bucket/fine", nil)
	if err := signer("s3").Sign(ok); err != nil {
		t.Fatal(err)
	}
	if resp := e.do(t, ok); resp.StatusCode != 200 {
		t.Fatalf("a correct request: %d %s", resp.StatusCode, resp.Body)
	}
	if _, page := adminGet(t, admin, "/failures"); strings.Contains(page, "/bucket/fine") {
		t.Errorf("a verified request is on the failures page")
	}

	req, sig := signedAsTyped(t, e.front.URL, "/bucket/a*b", secret)
	checkError(t, e.do(t, req), 403, "SignatureDoesNotMatch")
	code, page := adminGet(t, admin, "/failures")
	for _, want := range []string{accessKey, "SignatureDoesNotMatch", "GET /bucket/a*b", "signed the path as it was sent", `href="debug/?failure=0"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("/failures (%d) lacks %q:\n%s", code, want, page)
		}
	}
	code, body := adminGet(t, admin, "/failures/0")
	var resp debugpage.Response
	if err := json.Unmarshal([]byte(body), &resp); code != 200 || err != nil || resp.View == nil {
		t.Fatalf("/failures/0: %d %v %s", code, err, body)
	}
	v := resp.View
	if v.Steps == nil || v.Steps.Parts[1].Value != "/bucket/a%2Ab" || !strings.Contains(v.Findings[0].Cause, "not escaped") || v.Request.AccessKeyID != accessKey {
		t.Errorf("the view: %+v", v)
	}
	for what, s := range map[string]string{"/failures": page, "/failures/0": body} {
		if strings.Contains(s, sig) || strings.Contains(s, secret) {
			t.Errorf("%s holds the signature or the secret", what)
		}
	}
	if code, dbg := adminGet(t, admin, "/debug/"); code != 200 || !strings.Contains(dbg, "See a signature") {
		t.Errorf("/debug/: %d", code)
	}

	// With another secret: kept, and said to be another secret.
	other, _ := signedAsTyped(t, e.front.URL, "/bucket/k", "another/secret")
	checkError(t, e.do(t, other), 403, "SignatureDoesNotMatch")
	if _, body := adminGet(t, admin, "/failures/1"); !strings.Contains(body, "another secret") {
		t.Errorf("another secret: %s", body)
	}

	// Bounded: the last 3 only, the oldest gone.
	for i := range 3 {
		bad, _ := signedAsTyped(t, e.front.URL, fmt.Sprintf("/bucket/n%d", i), "another/secret")
		e.do(t, bad)
	}
	_, page = adminGet(t, admin, "/failures")
	if n := strings.Count(page, "debug/?failure="); n != 3 || strings.Contains(page, "a*b") || !strings.Contains(page, "/bucket/n2") {
		t.Errorf("%d failures listed, want the last 3:\n%s", n, page)
	}
	if code, _ := adminGet(t, admin, "/failures/0"); code != 404 {
		t.Errorf("/failures/0 after it left the ring: %d", code)
	}

	// What a client sends is escaped on the page.
	evil, _ := signedAsTyped(t, e.front.URL, "/bucket/%3Cscript%3Ealert(1)%3C/script%3E", "another/secret")
	e.do(t, evil)
	if _, page := adminGet(t, admin, "/failures"); strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("a path with markup is not escaped:\n%s", page)
	}

	off := newEnv(t, gateway.Config{})
	if code, _ := adminGet(t, off.gw.AdminHandler(), "/failures"); code != 404 {
		t.Errorf("without RecentFailures, /failures answers %d", code)
	}
}

// BenchmarkFailuresPage: the admin page with 1,000 failures, each with a
// canonical request and a cause.
func BenchmarkFailuresPage(b *testing.B) {
	e := newEnv(b, gateway.Config{RecentFailures: 1000})
	for i := range 1000 {
		req, _ := signedAsTyped(b, e.front.URL, fmt.Sprintf("/bucket/key-%d*", i), "another/secret")
		resp, err := e.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	admin := e.gw.AdminHandler()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, httptest.NewRequest("GET", "/failures", nil))
		n = w.Body.Len()
	}
	b.ReportMetric(float64(n), "bytes/page")
}
