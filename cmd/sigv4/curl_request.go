package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/internal/canonical"
)

// body is what a request sends: bytes in memory, or a file (standard
// input is spooled to one, as a streamed upload must announce its length).
type body struct {
	data []byte
	file string
	size int64
}

// request builds the unsigned request. cleanup removes a spooled file.
func (o *curlOptions) request(ctx context.Context, u *url.URL, stdin io.Reader) (*http.Request, func(), error) {
	b, cleanup, err := o.body(stdin)
	if err != nil {
		return nil, cleanup, err
	}
	req, err := http.NewRequestWithContext(ctx, o.methodFor(b), u.String(), nil)
	if err != nil {
		return nil, cleanup, err
	}
	req.URL = u // as typed: the escaping and the order of the query are the user's
	// User-Agent is not signed, as the SDKs sign it not: proxies change it.
	req.Header.Set("User-Agent", "sigv4/"+moduleVersion())
	if o.upload != "" {
		req.Header.Set("Expect", "100-continue") // as curl -T: a refusal before the body
	}
	if err := addHeaders(req.Header, o.headers); err != nil {
		return nil, cleanup, err
	}
	switch {
	case len(o.forms) > 0:
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+formBoundary)
	case o.json != "": // as curl --json
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if !o.userHeader("Accept") {
			req.Header.Set("Accept", "application/json")
		}
	case (o.data != "" || o.dataBinary != "") && req.Header.Get("Content-Type") == "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl
	}
	attachBody(req, b)
	return req, cleanup, nil
}

func (o *curlOptions) methodFor(b *body) string {
	switch {
	case o.method != "":
		return strings.ToUpper(o.method)
	case o.head:
		return http.MethodHead
	case o.upload != "":
		return http.MethodPut
	case b != nil:
		return http.MethodPost
	}
	return http.MethodGet
}

// body reads -d, --data-binary or -T.
func (o *curlOptions) body(stdin io.Reader) (*body, func(), error) {
	none := func() {}
	form := ""
	if len(o.forms) > 0 {
		form = "-F"
	}
	if countSet(o.data, o.dataBinary, o.upload, o.json, form) > 1 {
		return nil, none, fmt.Errorf("give only one of -d, --data-binary, --json, -F and -T: %w", errUsage)
	}
	switch {
	case form != "":
		return o.formBody(stdin)
	case o.json != "":
		d, err := dataArg(o.json, stdin)
		return &body{data: d, size: int64(len(d))}, none, err
	case o.data != "":
		d, err := dataArg(o.data, stdin)
		d = bytes.ReplaceAll(bytes.ReplaceAll(d, []byte("\r"), nil), []byte("\n"), nil) // as curl -d
		return &body{data: d, size: int64(len(d))}, none, err
	case o.dataBinary != "":
		d, err := dataArg(o.dataBinary, stdin)
		return &body{data: d, size: int64(len(d))}, none, err
	case o.upload == "-":
		return spool(stdin)
	case o.upload != "":
		fi, err := os.Stat(o.upload)
		if err != nil {
			return nil, none, exitErrorf(26, "cannot read %s: %v", o.upload, err)
		}
		return &body{file: o.upload, size: fi.Size()}, none, nil
	}
	return nil, none, nil
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// dataArg is a -d value: the text itself, or @FILE (@- for standard input).
func dataArg(v string, stdin io.Reader) ([]byte, error) {
	name, ok := strings.CutPrefix(v, "@")
	switch {
	case !ok:
		return []byte(v), nil
	case name == "-":
		return io.ReadAll(stdin)
	}
	d, err := os.ReadFile(name)
	if err != nil {
		return nil, exitErrorf(26, "cannot read %s: %v", name, err)
	}
	return d, nil
}

// spool copies standard input to a temporary file: an aws-chunked upload
// must give its length (x-amz-decoded-content-length) before the first
// byte, and a hashed one must hash the body before sending it.
func spool(stdin io.Reader) (*body, func(), error) {
	f, err := os.CreateTemp("", "sigv4-upload-*")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	n, err := io.Copy(f, stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, cleanup, exitErrorf(26, "reading standard input: %v", err)
	}
	return &body{file: f.Name(), size: n}, cleanup, nil
}

// attachBody sets the body and GetBody (so the signer can hash a file
// without holding it, and a retry can send it again).
func attachBody(req *http.Request, b *body) {
	if b == nil {
		return
	}
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.data)), nil }
	if b.file != "" {
		open = func() (io.ReadCloser, error) { return os.Open(b.file) }
	}
	req.GetBody = open
	req.Body, _ = open()
	req.ContentLength = b.size
	if b.size == 0 {
		req.Body = http.NoBody
	}
}

// sign signs req: a streamed upload for S3 uploads from standard input or
// of large files, otherwise with the body's hash (or UNSIGNED-PAYLOAD).
func (o *curlOptions) sign(s *sigv4.Signer, req *http.Request) error {
	if o.streams(s, req) {
		return chunked.Sign(s, req, chunked.Options{Unsigned: o.unsignedPayload, Checksum: o.trailer, ChunkSize: o.chunkSize})
	}
	if o.trailer != "" {
		return fmt.Errorf("--trailer applies to streamed uploads: S3 uploads with -T - or of files over --stream-over bytes: %w", errUsage)
	}
	return s.Sign(req)
}

func (o *curlOptions) streams(s *sigv4.Signer, req *http.Request) bool {
	if o.upload == "" || !canonical.IsS3Service(s.Service) || req.ContentLength == 0 {
		return false
	}
	return o.upload == "-" || req.ContentLength > o.streamOver || o.trailer != ""
}
