package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/gateway"
)

// TestFailuresPageBrowser: headless Chromium loads the admin page of
// 1,000 failures (the ring full) and opens the newest in the debugger
// view, which names the cause; the load time (median of five, request
// start to load end) is logged for the note, not asserted:
// BenchmarkFailuresPage measures the server's part.
func TestFailuresPageBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		browserMissing(t, "chromium (apt-get install -y chromium)")
	}
	nodeDir, _ := filepath.Abs(filepath.Join("..", "interop", "node"))
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "playwright-core")); err != nil {
		browserMissing(t, "playwright-core (npm ci --prefix interop/node)")
	}
	e := newEnv(t, gateway.Config{RecentFailures: 1000})
	for i := range 1000 {
		req, _ := signedAsTyped(t, e.front.URL, fmt.Sprintf("/bucket/report-%d*.csv", i), secret)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	admin := httptest.NewServer(e.gw.AdminHandler())
	defer admin.Close()
	shots := os.Getenv("SIGV4_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	cmd := exec.Command("node", filepath.Join(nodeDir, "admin_failures.js"), admin.URL+"/failures", shots)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node admin_failures.js: %v\n%s%s", err, out, stderr.Bytes())
	}
	var got struct {
		LoadMs float64
		Rows   int
		Opened struct{ URL, Status, Text string }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("the failures page with %d rows loaded in %.1f ms (median of 5)", got.Rows, got.LoadMs)
	flat := strings.Join(strings.Fields(got.Opened.Text), " ")
	if got.Rows != 1000 || !strings.Contains(got.Opened.URL, "debug/?failure=999") || !strings.Contains(flat, "/bucket/report-999%2A.csv") ||
		!strings.Contains(got.Opened.Status, "SignatureDoesNotMatch") {
		t.Errorf("rows %d, opened %s: %s\n%s", got.Rows, got.Opened.URL, got.Opened.Status, got.Opened.Text)
	}
}

// browserMissing skips without a browser, but fails in CI, where .ci/run
// installs it.
func browserMissing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; .ci/run installs it", what)
	}
	t.Skipf("%s is not installed", what)
}
