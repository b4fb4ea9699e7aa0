package replay_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/replay"
)

// redisURL is the machine's Redis (127.0.0.1:6379, or $SIGV4_REDIS), or
// the test is skipped (failed under CI=true).
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("SIGV4_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	r, err := replay.NewRedis(u)
	if err == nil {
		err = r.Ping(context.Background())
	}
	if err != nil {
		msg := fmt.Sprintf("no Redis at %s (%v): run one on 127.0.0.1:6379 or set SIGV4_REDIS", u, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

func key(s string) replay.Key { return replay.Key(sha256.Sum256([]byte(s + time.Now().String()))) }

func TestMemory(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	m := &replay.Memory{Max: 2, Now: func() time.Time { return now }}
	ctx := context.Background()
	a, b, c := key("a"), key("b"), key("c")
	if seen, err := m.Seen(ctx, a, now.Add(time.Minute)); seen || err != nil {
		t.Fatalf("first: %v %v", seen, err)
	}
	if seen, _ := m.Seen(ctx, a, now.Add(time.Minute)); !seen {
		t.Error("the second was not seen")
	}
	m.Seen(ctx, b, now.Add(time.Hour))
	if _, err := m.Seen(ctx, c, now.Add(time.Hour)); err != replay.ErrFull {
		t.Errorf("full: %v", err)
	}
	now = now.Add(2 * time.Minute) // a expired: room for c, and a is new again
	if seen, err := m.Seen(ctx, c, now.Add(time.Hour)); seen || err != nil {
		t.Errorf("after expiry: %v %v", seen, err)
	}
}

func TestRedis(t *testing.T) {
	r, err := replay.NewRedis(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := replay.NewRedis(redisURL(t)) // another gateway's client
	ctx := context.Background()
	k := key("redis")
	if seen, err := r.Seen(ctx, k, time.Now().Add(3*time.Second)); seen || err != nil {
		t.Fatalf("first: %v %v", seen, err)
	}
	if seen, err := other.Seen(ctx, k, time.Now().Add(3*time.Second)); !seen || err != nil {
		t.Errorf("at another client: %v %v", seen, err)
	}
	ttl, err := r.Client.PTTL(ctx, "sigv4:replay:"+string(k[:])).Result()
	if err != nil || ttl <= 0 || ttl > 3*time.Second {
		t.Errorf("the entry expires in %v (%v), want within the signature's 3 s", ttl, err)
	}
}

// TestReplayAcrossGateways: two gateways on one Redis: the very bytes of a
// request accepted by one are refused by the other; with their Redis
// stopped, each refuses (503) by default.
func TestReplayAcrossGateways(t *testing.T) {
	redisURL(t)
	// A Redis of this test's own, to stop it.
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is missing")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	var r1, r2 *replay.Redis
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r1, _ = replay.NewRedis(u)
		if r1.Ping(context.Background()) == nil || time.Now().After(deadline) {
			break
		}
	}
	r2, _ = replay.NewRedis(u)

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "stored") }))
	defer upstream.Close()
	up, _ := url.Parse(upstream.URL)
	creds := sigv4.Credentials{AccessKeyID: "AKIDREPLAY", SecretAccessKey: "replay-secret"}
	gw := func(c replay.Cache) string {
		g, err := gateway.New(gateway.Config{Upstream: up, Replay: c, Logger: slog.New(slog.DiscardHandler),
			Verifier: &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Services: []string{"s3"}}})
		if err != nil {
			t.Fatal(err)
		}
		s := httptest.NewServer(g)
		t.Cleanup(s.Close)
		return s.URL
	}
	first, second := gw(r1), gw(r2)
	send := func(base string, req *http.Request) int {
		out := req.Clone(context.Background())
		out.URL, _ = url.Parse(base + req.URL.RequestURI())
		out.Host = req.Host // the host signed
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	req, _ := http.NewRequest("GET", "http://gateway.test/bucket/k", nil)
	if err := (&sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: "s3"}).Sign(req); err != nil {
		t.Fatal(err)
	}
	if got := send(first, req); got != 200 {
		t.Fatalf("at the first gateway: %d", got)
	}
	if got := send(second, req); got != http.StatusForbidden {
		t.Errorf("the same bytes at the second gateway: %d, want 403 AccessDenied", got)
	}
	srv.Process.Kill()
	srv.Wait()
	fresh, _ := http.NewRequest("GET", "http://gateway.test/bucket/other", nil)
	(&sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: "s3"}).Sign(fresh)
	if got := send(second, fresh); got != http.StatusServiceUnavailable {
		t.Errorf("Redis stopped: %d, want 503", got)
	}
}
