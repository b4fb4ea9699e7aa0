package bench

import (
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"testing"

	"github.com/sigv4/sigv4/internal/chunk"
)

// BenchmarkVerifyDigest verifies a 1 MiB UNSIGNED-PAYLOAD PUT read to its
// end: with no digest header, with Content-MD5, and with each
// x-amz-checksum-* header; and reads the same body through the same
// buffer into each digest alone (the floor). Verify with a digest should
// cost what the floor does.
func BenchmarkVerifyDigest(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 31)
	}
	digests := []struct {
		header string
		h      func() hash.Hash
	}{
		{"Content-MD5", md5.New},
		{"x-amz-checksum-crc32", func() hash.Hash { return chunk.NewChecksum("x-amz-checksum-crc32") }},
		{"x-amz-checksum-crc32c", func() hash.Hash { return chunk.NewChecksum("x-amz-checksum-crc32c") }},
		{"x-amz-checksum-crc64nvme", func() hash.Hash { return chunk.NewChecksum("x-amz-checksum-crc64nvme") }},
		{"x-amz-checksum-sha1", func() hash.Hash { return chunk.NewChecksum("x-amz-checksum-sha1") }},
		{"x-amz-checksum-sha256", func() hash.Hash { return chunk.NewChecksum("x-amz-checksum-sha256") }},
	}
	verify := func(b *testing.B, header, value string) {
		req, _ := http.NewRequest(http.MethodPut, "https://bucket.s3.us-east-1.amazonaws.com/key", nil)
		if header != "" {
			req.Header.Set(header, value)
		}
		s := ourS3Signer()
		s.Now, s.UnsignedPayload = fixedNow, true
		if err := s.Sign(req); err != nil {
			b.Fatal(err)
		}
		req = serverRequest(b, req, data)
		v, body := newVerifier(fixedNow), new(rewindBody)
		buf := make([]byte, 32<<10)
		b.SetBytes(int64(len(data)))
		run(b, func() error {
			body.Reset(data)
			req.Body = body
			res, err := v.Verify(req)
			if err == nil {
				_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{res.Body}, buf)
			}
			return err
		})
	}
	b.Run("verify/none", func(b *testing.B) { verify(b, "", "") })
	for _, d := range digests {
		h := d.h()
		h.Write(data)
		value := base64.StdEncoding.EncodeToString(h.Sum(nil))
		b.Run("verify/"+d.header, func(b *testing.B) { verify(b, d.header, value) })
		b.Run("floor/"+d.header, func(b *testing.B) {
			// The body read as a server reads it, through a buffer, and
			// hashed: the least a server that checks the digest can do.
			body, buf := new(rewindBody), make([]byte, 32<<10)
			b.SetBytes(int64(len(data)))
			run(b, func() error {
				body.Reset(data)
				h := d.h()
				_, err := io.CopyBuffer(h, struct{ io.Reader }{body}, buf)
				h.Sum(nil)
				return err
			})
		})
	}
}
