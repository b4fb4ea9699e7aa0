package gateway_test

import (
	"crypto/md5"
	"encoding/base64"
	"hash/crc32"
	"net/http"
	"testing"

	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// TestDigestForward: in every payload mode, an upload whose body does not
// match its Content-MD5 or x-amz-checksum-crc32 is answered BadDigest and
// the upstream gets no complete request; with the right digest it gets
// the body and the header.
func TestDigestForward(t *testing.T) {
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
	crc := crc32.ChecksumIEEE(data)
	checksum := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	for name, sign := range modes {
		for _, header := range []string{"Content-MD5", "X-Amz-Checksum-Crc32"} {
			good := good
			if header != "Content-MD5" {
				good = checksum
			}
			testDigestForward(t, name+"/"+header, gateway.Config{}, sign, header, good, data, corrupt)
			if name == "hex" {
				streamed := gateway.Config{StreamHashedBodies: true}
				testDigestForward(t, name+"/streamed/"+header, streamed, sign, header, good, data, corrupt)
			}
		}
	}
}

func testDigestForward(t *testing.T, name string, cfg gateway.Config, sign func(*testing.T, *http.Request), header, good string, data, corrupt []byte) {
	{
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, cfg)
			req := e.request(t, "PUT", "/bucket/key", data)
			req.Header.Set(header, good)
			sign(t, req)
			if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
				t.Fatalf("the right digest: answer %d: %s", resp.StatusCode, resp.Body)
			}
			got := e.received(t)
			if len(got) != 1 || !got[0].Complete || string(got[0].Body) != string(data) || got[0].Header.Get(header) != good {
				t.Fatalf("the upstream received %d requests", len(got))
			}

			req = e.request(t, "PUT", "/bucket/key", corrupt)
			req.Header.Set(header, good)
			sign(t, req)
			checkError(t, e.do(t, req), http.StatusBadRequest, "BadDigest")
			checkNoneComplete(t, e.received(t)[1:])
		})
	}
}
