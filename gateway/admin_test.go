package gateway_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/gateway"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestMetrics(t *testing.T) {
	e := newEnv(t, gateway.Config{KeyCacheStats: func() (uint64, uint64) { return 7, 3 }})
	ok := e.request(t, "PUT", "/bucket/key", []byte("hello"))
	mustSign(t, signer("s3"), ok)
	bad := e.request(t, "GET", "/bucket/key", nil)
	s := signer("s3")
	s.Credentials.SecretAccessKey = "wrong"
	mustSign(t, s, bad)
	e.do(t, ok)
	e.do(t, bad)

	admin := httptest.NewServer(e.gw.AdminHandler())
	defer admin.Close()
	metrics := get(t, admin.URL+"/metrics", 200)
	for _, want := range []string{
		`sigv4_gateway_requests_total{code="OK",method="PUT"} 1`,
		`sigv4_gateway_requests_total{code="SignatureDoesNotMatch",method="GET"} 1`,
		`sigv4_gateway_request_duration_seconds_count{method="PUT"} 1`,
		`sigv4_gateway_received_bytes_total 5`,
		`sigv4_gateway_key_cache_hits_total 7`,
		`sigv4_gateway_key_cache_misses_total 3`,
		`sigv4_gateway_requests_in_flight 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("no %s in /metrics", want)
		}
	}
	if t.Failed() {
		t.Log(metrics)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	admin := httptest.NewServer(e.gw.AdminHandler())
	defer admin.Close()
	get(t, admin.URL+"/healthz", 200)
	e.gw.Drain()
	get(t, admin.URL+"/healthz", 503)

	// The gateway's own listener reserves no path: /healthz is the
	// upstream's, and unsigned.
	resp, err := http.Get(e.front.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("unsigned /healthz on the gateway: %d, want 403", resp.StatusCode)
	}
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d\n%s", url, resp.StatusCode, status, body)
	}
	return string(body)
}

// TestLog checks the one line per request, and that nothing secret is in
// it.
func TestLog(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	req := e.request(t, "PUT", "/bucket/key?X-Amz-Meta=1", []byte("hello"))
	mustSign(t, signer("s3"), req)
	sig := req.Header.Get("Authorization")
	e.do(t, req)
	bad := e.request(t, "GET", "/bucket/other", nil)
	s := signer("s3")
	s.Credentials.SecretAccessKey = "wrong"
	mustSign(t, s, bad)
	e.do(t, bad)

	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), e.logs)
	}
	for i, want := range []map[string]any{
		{"msg": "request", "method": "PUT", "path": "/bucket/key", "status": 200.0, "code": "OK", "access_key_id": accessKey, "bytes_in": 5.0},
		{"msg": "request", "method": "GET", "path": "/bucket/other", "status": 403.0, "code": "SignatureDoesNotMatch", "access_key_id": accessKey},
	} {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		for _, k := range []string{"request_id", "duration", "bytes_out"} {
			if _, ok := got[k]; !ok {
				t.Errorf("line %d: no %s", i, k)
			}
		}
	}
	_, signature, _ := strings.Cut(sig, "Signature=")
	for _, secretish := range []string{secret, "wrong", signature, "Authorization", "X-Amz-Meta"} {
		if strings.Contains(e.logs.String(), secretish) {
			t.Errorf("the log holds %q", secretish)
		}
	}
}
