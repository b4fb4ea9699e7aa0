package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
)

// harPage is the page of TestBrowserHARExplain: a script of the page signs
// a GET of /bucket/report.csv with aws4fetch, as a web application that
// talks to S3 from the browser does, and records the answer.
const harPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>report</title></head>
<body><pre id="out">fetching</pre>
<script type="module">
import { AwsClient } from '/aws4fetch.js';
const client = new AwsClient({accessKeyId: %s, secretAccessKey: %s, service: 's3', region: %s});
const out = document.getElementById('out');
try {
  const res = await client.fetch(new URL('/bucket/report.csv', location.href).href);
  document.body.dataset.status = String(res.status);
  out.textContent = await res.text();
} catch (err) {
  document.body.dataset.status = '0';
  out.textContent = 'fetch failed: ' + err;
} finally {
  document.body.dataset.done = '1';
}
</script>
</body></html>
`

// TestBrowserHARExplain: a real browser (headless Chromium) runs a page
// whose script signs a GET with the real aws4fetch, but with the wrong
// secret; the server (the library's Verifier) answers 403
// SignatureDoesNotMatch with its canonical request and string to sign, as
// S3 does. The HAR file the browser recorded, given to sigv4 explain with
// the right credentials, names the entry, finds the server's computation
// the same as ours and says the signature is not the one of these
// credentials: the client signed with another secret. With the secret the
// browser used, explain finds the signature right for it: the server holds
// another secret for the access key.
func TestBrowserHARExplain(t *testing.T) {
	requireChromium(t)
	lib := filepath.Join(nodeDir, "node_modules", "aws4fetch", "dist", "aws4fetch.esm.mjs")
	if _, err := os.Stat(lib); err != nil {
		missingClient(t, "aws4fetch is not installed: npm ci --prefix interop/node")
	}
	bin := buildSigv4(t)

	js := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page := fmt.Sprintf(harPage, js(accessKey), js(wrongSecret), js(region))
	v := &sigv4.Verifier{
		Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions: []string{region}, Services: []string{"s3"},
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
			return
		case "/aws4fetch.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, lib)
			return
		}
		rep := reply{status: http.StatusOK, body: []byte("verified " + r.URL.Path + "\n")}
		res, err := v.Verify(r)
		if err != nil {
			rep = rejectReply(asSigv4Error(err))
		} else {
			res.Body.Close()
		}
		for k, vs := range rep.header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
		w.WriteHeader(rep.status)
		w.Write(rep.body)
	}))
	defer s.Close()

	har := filepath.Join(t.TempDir(), "browser.har")
	out, err := run(t, clientEnv(t, ""), "node", filepath.Join(nodeDir, "browser_har.js"), s.URL+"/page.html", har)
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		Status int
		Text   string
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	t.Logf("the page recorded %d: %.200q", shown.Status, shown.Text)
	if shown.Status != http.StatusForbidden || !strings.Contains(shown.Text, "SignatureDoesNotMatch") {
		t.Fatalf("the page recorded %d %q, want 403 SignatureDoesNotMatch", shown.Status, shown.Text)
	}

	// The HAR holds the signed request, Authorization and all.
	data, err := os.ReadFile(har)
	if err != nil {
		t.Fatalf("the browser wrote no HAR: %v", err)
	}
	var h struct {
		Log struct {
			Entries []struct {
				Request struct {
					Method, URL string
					Headers     []struct{ Name, Value string }
				}
				Response struct{ Status int }
			}
		}
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("the HAR is not JSON: %v", err)
	}
	target := s.URL + "/bucket/report.csv"
	entry, authz := -1, ""
	for i, e := range h.Log.Entries {
		if e.Request.URL != target {
			continue
		}
		entry = i
		for _, hd := range e.Request.Headers {
			if strings.EqualFold(hd.Name, "Authorization") {
				authz = hd.Value
			}
		}
	}
	var urls []string
	for _, e := range h.Log.Entries {
		urls = append(urls, fmt.Sprintf("%s %s %d", e.Request.Method, e.Request.URL, e.Response.Status))
	}
	if entry < 0 {
		t.Fatalf("the HAR has no entry for %s; its entries:\n%s", target, strings.Join(urls, "\n"))
	}
	if !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 ") {
		t.Fatalf("HAR entry %d (%s) has no Authorization AWS4-HMAC-SHA256 header (got %q): the recording left it out", entry+1, target, authz)
	}
	t.Logf("HAR entries:\n%s", strings.Join(urls, "\n"))

	explain := func(secret string) (raw, flat string) {
		t.Helper()
		out, err := run(t, clientEnv(t, secret), bin, "explain", "--request", har)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sigv4 explain with secret %s:\n%s", secret, out)
		return out, strings.Join(strings.Fields(out), " ")
	}
	note := fmt.Sprintf("HAR entry %d of %d: GET %s, answered 403.", entry+1, len(h.Log.Entries), target)
	same := []string{
		"# canonical request: the server's and ours are the same\n",
		"# string to sign: the server's and ours are the same\n",
	}
	check := func(raw, flat, want, not string) {
		t.Helper()
		for _, w := range append([]string{"Server:  SignatureDoesNotMatch\n"}, same...) {
			if !strings.Contains(raw, w) {
				t.Errorf("explain does not say %q", strings.TrimSpace(w))
			}
		}
		for _, w := range []string{note, want} {
			if !strings.Contains(flat, w) {
				t.Errorf("explain does not say %q", w)
			}
		}
		if strings.Contains(flat, not) {
			t.Errorf("explain says %q", not)
		}
	}

	// The right credentials: the signature is not theirs.
	raw, flat := explain(secretKey)
	check(raw, flat,
		"the signature is not the one the secret access key found here gives: the client signed with another secret",
		"the server holds another secret")

	// The secret the browser signed with: the signature is right for it.
	raw, flat = explain(wrongSecret)
	check(raw, flat,
		"the signature is the right one for the secret access key found here for "+accessKey+": the server holds another secret for this access key ID.",
		"is not the one")
}
