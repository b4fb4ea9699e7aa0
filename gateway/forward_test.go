package gateway_test

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
)

// The attacks of issue 11 on what is forwarded: each sends what a client
// can send, byte for byte, and checks what the upstream received.

// raw sends req on a connection of its own, as req.Write writes it (the
// Connection header, dot segments and malformed escapes included, which
// http.Client would not send), and reads the answer.
func (e *env) raw(t *testing.T, req *http.Request) response {
	t.Helper()
	conn, err := net.Dial("tcp", e.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
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

// presignedPUT returns a presigned PUT of body whose signature covers its
// Content-MD5 and x-amz-checksum-sha256, as SDKs presign integrity.
func presignedPUT(t *testing.T, e *env, body []byte) *http.Request {
	t.Helper()
	req := e.request(t, "PUT", "/bucket/key", body)
	md := md5.Sum(body)
	sum := sha256.Sum256(body)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(md[:]))
	req.Header.Set("X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("If-None-Match", "*")
	if err := signer("s3").Presign(req, time.Hour); err != nil {
		t.Fatal(err)
	}
	return req
}

// withBody returns a copy of req with another body.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	r.ContentLength = int64(len(body))
	return r
}

// TestConnectionStripsSigned (item 1): a Connection header naming signed
// headers would make the proxy remove them after verification, and a
// presigned PUT could be replayed with another body and no integrity
// header. It is refused, as is any Connection naming an end-to-end
// header; Connection: keep-alive or close is not.
func TestConnectionStripsSigned(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	good, evil := testData(4096), testData(4096)
	evil[0] ^= 1
	req := presignedPUT(t, e, good)

	for _, conn := range []string{
		"Content-MD5, X-Amz-Checksum-Sha256",
		"keep-alive, x-amz-checksum-sha256",
		"If-None-Match",
		"X-Unsigned-Thing", // not signed, but not hop-by-hop either
		"Upgrade, Content-MD5",
	} {
		r := withBody(req, evil)
		r.Header.Set("Connection", conn)
		resp := e.raw(t, r)
		checkError(t, resp, http.StatusBadRequest, "InvalidRequest")
	}
	if got := e.received(t); len(got) != 0 {
		t.Fatalf("the upstream received %d requests: %+v", len(got), got[0].Header)
	}

	for _, conn := range []string{"keep-alive", "close", "Keep-Alive, TE", "Upgrade, HTTP2-Settings"} {
		r := withBody(req, good)
		r.Header.Set("Connection", conn)
		if resp := e.raw(t, r); resp.StatusCode != http.StatusOK {
			t.Fatalf("Connection: %s: answer %d: %s", conn, resp.StatusCode, resp.Body)
		}
	}
	got := e.received(t)
	if len(got) != 4 {
		t.Fatalf("the upstream received %d requests, want 4", len(got))
	}
	for _, r := range got {
		for _, h := range []string{"Content-Md5", "X-Amz-Checksum-Sha256", "If-None-Match"} {
			if r.Header.Get(h) != req.Header.Get(h) {
				t.Errorf("upstream got %s %q, want %q", h, r.Header.Get(h), req.Header.Get(h))
			}
		}
		if string(r.Body) != string(good) {
			t.Error("upstream got another body")
		}
	}
}

// TestUpgradeRemoved (item 2): without a route that allows upgrades, the
// upstream never sees Upgrade, so it cannot switch protocols, and bytes
// the client sends after the answer are parsed, and verified, as a next
// request.
func TestUpgradeRemoved(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	req := e.request(t, "GET", "/socket", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	mustSign(t, signer("s3"), req)

	conn, err := net.Dial("tcp", e.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req.Write(conn)
	// What a client would write into the tunnel: a forged identity.
	io.WriteString(conn, "GET /admin HTTP/1.1\r\nHost: x\r\nX-Sigv4-Access-Key: AKIDADMIN\r\n\r\n")
	br := bufio.NewReader(conn)
	first, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, first.Body)
	if first.StatusCode != http.StatusOK {
		t.Fatalf("answer %d, want 200 from the upstream", first.StatusCode)
	}
	second, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(second.Body)
	checkError(t, response{second, body}, http.StatusForbidden, "AccessDenied")

	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests, want 1", len(got))
	}
	for _, h := range []string{"Upgrade", "Connection"} {
		if v := got[0].Header.Get(h); v != "" {
			t.Errorf("upstream got %s: %s", h, v)
		}
	}
}

// TestQueryAsSigned (item 3): the query of a presigned GET reaches the
// upstream as verified, response-content-disposition and
// response-content-type with their ";" included; a query with a '%' that
// starts no escape is refused.
func TestQueryAsSigned(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	const query = "response-content-disposition=attachment%3B%20filename%3D%22a.txt%22" +
		"&response-content-type=text/plain;charset=utf-8&versionId=3%2F4"
	req := e.request(t, "GET", "/bucket/key?"+query, nil)
	if err := signer("s3").Presign(req, time.Hour); err != nil {
		t.Fatal(err)
	}
	if resp := e.raw(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	if want := strings.ReplaceAll(query, ";", "%3B"); got[0].RawQuery != want {
		t.Errorf("upstream query\n%s\nwant\n%s", got[0].RawQuery, want)
	}
	q, err := url.ParseQuery(got[0].RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	if v := q.Get("response-content-disposition"); v != `attachment; filename="a.txt"` {
		t.Errorf("response-content-disposition %q", v)
	}
	if v := q.Get("response-content-type"); v != "text/plain;charset=utf-8" {
		t.Errorf("response-content-type %q", v)
	}

	for _, bad := range []string{"x=%zz", "x=%4", "x=1&%", "prefix=a%2"} {
		req := e.request(t, "GET", "/bucket/key", nil)
		req.URL.RawQuery = bad
		mustSign(t, signer("s3"), req)
		checkError(t, e.raw(t, req), http.StatusBadRequest, "InvalidArgument")
	}
	if got := e.received(t); len(got) != 1 {
		t.Fatalf("the upstream received %d requests, want 1", len(got))
	}
}

// TestRoutesByService (item 4): a key limited to STS signs for STS; with
// an S3 upstream, its requests go to whoami (the route of sts), never to
// the upstream; a service with no route is refused; and the upstream is
// told the verified scope.
func TestRoutesByService(t *testing.T) {
	ctx := t.Context()
	store, err := credstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "keys.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, stsOnly, err := store.Create(ctx, "sts-only", credstore.CreateOptions{Services: []string{"sts"}})
	if err != nil {
		t.Fatal(err)
	}
	_, anyKey, err := store.Create(ctx, "any", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: store, Regions: []string{region}, Services: []string{"s3", "sts", "dynamodb"}}
	up := newUpstream(t)
	e := newEnv(t, gateway.Config{Verifier: v,
		Routes: map[string]gateway.Route{"sts": {}, "s3": {Upstream: mustParse(up.URL)}}})

	send := func(c sigv4.Credentials, service, method string) response {
		req := e.request(t, method, "/bucket/key", []byte("data"))
		s := &sigv4.Signer{Credentials: c, Region: region, Service: service}
		mustSign(t, s, req)
		return e.do(t, req)
	}
	for _, m := range []string{"PUT", "GET", "DELETE"} {
		if resp := send(stsOnly, "sts", m); resp.StatusCode == http.StatusOK && !strings.Contains(string(resp.Body), stsOnly.AccessKeyID) {
			t.Errorf("%s signed for sts: answer %d %s, want whoami's", m, resp.StatusCode, resp.Body)
		}
		checkError(t, send(stsOnly, "s3", m), http.StatusForbidden, "InvalidAccessKeyId")
	}
	if resp := send(anyKey, "dynamodb", "PUT"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(resp.Body), "<Code>AccessDenied</Code>") {
		t.Errorf("dynamodb, which has no route: answer %d %s, want AccessDenied", resp.StatusCode, resp.Body)
	}
	if resp := send(anyKey, "s3", "PUT"); resp.StatusCode != http.StatusOK {
		t.Fatalf("s3: answer %d: %s", resp.StatusCode, resp.Body)
	}
	if got := up.received(t, int(e.dials.Load())); len(got) != 1 {
		t.Fatalf("the upstream received %d requests, want only the s3 one", len(got))
	} else if s, r := got[0].Header.Get(gateway.HeaderService), got[0].Header.Get(gateway.HeaderRegion); s != "s3" || r != region {
		t.Errorf("upstream got service %q region %q", s, r)
	}
	if got := e.up.received(t, 0); len(got) != 0 {
		t.Errorf("the env's upstream received %d requests", len(got))
	}
}

// TestPathPrefix (item 5): behind an upstream path prefix, no spelling of
// a dot segment climbs out of it; a path that stays inside is forwarded
// as sent.
func TestPathPrefix(t *testing.T) {
	up := newUpstream(t)
	e := newEnv(t, gateway.Config{Upstream: mustParse(up.URL + "/tenant-a/")})
	for _, p := range []string{
		"/../admin", "/%2e%2e/admin", "/%2E%2e/admin", "/.%2e/admin", "/bucket/../../admin",
		"/bucket/..%2f..%2fadmin", "/bucket%2F..%2F..%2Fadmin", "/bucket/..%5c..%5cadmin",
		"/bucket\\..\\..\\admin", "/./../admin", "/bucket//../../admin",
	} {
		req := e.request(t, "GET", "/", nil)
		req.URL = &url.URL{Scheme: "http", Host: req.URL.Host, Opaque: p}
		mustSign(t, signer("s3"), req)
		checkError(t, e.raw(t, req), http.StatusBadRequest, "InvalidURI")
	}
	if got := up.received(t, int(e.dials.Load())); len(got) != 0 {
		t.Fatalf("the upstream received %s", got[0].Path)
	}
	for _, p := range []string{"/bucket/a/../b", "/bucket/%2e%2e", "/bucket/a%2Fb"} {
		req := e.request(t, "GET", "/", nil)
		req.URL = &url.URL{Scheme: "http", Host: req.URL.Host, Opaque: p}
		mustSign(t, signer("s3"), req)
		if resp := e.raw(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: answer %d: %s", p, resp.StatusCode, resp.Body)
		}
	}
	got := up.received(t, int(e.dials.Load()))
	if len(got) != 3 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	for i, want := range []string{"/tenant-a/bucket/a/../b", "/tenant-a/bucket/%2e%2e", "/tenant-a/bucket/a%2Fb"} {
		if p := cmpOr(got[i].RawPath, got[i].Path); p != want {
			t.Errorf("upstream path %q, want %q", p, want)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestOverrideHeaders (item 6): headers that make frameworks see another
// method, path or client are removed in any spelling, signed or not, but
// those configured; an unsigned x_amz_ spelling is refused.
func TestOverrideHeaders(t *testing.T) {
	overrides := map[string]string{
		"X-Http-Method-Override": "DELETE", "X-Original-Url": "/admin", "X-Rewrite-Url": "/admin",
		"X-Real-Ip": "10.0.0.1", "X_Real_IP": "10.0.0.2", "X-Forwarded-For": "10.0.0.3",
		"X-Forwarded-Host": "admin.internal", "Forwarded": "for=10.0.0.4", "True-Client-Ip": "10.0.0.5",
	}
	for _, keep := range [][]string{nil, {"X-Real-IP", "x-forwarded-for"}} {
		e := newEnv(t, gateway.Config{ForwardOverrides: keep})
		req := e.request(t, "GET", "/bucket/key", nil)
		for k, v := range overrides {
			req.Header[k] = []string{v}
		}
		mustSign(t, signer("s3"), req)
		if resp := e.raw(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
		}
		got := e.received(t)
		if len(got) != 1 {
			t.Fatalf("the upstream received %d requests", len(got))
		}
		h := got[0].Header
		for k := range overrides {
			v, kept := h[k]
			switch {
			case k == "X-Real-Ip" && keep != nil:
				if !kept {
					t.Errorf("%s not forwarded though configured", k)
				}
			case k == "X-Forwarded-For" && keep != nil:
				if len(v) != 1 || v[0] != "10.0.0.3, 127.0.0.1" {
					t.Errorf("X-Forwarded-For %q, want the one sent and the client's address", v)
				}
			case k == "X-Forwarded-For":
				if len(v) != 1 || v[0] != "127.0.0.1" {
					t.Errorf("X-Forwarded-For %q, want only the client's address", v)
				}
			case k == "X-Forwarded-Host":
				if len(v) != 1 || v[0] != req.Host {
					t.Errorf("X-Forwarded-Host %q, want %q", v, req.Host)
				}
			case kept:
				t.Errorf("upstream got %s: %q", k, v)
			}
		}
	}

	e := newEnv(t, gateway.Config{})
	req := e.request(t, "PUT", "/bucket/key", []byte("x"))
	mustSign(t, signer("s3"), req)
	req.Header["X_Amz_Acl"] = []string{"public-read-write"} // after signing
	checkError(t, e.raw(t, req), http.StatusForbidden, "AccessDenied")
	if got := e.received(t); len(got) != 0 {
		t.Fatal("the upstream received an unsigned x_amz_acl")
	}
}
