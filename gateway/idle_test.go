package gateway

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// TestIdleTimeout: a client that stops sending its body loses the
// connection after IdleTimeout, though the server has no read timeout; one
// that keeps sending, slowly, is not cut off.
func TestIdleTimeout(t *testing.T) {
	creds := sigv4.Credentials{AccessKeyID: "AKIDIDLE", SecretAccessKey: "idle/secret"}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer upstream.Close()
	upstreamURL, _ := url.Parse(upstream.URL)
	g, err := New(Config{
		Verifier:    &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Services: []string{"s3"}},
		Upstream:    upstreamURL,
		Logger:      slog.New(slog.DiscardHandler),
		IdleTimeout: 1500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	// send declares a body of n bytes, sends sent of them, one every pause,
	// and reads the answer.
	send := func(t *testing.T, pause time.Duration, n, sent int) (closedAfter time.Duration, status string) {
		req, _ := http.NewRequest("PUT", srv.URL+"/bucket/key", strings.NewReader(strings.Repeat("x", n)))
		signer := &sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: "s3", UnsignedPayload: true}
		if err := signer.Sign(req); err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := "PUT /bucket/key HTTP/1.1\r\nHost: " + req.Host + "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n"
		for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
			head += k + ": " + req.Header.Get(k) + "\r\n"
		}
		conn.Write([]byte(head + "\r\n"))
		start := time.Now()
		for range sent {
			time.Sleep(pause)
			if _, err := conn.Write([]byte("x")); err != nil {
				return time.Since(start), "write failed"
			}
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return time.Since(start), "closed"
		}
		return time.Since(start), resp.Status
	}
	t.Run("stalled", func(t *testing.T) {
		// Two bytes declared, one sent, then silence: the request must end
		// at about 1.5 s.
		after, status := send(t, 0, 2, 1)
		// The gateway answers the broken upload (or the connection just
		// goes) once the idle timeout passes, not when the client gives up.
		ended := status == "closed" || status == "write failed" || strings.HasPrefix(status, "4") || strings.HasPrefix(status, "5")
		if !ended || after < time.Second || after > 5*time.Second {
			t.Fatalf("after %v: %s; want the request ended after about 1.5 s", after, status)
		}
	})
	t.Run("slow but steady", func(t *testing.T) {
		// A byte every 0.5 s for 4 s: longer than the idle timeout in all,
		// never idle that long.
		_, status := send(t, 500*time.Millisecond, 8, 8)
		if status != "200 OK" {
			t.Fatalf("got %s, want 200 OK", status)
		}
	})
}
