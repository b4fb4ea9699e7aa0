package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// TestV4aStreamForward: an upload in SigV4a-signed chunks (and with a
// signed trailer) reaches the upstream decoded; with a byte changed in
// its second chunk it is refused and the upstream never gets a complete
// request.
func TestV4aStreamForward(t *testing.T) {
	data := testData(3*(8<<10) + 11)
	for _, checksum := range []string{"", "crc32c"} {
		t.Run("checksum="+checksum, func(t *testing.T) {
			sign := func(e *env) *http.Request {
				req := e.request(t, "PUT", "/bucket/v4a-stream", data)
				s := &sigv4.Signer{Credentials: creds, Service: "s3", RegionSet: []string{"*"}}
				if err := chunked.Sign(s, req, chunked.Options{Checksum: checksum, ChunkSize: 8 << 10}); err != nil {
					t.Fatal(err)
				}
				return req
			}
			e := newEnv(t, gateway.Config{})
			resp := e.do(t, sign(e))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
			}
			got := e.received(t)
			if len(got) != 1 || !bytes.Equal(got[0].Body, data) {
				t.Fatalf("the upstream received %d requests; want the decoded %d bytes", len(got), len(data))
			}

			e = newEnv(t, gateway.Config{})
			req := sign(e)
			wire, _ := io.ReadAll(req.Body)
			wire[bytes.Index(wire, data[(8<<10)+5:(8<<10)+40])] ^= 1
			req.Body = io.NopCloser(bytes.NewReader(wire))
			resp = e.do(t, req)
			if resp.StatusCode != http.StatusForbidden || !bytes.Contains(resp.Body, []byte("SignatureDoesNotMatch")) {
				t.Fatalf("tampered: answer %d: %s", resp.StatusCode, resp.Body)
			}
			for _, r := range e.received(t) {
				if r.Complete {
					t.Fatalf("the upstream received a complete request of %d bytes", len(r.Body))
				}
			}
		})
	}
}
