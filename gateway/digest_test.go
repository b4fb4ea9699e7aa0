package gateway_test

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// TestContentMD5Forward: in every payload mode, an upload whose body does
// not match its Content-MD5 is answered BadDigest and the upstream gets
// no complete request; with the right digest it gets the body and the
// header.
func TestContentMD5Forward(t *testing.T) {
	data := testData(200 << 10)
	sum := md5.Sum(data)
	good := base64.StdEncoding.EncodeToString(sum[:])
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)-1] ^= 1 // the last byte: only the end can tell
	modes := map[string]func(t *testing.T, req *http.Request){
		"hex": func(t *testing.T, req *http.Request) { mustSign(t, signer("s3"), req) },
		"unsigned": func(t *testing.T, req *http.Request) {
			s := signer("s3")
			s.UnsignedPayload = true
			mustSign(t, s, req)
		},
		"streaming": chunkedSign(chunked.Options{ChunkSize: 16 << 10}),
	}
	for name, sign := range modes {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, gateway.Config{})
			req := e.request(t, "PUT", "/bucket/key", data)
			req.Header.Set("Content-MD5", good)
			sign(t, req)
			if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
				t.Fatalf("the right digest: answer %d: %s", resp.StatusCode, resp.Body)
			}
			got := e.received(t)
			if len(got) != 1 || !got[0].Complete || string(got[0].Body) != string(data) || got[0].Header.Get("Content-Md5") != good {
				t.Fatalf("the upstream received %d requests", len(got))
			}

			req = e.request(t, "PUT", "/bucket/key", corrupt)
			req.Header.Set("Content-MD5", good)
			sign(t, req)
			checkError(t, e.do(t, req), http.StatusBadRequest, "BadDigest")
			checkNoneComplete(t, e.received(t)[1:])
		})
	}
}
