package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sigv4/sigv4/gateway"
)

// TestStreamHashedOverlap: with StreamHashedBodies the upstream reads the
// first bytes of a hashed body while the client is still sending it, and
// the whole body once it matched; held (the default), the upstream reads
// nothing before the client sent its last byte.
func TestStreamHashedOverlap(t *testing.T) {
	data := testData(256 << 10)
	sum := sha256.Sum256(data)
	for _, mode := range bodyModes {
		t.Run(mode, func(t *testing.T) {
			first := make(chan int, 1)
			got := make(chan []byte, 1)
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 32<<10)
				n, err := io.ReadAtLeast(r.Body, buf, 1)
				first <- n
				rest, err2 := io.ReadAll(r.Body)
				if err != nil || err2 != nil {
					w.WriteHeader(http.StatusBadRequest)
					got <- nil
					return
				}
				got <- append(buf[:n], rest...)
			}))
			t.Cleanup(up.Close)
			u, _ := url.Parse(up.URL)
			e := newEnv(t, gateway.Config{Upstream: u, StreamHashedBodies: mode == "streamed"})

			pr, pw := io.Pipe()
			req, err := http.NewRequest("PUT", e.front.URL+"/bucket/key", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(data))
			if err := signer("s3").SignPayload(req, hex.EncodeToString(sum[:])); err != nil {
				t.Fatal(err)
			}
			answer := make(chan *http.Response, 1)
			go func() {
				resp, err := e.client.Do(req)
				if err != nil {
					t.Error(err)
				}
				answer <- resp
			}()
			half := len(data) / 2
			if _, err := pw.Write(data[:half]); err != nil {
				t.Fatal(err)
			}
			wait := 10 * time.Second
			if mode == "held" {
				wait = 300 * time.Millisecond // what it would take to arrive
			}
			select {
			case n := <-first:
				if mode == "held" {
					t.Fatalf("the upstream read %d bytes of a held body before the client sent its last", n)
				}
				t.Logf("the upstream read %d bytes while the client had sent %d of %d", n, half, len(data))
			case <-time.After(wait):
				if mode == "streamed" {
					t.Fatalf("the upstream read nothing of a streamed body in %v, %d of %d bytes sent", wait, half, len(data))
				}
			}
			pw.Write(data[half:])
			pw.Close()
			resp := <-answer
			if resp == nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("answer %d", resp.StatusCode)
			}
			if b := <-got; !bytes.Equal(b, data) {
				t.Errorf("the upstream got %d bytes, want the %d sent", len(b), len(data))
			}
		})
	}
}
