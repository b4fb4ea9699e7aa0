package gateway_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

const (
	accessKey = "AKIDGATEWAYTEST"
	secret    = "gateway/test/secret+key"
	region    = "us-east-1"
	principal = "arn:aws:iam::123456789012:user/alice"
)

var creds = sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}

// newVerifier accepts creds, as alice, for S3, STS and a JSON service.
func newVerifier() *sigv4.Verifier {
	keys := sigv4.NewKeyring()
	keys.Add(creds, sigv4.Identity{Principal: principal})
	return &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3", "sts", "dynamodb"}}
}

func signer(service string) *sigv4.Signer {
	return &sigv4.Signer{Credentials: creds, Region: region, Service: service}
}

// received is what the recording upstream got: everything, and whether
// the request arrived complete.
type received struct {
	Method, Path, RawPath, RawQuery, Host string
	Header                                http.Header
	ContentLength                         int64
	TransferEncoding                      []string
	Body                                  []byte
	Complete                              bool
	Err                                   error
}

// upstream records every request it receives and the state of every
// connection, so that a test can wait until it has seen all there was.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	got   []received
	conns map[net.Conn]http.ConnState
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{conns: make(map[net.Conn]http.ConnState)}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.Config.ConnState = func(c net.Conn, s http.ConnState) {
		u.mu.Lock()
		u.conns[c] = s
		u.mu.Unlock()
	}
	u.Start()
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rec := received{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery, Host: r.Host,
		Header: r.Header.Clone(), ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
		Body: body, Err: err,
		Complete: err == nil && (r.ContentLength < 0 || int64(len(body)) == r.ContentLength),
	}
	u.mu.Lock()
	u.got = append(u.got, rec)
	u.mu.Unlock()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Amz-Request-Id", "UPSTREAMID")
	w.Write([]byte("stored\n"))
}

// received returns the requests received once every connection the
// gateway dialed is idle or closed: a request the gateway aborted has then
// been seen to its (broken) end.
func (u *upstream) received(t *testing.T, dialed int) []received {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u.mu.Lock()
		settled := len(u.conns) == dialed
		for _, s := range u.conns {
			if s != http.StateIdle && s != http.StateClosed {
				settled = false
			}
		}
		got := append([]received(nil), u.got...)
		u.mu.Unlock()
		if settled {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upstream did not settle: %d connections dialed, states %v", dialed, u.states())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (u *upstream) states() []http.ConnState {
	u.mu.Lock()
	defer u.mu.Unlock()
	var s []http.ConnState
	for _, st := range u.conns {
		s = append(s, st)
	}
	return s
}

// env is a recording upstream behind a Gateway behind an httptest server.
type env struct {
	up     *upstream
	gw     *gateway.Gateway
	front  *httptest.Server
	dials  atomic.Int64
	logs   *syncBuffer
	client *http.Client
}

// newEnv starts an env; cfg.Verifier, Upstream (without Routes),
// Transport and Logger are filled in unless set.
func newEnv(t testing.TB, cfg gateway.Config) *env {
	t.Helper()
	e := &env{up: newUpstream(t), logs: &syncBuffer{}}
	if cfg.Verifier == nil {
		cfg.Verifier = newVerifier()
	}
	if cfg.Upstream == nil && cfg.Routes == nil {
		cfg.Upstream, _ = url.Parse(e.up.URL)
	}
	if cfg.Transport == nil {
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		cfg.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			e.dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		}}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	e.front = httptest.NewServer(gw)
	t.Cleanup(e.front.Close)
	e.client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// received is what the upstream got, once it settled.
func (e *env) received(t *testing.T) []received {
	t.Helper()
	return e.up.received(t, int(e.dials.Load()))
}

// request returns a request to the gateway.
func (e *env) request(t *testing.T, method, path string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.front.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// response is an answer of the gateway, read whole.
type response struct {
	*http.Response
	Body []byte
}

func (e *env) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return response{resp, body}
}

// s3Error is an error as the gateway writes it in XML.
type s3Error struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string
	Message          string
	RequestID        string `xml:"RequestId"`
	AWSAccessKeyID   string `xml:"AWSAccessKeyId"`
	StringToSign     string
	CanonicalRequest string
}

// checkError checks that resp is the XML error code with status.
func checkError(t *testing.T, resp response, status int, code string) s3Error {
	t.Helper()
	var e s3Error
	if err := xml.Unmarshal(resp.Body, &e); err != nil {
		t.Fatalf("answer %d is not an XML error: %v\n%s", resp.StatusCode, err, resp.Body)
	}
	if resp.StatusCode != status || e.Code != code {
		t.Fatalf("answer %d %s (%s), want %d %s", resp.StatusCode, e.Code, e.Message, status, code)
	}
	if id := resp.Header.Get("X-Amz-Request-Id"); id == "" || id != e.RequestID {
		t.Errorf("x-amz-request-id %q, RequestId %q: want the same, not empty", id, e.RequestID)
	}
	if resp.Header.Get("Date") == "" {
		t.Error("no Date header in the error")
	}
	return e
}

// checkNoneComplete checks that the upstream received no complete request.
func checkNoneComplete(t *testing.T, got []received) {
	t.Helper()
	for _, r := range got {
		if r.Complete {
			t.Errorf("the upstream received a complete %s %s (%d bytes)", r.Method, r.Path, len(r.Body))
		} else {
			t.Logf("the upstream saw a broken request: %d of %d bytes, %v", len(r.Body), r.ContentLength, r.Err)
		}
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testData is a deterministic body holding every byte value.
func testData(n int) []byte {
	data := make([]byte, n)
	x := uint32(2463534242)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}
