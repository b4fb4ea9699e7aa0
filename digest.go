package sigv4

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strings"
)

// Amazon S3 checks a body against its Content-MD5 header, whatever the
// payload mode: a malformed value is InvalidDigest, a body that does not
// match is BadDigest. Result.Body does the same, computing the digest as
// the body is read: it ends in BadDigest instead of io.EOF.

// checkContentMD5 returns body, checked against the request's Content-MD5
// if it has one.
func checkContentMD5(h http.Header, body io.ReadCloser) (io.ReadCloser, error) {
	values := h["Content-Md5"]
	if len(values) == 0 {
		return body, nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(values[0]))
	if len(values) != 1 || err != nil || len(want) != md5.Size {
		return nil, newError(ErrInvalidDigest, "The Content-MD5 you specified was invalid.")
	}
	if body == http.NoBody {
		if sum := md5.Sum(nil); !bytes.Equal(sum[:], want) {
			return nil, errBadMD5()
		}
		return body, nil
	}
	return &digestBody{ReadCloser: body, h: md5.New(), want: want, fail: errBadMD5}, nil
}

func errBadMD5() error {
	return newError(ErrBadDigest, "The Content-MD5 you specified did not match what we received.")
}

// digestBody fails at its end if the digest of what was read is not want.
type digestBody struct {
	io.ReadCloser
	h    hash.Hash
	want []byte
	fail func() error
}

func (d *digestBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		var sum [md5.Size]byte
		if !bytes.Equal(d.h.Sum(sum[:0]), d.want) {
			return 0, d.fail() // the last bytes of a body that failed are not released
		}
	}
	return n, err
}
