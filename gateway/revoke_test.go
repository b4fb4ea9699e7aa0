package gateway_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// revokeAt reads r and calls revoke once offset at is reached: a key
// revoked in the middle of an upload.
type revokeAt struct {
	r      io.Reader
	at, n  int
	revoke func()
	once   sync.Once
}

func (r *revokeAt) Read(p []byte) (int, error) {
	if r.n >= r.at {
		r.once.Do(func() {
			r.revoke()
			time.Sleep(50 * time.Millisecond) // the gateway reads on
		})
	}
	p = p[:min(len(p), max(r.at-r.n, 1<<10))]
	n, err := r.r.Read(p)
	r.n += n
	return n, err
}

// TestRevokedDuringUpload (item 14): an upload whose key is removed while
// its body arrives does not complete upstream, in every payload mode; the
// same upload with the key kept does.
func TestRevokedDuringUpload(t *testing.T) {
	data := testData(256 << 10)
	modes := []struct {
		name string
		sign func(t *testing.T, req *http.Request, body io.Reader)
	}{
		{"hex", func(t *testing.T, req *http.Request, body io.Reader) {
			sum := sha256.Sum256(data)
			req.Header.Set(sigv4.HeaderContentSHA256, hex.EncodeToString(sum[:]))
			mustSign(t, signer("s3"), req)
			req.Body = io.NopCloser(body)
		}},
		{"unsigned", func(t *testing.T, req *http.Request, body io.Reader) {
			s := signer("s3")
			s.UnsignedPayload = true
			mustSign(t, s, req)
			req.Body = io.NopCloser(body)
		}},
		{"streaming", func(t *testing.T, req *http.Request, body io.Reader) {
			req.Body = io.NopCloser(body)
			if err := chunked.Sign(signer("s3"), req, chunked.Options{ChunkSize: 16 << 10}); err != nil {
				t.Fatal(err)
			}
		}},
		{"sts-buffered", func(t *testing.T, req *http.Request, body io.Reader) {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			mustSign(t, signer("sts"), req)
			req.Header.Del(sigv4.HeaderContentSHA256)
			req.Body = io.NopCloser(body)
		}},
	}
	for _, m := range modes {
		for _, revoke := range []bool{false, true} {
			name := m.name + "/kept"
			if revoke {
				name = m.name + "/revoked"
			}
			t.Run(name, func(t *testing.T) {
				keys := &askedKeys{Keyring: sigv4.NewKeyring()}
				keys.Add(creds, sigv4.Identity{Principal: principal})
				v := &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3", "sts"}}
				e := newEnv(t, gateway.Config{Verifier: v})
				path := "/bucket/key"
				if m.name == "sts-buffered" {
					path = "/"
				}
				req := e.request(t, "PUT", path, data)
				body := &revokeAt{r: &sliceReader{b: data}, at: len(data) / 2, revoke: func() {
					// Once the request verified: what is tested is what
					// comes after.
					for deadline := time.Now().Add(5 * time.Second); keys.asked.Load() == 0 && time.Now().Before(deadline); {
						time.Sleep(time.Millisecond)
					}
					if revoke {
						keys.Remove(accessKey)
					}
				}}
				m.sign(t, req, body)
				resp := e.do(t, req)
				got := e.received(t)
				if !revoke {
					if resp.StatusCode != http.StatusOK || len(got) != 1 || string(got[0].Body) != string(data) {
						t.Fatalf("answer %d, %d requests upstream", resp.StatusCode, len(got))
					}
					return
				}
				if resp.StatusCode != http.StatusForbidden || !contains(resp.Body, "InvalidAccessKeyId") {
					t.Errorf("answer %d %s, want InvalidAccessKeyId", resp.StatusCode, resp.Body)
				}
				checkNoneComplete(t, got)
			})
		}
	}
}

// askedKeys counts the questions to its Keyring.
type askedKeys struct {
	*sigv4.Keyring
	asked atomic.Int64
}

func (k *askedKeys) SigningKey(ctx context.Context, accessKeyID string, scope sigv4.Scope) (sigv4.SigningKey, sigv4.Identity, error) {
	k.asked.Add(1)
	return k.Keyring.SigningKey(ctx, accessKeyID, scope)
}

// sliceReader reads b, without the WriterTo that would let net/http copy
// it in one go.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// echoUpstream switches to an echo protocol on Upgrade: echo, and counts
// the connections it has open.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	open int
	seen []http.Header
}

func newEchoUpstream(t *testing.T) *echoUpstream {
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		if r.Header.Get("Upgrade") != "echo" {
			w.Write([]byte("no upgrade\n"))
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		u.mu.Lock()
		u.open++
		u.mu.Unlock()
		defer func() { u.mu.Lock(); u.open--; u.mu.Unlock() }()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		io.Copy(conn, brw)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *echoUpstream) opened() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.open
}

// openTunnel sends a signed upgrade and checks the echo through it.
func openTunnel(t *testing.T, e *env) (net.Conn, *bufio.Reader) {
	t.Helper()
	req := e.request(t, "GET", "/socket", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	mustSign(t, signer("execute-api"), req)
	conn, err := net.Dial("tcp", e.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req.Write(conn)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("answer %d, want 101", resp.StatusCode)
	}
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); line != "ping\n" {
		t.Fatalf("echo %q, %v", line, err)
	}
	return conn, br
}

// closedWithin waits for the tunnel to end.
func closedWithin(t *testing.T, conn net.Conn, br *bufio.Reader, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(d))
	_, err := br.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the tunnel is still open after %v", d)
	}
	return time.Since(start)
}

// TestTunnel (item 2): on a route that allows upgrades, the tunnel works,
// lasts no longer than MaxTunnel, and ends soon after its key is revoked;
// on one that does not, the upstream never sees the Upgrade.
func TestTunnel(t *testing.T) {
	keys := sigv4.NewKeyring()
	keys.Add(creds, sigv4.Identity{Principal: principal})
	v := &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3", "execute-api"}}
	up := newEchoUpstream(t)
	routes := map[string]gateway.Route{
		"execute-api": {Upstream: mustParse(up.URL), Upgrade: true},
		"s3":          {Upstream: mustParse(up.URL)},
	}

	t.Run("max-tunnel", func(t *testing.T) {
		e := newEnv(t, gateway.Config{Verifier: v, Routes: routes, MaxTunnel: time.Second})
		conn, br := openTunnel(t, e)
		if d := closedWithin(t, conn, br, 5*time.Second); d > 2*time.Second {
			t.Errorf("closed %v after opening, MaxTunnel is 1s", d)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		e := newEnv(t, gateway.Config{Verifier: v, Routes: routes})
		conn, br := openTunnel(t, e)
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(conn, "still\n") // the key still works: the tunnel too
		if line, _ := br.ReadString('\n'); line != "still\n" {
			t.Fatalf("echo %q", line)
		}
		keys.Remove(accessKey)
		defer keys.Add(creds, sigv4.Identity{Principal: principal})
		if d := closedWithin(t, conn, br, 5*time.Second); d > 2500*time.Millisecond {
			t.Errorf("closed %v after the key was removed", d)
		}
		deadline := time.Now().Add(2 * time.Second)
		for up.opened() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := up.opened(); n != 0 {
			t.Errorf("the upstream still has %d tunnels open", n)
		}
	})
	t.Run("not-allowed", func(t *testing.T) {
		e := newEnv(t, gateway.Config{Verifier: v, Routes: routes})
		req := e.request(t, "GET", "/socket", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		mustSign(t, signer("s3"), req)
		resp := e.raw(t, req)
		if resp.StatusCode != http.StatusOK || string(resp.Body) != "no upgrade\n" {
			t.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
		}
	})
}
