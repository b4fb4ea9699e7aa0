package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCurlAgreesWithCurlSigV4: for requests curl --aws-sigv4 signs
// correctly (a sorted query; a service other than S3, for which curl sends
// no x-amz-content-sha256), "sigv4 curl" at the same second sends the same
// Authorization header, byte for byte.
func TestCurlAgreesWithCurlSigV4(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		missingTool(t, "curl")
	}
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
	}))
	defer srv.Close()
	awsHome(t, "", "")
	t.Setenv("AWS_ACCESS_KEY_ID", scriptAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", scriptSecret)

	for _, tc := range []struct {
		name string
		args []string // curl's, and ours, before the URL
		path string
	}{
		{"GET with a sorted query", nil, "/prod/items?a=1&b=2&c=x%20y"},
		// Not an escaped path: curl 7.88 encodes it once, where services
		// other than S3 encode it twice ("%20" signs as "%2520").
		{"GET of a path of unreserved characters", nil, "/prod/a-b_c.d~e/f"},
		{"POST with a body and signed headers", []string{"-X", "POST", "-H", "Content-Type: application/json",
			"-H", "X-Amz-Target: Service.Op", "--data-binary", `{"a":1}`}, "/prod/items"},
		// With an explicit Content-Type: curl adds its default one after
		// signing, where sigv4 curl adds it before and signs it.
		{"PUT with a header value to trim", []string{"-X", "PUT", "-H", "X-Amz-Meta-Note:   spaced   out  ",
			"-H", "Content-Type: text/plain", "--data-binary", "body"}, "/prod/put"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			url := srv.URL + tc.path
			curlArgs := append([]string{"-s", "-o", "/dev/null", "--aws-sigv4", "aws:amz:us-east-1:execute-api",
				"--user", scriptAccessKey + ":" + scriptSecret}, tc.args...)
			if out, err := exec.Command("curl", append(curlArgs, url)...).CombinedOutput(); err != nil {
				t.Fatalf("curl: %v\n%s", err, out)
			}
			mu.Lock()
			first := got[0]
			mu.Unlock()
			date, err := time.Parse("20060102T150405Z", first.Get("X-Amz-Date"))
			if err != nil {
				t.Fatalf("curl sent X-Amz-Date %q", first.Get("X-Amz-Date"))
			}
			ours := append([]string{"curl", "-s", "--service", "execute-api", "--region", "us-east-1",
				"--time", date.Format(time.RFC3339)}, tc.args...)
			if _, stderr, code := runCLI(t, "", append(ours, url)...); code != 0 {
				t.Fatalf("sigv4 curl: exit %d: %s", code, stderr)
			}
			mu.Lock()
			theirs, mine := got[0].Get("Authorization"), got[1].Get("Authorization")
			mu.Unlock()
			if theirs == "" || theirs != mine {
				t.Errorf("Authorization differs:\ncurl:  %s\nsigv4: %s", theirs, mine)
			}
			if !strings.Contains(mine, "SignedHeaders=") {
				t.Errorf("no signature: %q", mine)
			}
		})
	}
}

// missingTool skips when a tool is missing, but fails in CI, where .ci/run
// installs it.
func missingTool(t *testing.T, name string) {
	t.Helper()
	if ciRun() {
		t.Fatalf("%s is not installed; .ci/run installs it", name)
	}
	t.Skipf("%s is not installed: install it to run this test", name)
}

func ciRun() bool { return os.Getenv("CI") == "true" }
