package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireChromium checks for Debian's chromium and playwright-core.
func requireChromium(t *testing.T) {
	t.Helper()
	requireCommand(t, "chromium", "apt-get install -y chromium")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missingClient(t, "playwright-core is not installed: npm ci --prefix interop/node")
	}
}

// TestBrowserPostUpload: a real browser (headless Chromium) opens the page
// that sigv4 post-policy --html made, picks a file, submits the form
// through the gateway to MinIO (re-signed there), and lands on the
// redirect with the bucket and key; MinIO holds the file. The same page
// with a file over --max-size shows S3's EntityTooLarge, and nothing is
// stored.
func TestBrowserPostUpload(t *testing.T) {
	requireChromium(t)
	f := newGatewayFixtureOn(t, startMinio(t))
	bin := buildSigv4(t)
	app := httptest.NewServer(http.NewServeMux())
	defer app.Close()
	mux := app.Config.Handler.(*http.ServeMux)
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<html><body><h1>Uploaded</h1><p>bucket=%s key=%s</p></body></html>", r.URL.Query().Get("bucket"), r.URL.Query().Get("key"))
	})
	cmd := exec.Command(bin, "post-policy", "--bucket", f.bucket, "--key", "browser/${filename}", "--max-size", "4KiB",
		"--endpoint", f.http.URL, "--redirect", app.URL+"/done", "--region", region, "--html")
	cmd.Env = gwEnv(t, f.creds)
	page, err := cmd.Output()
	if err != nil {
		t.Fatalf("sigv4 post-policy --html: %v", err)
	}
	mux.HandleFunc("/upload.html", func(w http.ResponseWriter, r *http.Request) { w.Write(page) })

	shots := os.Getenv("SIGV4_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	browse := func(file, shot string) (url, text string) {
		t.Helper()
		out, err := run(t, clientEnv(t, ""), "node", filepath.Join(nodeDir, "browser_post.js"), app.URL+"/upload.html", file, shot)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ URL, Text string }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return r.URL, r.Text
	}
	small := filepath.Join(t.TempDir(), "hello.txt")
	data := []byte("uploaded by a real browser\n")
	writeFile(t, small, data)
	shot := filepath.Join(shots, "browser-post-upload.png")
	url, text := browse(small, shot)
	t.Logf("the browser landed on %s: %q (screenshot %s)", url, text, shot)
	if !strings.HasPrefix(url, app.URL+"/done?") || !strings.Contains(text, "key=browser/hello.txt") {
		t.Errorf("landed on %s showing %q", url, text)
	}
	f.expectStored(t, "browser/hello.txt", data)
	if info, err := os.Stat(shot); err != nil || info.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}

	big := filepath.Join(t.TempDir(), "big.bin")
	writeFile(t, big, make([]byte, 8<<10))
	url, text = browse(big, filepath.Join(shots, "browser-post-too-large.png"))
	t.Logf("with a file over --max-size the browser shows %q", text)
	if !strings.Contains(text, "EntityTooLarge") {
		t.Errorf("landed on %s showing %q, want EntityTooLarge", url, text)
	}
	f.expectAbsent(t, "browser/big.bin")
}
