package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/debugpage"
)

// TestDebugPageBrowser: headless Chromium loads the debugger page from
// "sigv4 debug" (the server explains; the secret stays in the page, which
// signs the candidates itself) and from the file "sigv4 debug --write"
// makes (WebAssembly, with the network off), pastes every case explain is
// tested on with the server's answer and the secret, and finds explain's
// cause on the page; the official suite's get-vanilla shows the suite's
// signature and the library's signing key. Every field has a label, text
// has 4.5:1 contrast, the keyboard alone explains, and the server never
// receives the secret. Screenshots of three cases go to
// $SIGV4_SCREENSHOTS if set.
func TestDebugPageBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missingTool(t, "chromium (apt-get install -y chromium)")
	}
	nodeDir, _ := filepath.Abs(filepath.Join("..", "..", "interop", "node"))
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "playwright-core")); err != nil {
		missingTool(t, "playwright-core (npm ci --prefix interop/node)")
	}
	explainEnv(t)
	type pageCase struct {
		Name    string `json:"name"`
		Request string `json:"request"`
		Error   string `json:"error"`
		Secret  string `json:"secret"`
		Service string `json:"service"`
		Shot    string `json:"shot,omitempty"`
		want    []string
	}
	var cases []pageCase
	shots := map[string]string{"query not sorted": "debug-query-not-sorted.png", "host changed by a proxy": "debug-host-changed.png",
		"server holds another secret": "debug-another-secret.png"}
	for _, tc := range causeCases {
		sent, answer := tc.exchange(t)
		cases = append(cases, pageCase{Name: tc.name, Request: sent, Error: answer, Secret: explainSecret, Shot: shots[tc.name], want: tc.want})
	}
	// Every case of the official suite (but the one whose session token
	// the server must take unsigned): the page shows the suite's signature
	// and the library's signing key, derived in the page.
	suite := filepath.Join("..", "..", "testdata", "aws-sig-v4-test-suite", "v4")
	entries, err := os.ReadDir(suite)
	if err != nil {
		t.Fatal(err)
	}
	key := sigv4.DeriveSigningKey(explainSecret, sigv4.Scope{Date: "20150830", Region: "us-east-1", Service: "service"})
	for _, c := range entries {
		signed, err1 := os.ReadFile(filepath.Join(suite, c.Name(), "header-signed-request.txt"))
		sig, err2 := os.ReadFile(filepath.Join(suite, c.Name(), "header-signature.txt"))
		ctx, err3 := os.ReadFile(filepath.Join(suite, c.Name(), "context.json"))
		if err1 != nil || err2 != nil || err3 != nil || strings.Contains(string(ctx), `"omit_session_token": true`) {
			continue
		}
		service := ""
		if strings.Contains(string(ctx), `"normalize": false`) {
			service = "s3"
		}
		cases = append(cases, pageCase{Name: "official " + c.Name(), Request: string(signed), Secret: explainSecret, Service: service,
			want: []string{strings.TrimSpace(string(sig)), hex.EncodeToString(key[:]), "the same, correct for this secret"}})
	}
	query, err := os.ReadFile(filepath.Join("..", "..", "testdata", "aws-sig-v4-test-suite", "v4", "get-vanilla", "query-signed-request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(query), "\n")
	cases = append(cases, pageCase{Name: "presigned URL alone", Request: "https://example.amazonaws.com" + strings.Fields(line)[1], Secret: explainSecret,
		Shot: "debug-presigned-url.png", want: []string{"correctly signed", "presigned URL", "Expired at 2015-08-30T13:36:00Z", "X-Amz-Expires 3600"}})
	dir := t.TempDir()
	casesFile := filepath.Join(dir, "cases.json")
	data, _ := json.Marshal(cases)
	os.WriteFile(casesFile, data, 0o600)
	shotDir := os.Getenv("SIGV4_SCREENSHOTS")
	if shotDir == "" {
		shotDir = dir
	}

	var mu sync.Mutex
	var leaked bool
	pages := debugpage.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(explainSecret)) || strings.Contains(r.URL.RawQuery, "secret") {
			mu.Lock()
			leaked = true
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		pages.ServeHTTP(w, r)
	}))
	defer srv.Close()
	standalone := filepath.Join(dir, "sigv4-debug.html")
	if err := (&debugOptions{write: standalone, source: filepath.Join("..", "..")}).writePage(io.Discard); err != nil {
		t.Fatal(err)
	}

	for _, mode := range []struct{ name, url, offline, want string }{
		{"server", srv.URL + "/", "0", "server"},
		{"file", "file://" + standalone, "1", "wasm"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cmd := exec.Command("node", filepath.Join(nodeDir, "debug_page.js"), mode.url, casesFile, shotDir, mode.offline)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node debug_page.js: %v\n%s%s", err, out, stderr.Bytes())
			}
			var got struct {
				Mode    string
				Results []struct {
					Name, Status, Text string
					Marked             int
				}
				A11y struct {
					Unlabelled, LowContrast []string
					Keyboard                struct {
						Order   []string
						Focused string
						Found   int
					}
				}
				Errors []string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Mode != mode.want || len(got.Errors) > 0 {
				t.Errorf("mode %q, page errors %q", got.Mode, got.Errors)
			}
			for i, r := range got.Results {
				flat := strings.Join(strings.Fields(r.Text), " ")
				if strings.Contains(r.Text, "(left) and") && r.Marked == 0 {
					t.Errorf("%s: a difference side by side, but no line marked", r.Name)
				}
				for _, want := range cases[i].want {
					if !strings.Contains(flat, want) {
						t.Errorf("%s: the page lacks %q; it shows %s\n%s", r.Name, want, r.Status, r.Text)
					}
				}
			}
			if a := got.A11y; len(a.Unlabelled) > 0 || len(a.LowContrast) > 0 || a.Keyboard.Found == 0 || a.Keyboard.Focused != "result" {
				t.Errorf("accessibility: unlabelled %q, low contrast %q, keyboard %+v", a.Unlabelled, a.LowContrast, a.Keyboard)
			}
		})
	}
	if leaked {
		t.Error("the server received the secret")
	}
}

// TestDebugServe: sigv4 debug serves the page and its explain on
// loopback, refuses another address unless --allow-remote, refuses a
// request carrying a secret, and stops with its context.
func TestDebugServe(t *testing.T) {
	if _, errOut, code := runCLI(t, "", "debug", "--listen", "0.0.0.0:0"); code == 0 || !strings.Contains(errOut, "allow-remote") {
		t.Errorf("a non-loopback address: exit %d: %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var log syncWriter
	done := make(chan error, 1)
	go func() { done <- (&debugOptions{listen: "127.0.0.1:0"}).serve(ctx, &log) }()
	var base string
	for i := 0; i < 100 && base == ""; i++ {
		if _, addr, ok := strings.Cut(log.String(), "open http://"); ok {
			base = "http://" + strings.TrimSpace(addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("no address printed: %q", log.String())
	}
	resp, err := http.Get(base)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Fatalf("GET /: %v %v", err, resp)
	}
	resp.Body.Close()
	for body, want := range map[string]int{`{"request":"GET / HTTP/1.1\nHost: h\n"}`: 200, `{"request":"x","secret":"s"}`: 400} {
		resp, err := http.Post(base+"explain", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != want {
			t.Errorf("POST %s: %v %v, want %d", body, err, resp, want)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after its context ended: %v", err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
