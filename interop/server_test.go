package interop

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// Dummy credentials: nothing here talks to AWS.
const (
	accessKey   = "AKIAINTEROPEXAMPLE01"
	secretKey   = "interop/Secret+Key/EXAMPLEKEYdoNotUse0001"
	wrongSecret = "interop/Wrong+Key/EXAMPLEKEYdoNotUse00002"
	region      = "us-east-1"
	bucket      = "interop-bucket"
)

// outcome is what the server decided about one request.
type outcome struct {
	Method, Path string
	Presigned    bool // the request carried X-Amz-Signature in its query
	// Code is "OK" when the signature and the body verified, otherwise the
	// code of the *sigv4.Error that rejected the request.
	Code   string
	Status int // the status answered, which S3 may make 404 after "OK"
	// AccessKeyID is the verified identity, or, for SignatureDoesNotMatch,
	// the access key the bad signature claimed.
	AccessKeyID string
	// Result.PayloadHash and Result.SignedHeaders, when the signature
	// verified (even if the body then failed: a chunk signature, a
	// checksum).
	PayloadHash   string
	SignedHeaders string
	Err           *sigv4.Error

	// What the client sent, whatever the verdict: the x-amz-content-sha256
	// header it declared, its headers (Go's server keeps Transfer-Encoding
	// and Content-Length out of the map), and the body as it came off the
	// HTTP layer (after HTTP/1.1 chunked decoding), for aws-chunked framing.
	Declared         string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Wire             *wireBody // nil for a request without a body
}

// s3Server is a minimal in-memory, path-style S3 behind sigv4.Verifier.
type s3Server struct {
	*httptest.Server
	verifier *sigv4.Verifier

	// wrapBody, if set, wraps each request body before verification: a
	// test uses it to corrupt the bytes in transit.
	wrapBody func(io.ReadCloser) io.ReadCloser

	mu       sync.Mutex
	buckets  map[string]bool
	objects  map[string][]byte // "bucket/key"
	outcomes []outcome
}

// newS3Server starts a server on 127.0.0.1 that accepts accessKey with
// secretKey, for region us-east-1 and service s3. The test closes it.
func newS3Server(t *testing.T) *s3Server {
	t.Helper()
	s := newS3Handler()
	// httptest listens on 127.0.0.1 (or [::1]) only.
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// newS3TLSServer is newS3Server over HTTPS, with httptest's self-signed
// certificate for 127.0.0.1: s.Client() trusts it, and writeCABundle
// writes it for external clients.
func newS3TLSServer(t *testing.T) *s3Server {
	t.Helper()
	s := newS3Handler()
	s.Server = httptest.NewTLSServer(s)
	t.Cleanup(s.Close)
	return s
}

func newS3Handler() *s3Server {
	return &s3Server{
		verifier: &sigv4.Verifier{
			Keys:     sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
			Regions:  []string{region},
			Services: []string{"s3"},
		},
		buckets: map[string]bool{},
		objects: map[string][]byte{},
	}
}

// putObject stores an object without going through HTTP, so that a test
// with a wrong secret can show that even an existing object is refused.
func (s *s3Server) putObject(bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[bucket] = true
	s.objects[bucket+"/"+key] = data
}

// object returns a stored object.
func (s *s3Server) object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.objects[bucket+"/"+key]
	return data, ok
}

// objectCount is the number of objects stored.
func (s *s3Server) objectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// Outcomes returns what the server decided so far, in arrival order.
func (s *s3Server) Outcomes() []outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outcome(nil), s.outcomes...)
}

// reply is a response computed before it is written, so that the outcome
// is recorded before the client can see the answer and move on.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (s *s3Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := outcome{
		Method: r.Method, Path: r.URL.Path, Presigned: r.URL.Query().Has("X-Amz-Signature"),
		Declared: r.Header.Get("X-Amz-Content-Sha256"), Header: r.Header.Clone(),
		ContentLength: r.ContentLength, TransferEncoding: slices.Clone(r.TransferEncoding),
	}
	if r.Body != nil && r.Body != http.NoBody {
		// A shallow copy: the server must keep its own view of the body
		// (an unread Expect: 100-continue body closes the connection
		// after the reply; an unread plain one is discarded).
		r = r.WithContext(r.Context())
		if s.wrapBody != nil {
			r.Body = s.wrapBody(r.Body)
		}
		o.Wire = &wireBody{body: r.Body}
		r.Body = o.Wire
	}
	var rep reply
	res, body, err := s.verify(r)
	if res != nil {
		// The signature verified, even if the body then failed.
		o.AccessKeyID = res.Identity.AccessKeyID
		o.PayloadHash, o.SignedHeaders = res.PayloadHash, res.SignedHeaders
	}
	if err != nil {
		o.Code, o.Status, o.Err = err.Code, err.Status, err
		if err.AccessKeyID != "" {
			o.AccessKeyID = err.AccessKeyID
		}
		rep = rejectReply(err)
		drainRejected(r, o.Wire)
	} else {
		o.Code = "OK"
		rep = s.serveS3(r, body)
		o.Status = rep.status
	}
	if res != nil {
		res.Body.Close()
	}
	s.mu.Lock()
	s.outcomes = append(s.outcomes, o)
	s.mu.Unlock()

	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
}

// verify checks the signature and reads the verified body in full: a
// declared payload hash, a chunk signature or a trailing checksum is only
// checked as the body is read. A body that fails returns the Result (the
// signature verified) with the error; nothing of it may be stored. The
// caller closes Result.Body, after draining the rest of a failed body.
func (s *s3Server) verify(r *http.Request) (*sigv4.Result, []byte, *sigv4.Error) {
	res, err := s.verifier.Verify(r)
	if err != nil {
		return nil, nil, asSigv4Error(err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return res, nil, asSigv4Error(err)
	}
	return res, body, nil
}

// maxDrain bounds the body read after a rejection.
const maxDrain = 256 << 20

// drainRejected reads the rest of a rejected request's body (up to
// maxDrain), so that a client still sending (an upload refused at its seed
// signature, or in the middle of its chunks) reads the error rather than a
// reset connection. Amazon S3 may answer early and close instead; a test
// wants the client's view of the verdict. A client that sent Expect:
// 100-continue is then asked for its body too: not every client waits for
// the 100 (Go's net/http does not without an ExpectContinueTimeout), and
// one that does would otherwise race the reply against a reset.
func drainRejected(r *http.Request, w *wireBody) {
	if w == nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
}

// wireBody records the body a handler reads: its size, its first and
// last bytes (the aws-chunked framing of the first chunk and the trailer).
type wireBody struct {
	body io.ReadCloser
	n    int64
	head []byte
	tail []byte
}

const wireKeep = 512

func (w *wireBody) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	if n > 0 {
		w.n += int64(n)
		if len(w.head) < wireKeep {
			w.head = append(w.head, p[:min(n, wireKeep-len(w.head))]...)
		}
		w.tail = append(w.tail, p[max(0, n-wireKeep):n]...)
		if len(w.tail) > wireKeep {
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-wireKeep:]...)
		}
	}
	return n, err
}

func (w *wireBody) Close() error { return w.body.Close() }

// asSigv4Error returns err as the *sigv4.Error that Verify and Result.Body
// promise; anything else (a broken connection) is an internal error.
func asSigv4Error(err error) *sigv4.Error {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e
	}
	return &sigv4.Error{Code: sigv4.ErrInternalError.Code, Status: http.StatusInternalServerError, Message: err.Error(), Err: err}
}

// serveS3 answers a verified request: CreateBucket, PutObject, GetObject and
// HeadObject, path-style. Query parameters (x-id=..., response-*) are ignored.
func (s *s3Server) serveS3(r *http.Request, body []byte) reply {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case bucket == "":
		return errorReply(http.StatusNotImplemented, s3Error{Code: "NotImplemented", Message: "ListBuckets is not implemented by the test server."})
	case key == "" && r.Method == http.MethodPut:
		s.buckets[bucket] = true
		return reply{status: http.StatusOK, header: http.Header{"Location": {"/" + bucket}}}
	case key == "":
		return errorReply(http.StatusNotImplemented, s3Error{Code: "NotImplemented", Message: r.Method + " on a bucket is not implemented by the test server."})
	case r.Method == http.MethodPut:
		s.buckets[bucket] = true
		s.objects[bucket+"/"+key] = body
		return reply{status: http.StatusOK, header: http.Header{"Etag": {etag(body)}}}
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		data, ok := s.objects[bucket+"/"+key]
		if !ok {
			return errorReply(http.StatusNotFound, s3Error{Code: "NoSuchKey", Message: "The specified key does not exist."})
		}
		return reply{status: http.StatusOK, body: data, header: http.Header{
			"Etag":          {etag(data)},
			"Content-Type":  {"application/octet-stream"},
			"Last-Modified": {time.Now().UTC().Format(http.TimeFormat)},
		}}
	}
	return errorReply(http.StatusNotImplemented, s3Error{Code: "NotImplemented", Message: r.Method + " is not implemented by the test server."})
}

func etag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// s3Error is the body of an S3 error. Like Amazon S3, a
// SignatureDoesNotMatch also carries what the server signed, which is what
// a developer needs to find where a client differs.
type s3Error struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string
	Message          string
	AWSAccessKeyID   string `xml:"AWSAccessKeyId,omitempty"`
	StringToSign     string `xml:",omitempty"`
	CanonicalRequest string `xml:",omitempty"`
}

// rejectReply answers a verification failure with its code and status.
func rejectReply(e *sigv4.Error) reply {
	return errorReply(e.Status, s3Error{
		Code: e.Code, Message: e.Message, AWSAccessKeyID: e.AccessKeyID,
		StringToSign: e.StringToSign, CanonicalRequest: e.CanonicalRequest,
	})
}

func errorReply(status int, e s3Error) reply {
	body, err := xml.Marshal(e)
	if err != nil {
		panic(err) // strings always marshal
	}
	return reply{
		status: status,
		header: http.Header{"Content-Type": {"application/xml"}},
		body:   append([]byte(xml.Header), body...),
	}
}

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = sigv4.EmptySHA256

// sha256Hex is the payload hash a client signs for data.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// testData is a deterministic body that holds every byte value and is large
// enough for clients to send Expect: 100-continue and several reads.
func testData() []byte {
	data := make([]byte, 100<<10+7)
	x := uint32(2463534242)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}
