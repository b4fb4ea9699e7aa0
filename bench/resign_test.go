package bench

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

// answerer is an upstream in process: it reads the body and answers 200,
// so that a benchmark measures the proxy and not the network.
type answerer struct{}

func (answerer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, ContentLength: 0, Request: r}, nil
}

// BenchmarkGatewayResign serves a small signed GET and a 1 MiB hashed PUT,
// in process, through a bare ReverseProxy (stock, and with pooled copy
// buffers as the gateway's), the gateway (and, for the PUT,
// the gateway streaming hashed bodies), and the gateway signing again with the upstream's credentials; and unsigned requests
// through the signing proxy (sigv4 proxy).
func BenchmarkGatewayResign(b *testing.B) {
	u, _ := url.Parse("http://upstream.invalid")
	creds, plain := loadGateway(b, u, nil, answerer{})
	up := sigv4.Credentials{AccessKeyID: "AKIAUPSTREAMBENCH001", SecretAccessKey: "upstream/bench/secret"}
	rcreds, resign := loadGateway(b, u, &gateway.Signing{Credentials: gateway.StaticCredentials(up)}, answerer{})
	screds, stream := loadGateway(b, u, nil, answerer{}, streamHashed)
	bare := httputil.NewSingleHostReverseProxy(u)
	bare.Transport = answerer{}
	pooled := httputil.NewSingleHostReverseProxy(u)
	pooled.Transport, pooled.BufferPool = answerer{}, &benchBuffers{}
	sp, err := gateway.NewSigningProxy(gateway.ProxyConfig{Upstream: u, Credentials: gateway.StaticCredentials(up),
		Service: "s3", Region: "us-east-1", Transport: answerer{}})
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for _, c := range []struct {
		name    string
		handler http.Handler
		req     func() *http.Request
	}{
		// The bare proxies get the gateway's requests, signature and all:
		// the same headers to copy.
		{"GET/bare", bare, func() *http.Request { return wireReq(b, signedGET(b, creds, "http://gw")) }},
		{"GET/bare-pooled", pooled, func() *http.Request { return wireReq(b, signedGET(b, creds, "http://gw")) }},
		{"GET/gateway", plain, func() *http.Request { return wireReq(b, signedGET(b, creds, "http://gw")) }},
		{"GET/gateway+resign", resign, func() *http.Request { return wireReq(b, signedGET(b, rcreds, "http://gw")) }},
		{"GET/signing-proxy", sp, func() *http.Request { return httptest.NewRequest("GET", "http://gw/bucket/small.txt", nil) }},
		{"PUT1MiB/bare", bare, func() *http.Request { return wireReq(b, withBody(signedPUT(b, creds, "http://gw", body), body)) }},
		{"PUT1MiB/gateway", plain, func() *http.Request { return wireReq(b, withBody(signedPUT(b, creds, "http://gw", body), body)) }},
		{"PUT1MiB/gateway+stream", stream, func() *http.Request { return wireReq(b, withBody(signedPUT(b, screds, "http://gw", body), body)) }},
		{"PUT1MiB/gateway+resign", resign, func() *http.Request { return wireReq(b, withBody(signedPUT(b, rcreds, "http://gw", body), body)) }},
		{"PUT1MiB/signing-proxy", sp, func() *http.Request {
			return httptest.NewRequest("PUT", "http://gw/bucket/big.bin", bytes.NewReader(body))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tmpl := c.req()
			var raw []byte
			if tmpl.Body != nil && tmpl.Body != http.NoBody {
				raw, _ = io.ReadAll(tmpl.Body)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				req := tmpl.Clone(tmpl.Context())
				req.Body = http.NoBody // as a server gives a request without one
				if len(raw) > 0 {
					req.Body = io.NopCloser(bytes.NewReader(raw))
				}
				w := httptest.NewRecorder()
				c.handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("answer %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func withBody(r *http.Request, body []byte) *http.Request {
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

// wireReq is a client request as a server receives it.
func wireReq(b *testing.B, r *http.Request) *http.Request {
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		b.Fatal(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		b.Fatal(err)
	}
	got.RemoteAddr = "127.0.0.1:40000"
	return got
}
