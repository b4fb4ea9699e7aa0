package sigv4

import (
	"cmp"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/chunk"
)

// Amazon S3 checks a body against its Content-MD5 header and its
// x-amz-checksum-* header, whatever the payload mode: a malformed value is
// refused at once (InvalidDigest, InvalidRequest), a body that does not
// match fails at its end (BadDigest). Result.Body does the same, computing
// the digests as the body is read.

// checksumHeaders are the checksum headers S3 reads, canonical case.
var checksumHeaders = []string{
	"X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c", "X-Amz-Checksum-Crc64nvme",
	"X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256",
}

// checksumParams are their names as a presigned query carries them.
var checksumParams = [...]string{
	"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256",
}

// headerSDKChecksumAlgorithm names the algorithm of the checksum an SDK
// sent, in a header or a trailer.
const headerSDKChecksumAlgorithm = "X-Amz-Sdk-Checksum-Algorithm"

// digest is one check of a body: its hash and the value sent.
type digest struct {
	h    hash.Hash
	want []byte
	fail func() error
}

// checkDigests returns body, checked against the digests its headers
// declare. CompleteMultipartUpload is left alone: its checksum headers
// are the object's, not its XML body's.
func checkDigests(req *http.Request, body io.ReadCloser, presigned bool) (io.ReadCloser, error) {
	if req.Method == http.MethodPost && strings.Contains(req.URL.RawQuery, "uploadId=") {
		return body, nil
	}
	query := ""
	if presigned { // only a presigned URL's query carries its headers
		query = req.URL.RawQuery
	}
	checks, err := digests(req.Header, query)
	if err != nil || len(checks) == 0 {
		return body, err
	}
	if body == http.NoBody {
		return body, endOf(checks)
	}
	return &digestBody{ReadCloser: body, checks: checks}, nil
}

// CheckBody returns body checked as Amazon S3 checks an upload against
// the Content-MD5 and x-amz-checksum-* headers of h: a malformed or
// repeated value is refused at once (InvalidDigest, InvalidRequest), and
// a body that does not match fails at its end with BadDigest, withholding
// the bytes of the read that found it. Verify does this itself; CheckBody
// is for bodies that come otherwise, such as the file of a POST form.
func CheckBody(h http.Header, body io.Reader) (io.Reader, error) {
	checks, err := digests(h, "")
	if err != nil || len(checks) == 0 {
		return body, err
	}
	return &digestBody{ReadCloser: io.NopCloser(body), checks: checks}, nil
}

// digests are the checks h, or the query of a presigned URL, declares.
func digests(h http.Header, rawQuery string) ([]digest, error) {
	var checks []digest
	md, err := contentMD5(h)
	if err != nil {
		return nil, err
	}
	if md.h != nil {
		checks = append(checks, md)
	}
	sum, err := checksumHeader(h, rawQuery)
	if err != nil {
		return nil, err
	}
	if sum.h != nil {
		checks = append(checks, sum)
	}
	return checks, nil
}

func contentMD5(h http.Header) (digest, error) {
	values := h["Content-Md5"]
	if len(values) == 0 {
		return digest{}, nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(values[0]))
	if len(values) != 1 || err != nil || len(want) != md5.Size {
		return digest{}, newError(ErrInvalidDigest, "The Content-MD5 you specified was invalid.")
	}
	return digest{h: md5.New(), want: want, fail: func() error {
		return newError(ErrBadDigest, "The Content-MD5 you specified did not match what we received.")
	}}, nil
}

// checksumHeader reads the one x-amz-checksum-* of a request, a header or
// a parameter of its query (where the JS SDK v3 hoists it when it
// presigns), and checks it against x-amz-sdk-checksum-algorithm if that
// is sent too.
func checksumHeader(h http.Header, rawQuery string) (digest, error) {
	var name, value string
	q := queryChecksums(rawQuery)
	for i, n := range checksumHeaders {
		values := h[n]
		if v := q.sums[i]; v != "" {
			values = append(values[:len(values):len(values)], v)
		}
		if len(values) == 0 {
			continue
		}
		if name != "" || len(values) > 1 {
			return digest{}, newError(ErrInvalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		name, value = checksumParams[i], values[0]
	}
	if name == "" {
		return digest{}, nil
	}
	alg := cmp.Or(headerValue(h, headerSDKChecksumAlgorithm), q.algorithm)
	if alg != "" && chunk.ChecksumName(alg) != name {
		return digest{}, newError(ErrInvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
	}
	d := digest{h: chunk.NewChecksum(name)}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil || len(want) != d.h.Size() {
		return digest{}, newError(ErrInvalidRequest, "Value for "+name+" header is invalid.")
	}
	d.want = want
	d.fail = func() error {
		return newError(ErrBadDigest, "The "+name+" you specified did not match the calculated checksum.")
	}
	return d, nil
}

// checksumQuery is what a presigned query says of checksums: a value per
// checksumParams, and the SDK's algorithm.
type checksumQuery struct {
	sums      [len(checksumParams)]string
	algorithm string
}

// queryChecksums reads the checksum parameters of a presigned query in
// one pass, as authz.QueryValue reads each (names compared decoded, the
// last of a name kept, a value that does not decode ignored).
func queryChecksums(rawQuery string) checksumQuery {
	var q checksumQuery
	for rest := rawQuery; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, "&")
		// The names sought are lower case and 20 bytes at least.
		if len(field) < len("x-amz-checksum-sha1") || field[0] != 'x' && field[0] != '%' {
			continue
		}
		raw, rawValue, _ := strings.Cut(field, "=")
		n := authz.ParamName(raw)
		slot := &q.algorithm
		if i := slices.Index(checksumParams[:], n); i >= 0 {
			slot = &q.sums[i]
		} else if n != "x-amz-sdk-checksum-algorithm" {
			continue
		}
		if v, err := url.QueryUnescape(rawValue); err == nil {
			*slot = v
		}
	}
	return q
}

// endOf checks the digests of a body read to its end.
func endOf(checks []digest) error {
	var sum [64]byte
	for _, c := range checks {
		if subtle.ConstantTimeCompare(c.h.Sum(sum[:0]), c.want) != 1 {
			return c.fail()
		}
	}
	return nil
}

// digestBody fails at its end if a digest of what was read is not the
// one sent. The bytes of the read that found the failure are not
// released.
type digestBody struct {
	io.ReadCloser
	checks []digest
}

func (d *digestBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	for _, c := range d.checks {
		c.h.Write(p[:n])
	}
	if err == io.EOF {
		if e := endOf(d.checks); e != nil {
			return 0, e
		}
	}
	return n, err
}
