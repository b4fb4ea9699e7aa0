package gateway

import (
	"bytes"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/sigv2"
	"github.com/sigv4/sigv4/postpolicy"
)

// A browser upload (an S3 POST policy form) is verified by package
// postpolicy and goes to the upstream as the PutObject it stands for: the
// key with ${filename} replaced, the Content-Type, metadata, ACL and the
// other object headers of the form; re-signed when the route signs. The
// client gets S3's answer: 204, or 200 or 201 (with the XML) as
// success_action_status asks, or the 303 to success_action_redirect.

// isPostUpload reports whether r is a POST policy upload: a POST of a
// multipart/form-data form that carries no other signature.
func isPostUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get(sigv4.HeaderAuthorization) != "" || authz.IsPresigned(r.URL.RawQuery) {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// postObjectHeaders are the form fields that become headers of the
// PutObject (besides x-amz-meta-* and acl).
var postObjectHeaders = []string{
	"cache-control", "content-disposition", "content-encoding", "content-type", "expires", "content-md5",
	"x-amz-storage-class", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-server-side-encryption-context", "x-amz-server-side-encryption-bucket-key-enabled",
	"x-amz-website-redirect-location", "x-amz-checksum-algorithm", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
	"x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-tagging",
}

// postBucket is the bucket of a POST upload: the first segment of a
// path-style path, else the bucket the host names.
func (g *Gateway) postBucket(r *http.Request) string {
	path := strings.Trim(wirePath(r), "/")
	if path != "" && !strings.Contains(path, "/") {
		b, err := url.PathUnescape(path)
		if err == nil {
			return b
		}
	}
	return sigv2.BucketOfHost(r.Host, g.verifier.VirtualHostDomains)
}

// servePost verifies a POST upload and forwards it as a PutObject.
func (g *Gateway) servePost(x *exchange) {
	bucket := g.postBucket(x.req)
	if bucket == "" {
		g.reject(x, &sigv4.Error{Code: sigv4.ErrInvalidRequest.Code, Status: sigv4.ErrInvalidRequest.Status,
			Message: "A POST upload names its bucket in the path (/bucket) or the host."})
		return
	}
	var raw *rawForm
	if g.postRaw {
		raw = &rawForm{body: x.req.Body}
		x.req.Body = raw.tee()
	}
	pv := &postpolicy.Verifier{Keys: g.verifier.Keys, Regions: g.verifier.Regions, Now: g.verifier.Now}
	up, err := pv.Verify(x.req, bucket)
	g.verdict(x)
	if err != nil {
		g.reject(x, asError(err))
		return
	}
	cred := strings.Split(up.Fields[postpolicy.FieldCredential], "/")
	x.res = &sigv4.Result{Algorithm: "AWS4-HMAC-SHA256", Identity: up.Identity, Time: time.Now(),
		Scope:       sigv4.Scope{Date: cred[1], Region: cred[2], Service: "s3"},
		PayloadHash: sigv4.UnsignedPayload}
	if e := g.authorize(x); e != nil {
		g.reject(x, e)
		return
	}
	var file io.Reader = up.File
	if raw != nil {
		raw.file = up.File
		file = raw
	}
	body, n, clean, e := g.hold(x, file)
	x.clean = clean
	if e == nil {
		e = g.keyWorks(x.req.Context(), x.res)
	}
	if e != nil {
		g.reject(x, e)
		return
	}
	x.post, x.rawForm = up, raw != nil
	x.code = "OK"
	in := x.req.WithContext(x.req.Context())
	if raw == nil {
		in.Method, in.Header = http.MethodPut, postHeaders(x.req.Header, up)
		in.URL = &url.URL{Path: "/" + bucket + "/" + up.Key, RawPath: "/" + escapePath(bucket) + "/" + escapePath(up.Key)}
	}
	in.RequestURI, in.ContentLength, in.TransferEncoding, in.Trailer = "", n, nil, nil
	x.res.ContentLength = n
	x.body = &guardedBody{r: body}
	in.Body = x.body
	if n == 0 {
		in.Body = http.NoBody
	}
	g.proxy.ServeHTTP(x.w, in)
}

// postHeaders are the PutObject headers of a form: the client's
// connection-level ones, and the object headers of its fields.
func postHeaders(client http.Header, up *postpolicy.Upload) http.Header {
	h := http.Header{}
	for _, name := range []string{"User-Agent", "X-Forwarded-For"} {
		if v := client.Values(name); len(v) > 0 {
			h[name] = v
		}
	}
	for name, v := range up.Fields {
		switch {
		case strings.HasPrefix(name, "x-amz-meta-"), slices.Contains(postObjectHeaders, name):
			h.Set(name, v)
		case name == "acl":
			h.Set("X-Amz-Acl", v)
		}
	}
	if up.ContentType != "" {
		h.Set("Content-Type", up.ContentType)
	}
	return h
}

// escapePath escapes a key for a path, as S3 paths are signed: every byte
// but the unreserved ones, segment by segment, the '/' kept.
func escapePath(s string) string {
	var b []byte
	for i, seg := range strings.Split(s, "/") {
		if i > 0 {
			b = append(b, '/')
		}
		b = canonical.AppendEscaped(b, seg)
	}
	return string(b)
}

// postResponse turns the upstream's answer to the PutObject into S3's
// answer to the form.
func postResponse(resp *http.Response, up *postpolicy.Upload) {
	if resp.StatusCode != http.StatusOK {
		return // the upstream's error, as it is
	}
	etag := resp.Header.Get("ETag")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	set := func(status int, body []byte) {
		resp.StatusCode, resp.Status = status, strconv.Itoa(status)+" "+http.StatusText(status)
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		if len(body) > 0 {
			resp.Header.Set("Content-Type", "application/xml")
		} else {
			resp.Header.Del("Content-Type")
		}
	}
	location := "/" + escapePath(up.Bucket) + "/" + escapePath(up.Key)
	if redirect := up.Fields["success_action_redirect"]; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", up.Bucket)
			q.Set("key", up.Key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			set(http.StatusSeeOther, nil)
			resp.Header.Set("Location", u.String())
			return
		}
	}
	resp.Header.Set("Location", location)
	switch up.Fields["success_action_status"] {
	case "200":
		set(http.StatusOK, nil)
	case "201":
		body, _ := xml.Marshal(struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string
			Bucket   string
			Key      string
			ETag     string
		}{Location: location, Bucket: up.Bucket, Key: up.Key, ETag: etag})
		set(http.StatusCreated, append([]byte(xml.Header), body...))
	default:
		set(http.StatusNoContent, nil)
	}
}

// rawForm is the form of a POST upload as the client sent it, for
// Config.PostPolicy PostPassthrough: every byte the verifier reads is kept
// in order, and reading the form reads the verified file to its end
// (checked against the policy as it goes), then what follows it.
type rawForm struct {
	body    io.Reader    // the client's
	file    io.Reader    // the verified file; reading it reads body
	pending bytes.Buffer // bytes of body read, not yet handed on
	scratch [32 << 10]byte
	done    bool
}

// tee is the body the verifier reads: body, kept as it is read.
func (f *rawForm) tee() io.ReadCloser {
	return io.NopCloser(io.TeeReader(f.body, &f.pending))
}

// maxEpilogue bounds what may follow the file part (its closing boundary).
const maxEpilogue = 64 << 10

func (f *rawForm) Read(p []byte) (int, error) {
	for f.pending.Len() == 0 {
		if f.done {
			return 0, io.EOF
		}
		_, err := f.file.Read(f.scratch[:])
		switch {
		case err == io.EOF:
			f.done = true
			// What follows the file, read through the tee into pending.
			if _, err := io.Copy(io.Discard, io.LimitReader(f.tee(), maxEpilogue)); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, err
		}
	}
	return f.pending.Read(p)
}
