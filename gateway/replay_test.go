package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/replay"
)

// brokenCache is a replay cache that cannot answer (Redis down).
type brokenCache struct{}

func (brokenCache) Seen(context.Context, replay.Key, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}
func (brokenCache) Ping(context.Context) error { return errors.New("connection refused") }

// resend sends the very bytes of req again (a replay) and returns the
// answer's status.
func resend(t *testing.T, e *env, req *http.Request, body []byte) int {
	t.Helper()
	again := req.Clone(context.Background())
	if body != nil {
		again.Body = io.NopCloser(bytes.NewReader(body))
	}
	return e.do(t, again).StatusCode
}

// TestReplay: with a replay cache, the same signed request sent twice is
// accepted once, refused (AccessDenied) the second time; a presigned URL
// may be fetched twice unless ReplayPresigned; a new signature of the same
// request is accepted.
func TestReplay(t *testing.T) {
	for _, presigned := range []bool{false, true} {
		e := newEnv(t, gateway.Config{Replay: &replay.Memory{}, ReplayPresigned: presigned})
		body := []byte("once only")
		req := e.request(t, "PUT", "/bucket/k", body)
		mustSign(t, signer("s3"), req)
		if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("first: %d %s", resp.StatusCode, resp.Body)
		}
		again := req.Clone(context.Background())
		again.Body = io.NopCloser(bytes.NewReader(body))
		checkError(t, e.do(t, again), http.StatusForbidden, "AccessDenied")
		fresh := e.request(t, "PUT", "/bucket/k", body)
		time.Sleep(1100 * time.Millisecond) // a new X-Amz-Date: another signature
		mustSign(t, signer("s3"), fresh)
		if resp := e.do(t, fresh); resp.StatusCode != http.StatusOK {
			t.Errorf("signed again: %d %s", resp.StatusCode, resp.Body)
		}

		url := e.request(t, "GET", "/bucket/k", nil)
		if err := signer("s3").Presign(url, time.Minute); err != nil {
			t.Fatal(err)
		}
		if resp := e.do(t, url); resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned: %d", resp.StatusCode)
		}
		want := http.StatusOK
		if presigned {
			want = http.StatusForbidden
		}
		if got := resend(t, e, url, nil); got != want {
			t.Errorf("ReplayPresigned %v: a presigned URL fetched twice: %d, want %d", presigned, got, want)
		}
	}
}

// TestReplayCacheDown: a replay cache that cannot answer refuses requests
// (503 ServiceUnavailable) by default, and /healthz says down; with
// ReplayFailOpen they are accepted, counted, and /healthz says degraded.
func TestReplayCacheDown(t *testing.T) {
	for _, open := range []bool{false, true} {
		e := newEnv(t, gateway.Config{Replay: brokenCache{}, ReplayFailOpen: open})
		req := e.request(t, "GET", "/bucket/k", nil)
		mustSign(t, signer("s3"), req)
		resp := e.do(t, req)
		admin := httptest.NewServer(e.gw.AdminHandler())
		defer admin.Close()
		h, err := http.Get(admin.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		health, _ := io.ReadAll(h.Body)
		h.Body.Close()
		m, _ := http.Get(admin.URL + "/metrics")
		metrics, _ := io.ReadAll(m.Body)
		m.Body.Close()
		if open {
			if resp.StatusCode != http.StatusOK || h.StatusCode != 200 || !strings.HasPrefix(string(health), "degraded") ||
				!strings.Contains(string(metrics), `sigv4_gateway_replay_checks_total{outcome="unchecked"} 1`) {
				t.Errorf("fail-open: %d, healthz %d %q, metrics:\n%s", resp.StatusCode, h.StatusCode, health, grepLines(metrics, "replay"))
			}
			continue
		}
		checkError(t, resp, http.StatusServiceUnavailable, "ServiceUnavailable")
		if h.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(health), "down") ||
			!strings.Contains(string(metrics), `sigv4_gateway_replay_checks_total{outcome="unavailable"} 1`) {
			t.Errorf("refuse: healthz %d %q, metrics:\n%s", h.StatusCode, health, grepLines(metrics, "replay"))
		}
		if n := len(e.received(t)); n != 0 {
			t.Errorf("the upstream received %d requests", n)
		}
	}
}

func grepLines(b []byte, s string) string {
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
