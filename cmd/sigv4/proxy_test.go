package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// proxyUpstream checks every request with a Verifier of creds, and records
// what it verified.
type proxyUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []proxySeen
}

type proxySeen struct {
	err                      error
	payload, host, auth, key string
	body                     []byte
}

func newProxyUpstream(t *testing.T, creds sigv4.Credentials, service string) *proxyUpstream {
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Services: []string{service}}
	u := &proxyUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := proxySeen{host: r.Host, auth: r.Header.Get("Authorization")}
		res, err := v.Verify(r)
		if err == nil {
			s.body, err = io.ReadAll(res.Body)
			s.payload, s.key = res.PayloadHash, res.Identity.AccessKeyID
		}
		s.err = err
		u.mu.Lock()
		u.seen = append(u.seen, s)
		u.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, "verified")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *proxyUpstream) last(t *testing.T) proxySeen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		t.Fatal("the upstream saw nothing")
	}
	return u.seen[len(u.seen)-1]
}

// startProxy runs sigv4 proxy with o and returns its URL.
func startProxy(t *testing.T, o *proxyOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- o.run(ctx, w); w.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "sigv4 proxy: "); ok {
			go io.Copy(io.Discard, r)
			url, _, _ := strings.Cut(addr, " ")
			return url
		}
	}
	t.Fatal("the proxy did not start")
	return ""
}

func proxyCreds(t *testing.T) sigv4.Credentials {
	c := sigv4.Credentials{AccessKeyID: "AKIAPROXYEXAMPLE0001", SecretAccessKey: "proxy/Secret+Key"}
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return c
}

// TestProxy: unsigned requests reach an upstream that checks signatures,
// signed with the local credentials: an upload of known length streamed as
// signed aws-chunked (plain http), one of unknown length held and hashed,
// a GET whose client named another Host and sent an Authorization of its
// own; for another service, a hashed body.
func TestProxy(t *testing.T) {
	creds := proxyCreds(t)
	up := newProxyUpstream(t, creds, "s3")
	base := startProxy(t, &proxyOptions{upstream: up.URL, listen: "127.0.0.1:0", service: "s3", region: "us-east-1", maxBody: 64 << 20})
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB

	send := func(req *http.Request) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest("PUT", base+"/bucket/known", bytes.NewReader(data))
	send(req)
	if got := up.last(t); got.err != nil || got.payload != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" || !bytes.Equal(got.body, data) || got.key != creds.AccessKeyID {
		t.Errorf("known length: %+v", got)
	}
	req, _ = http.NewRequest("PUT", base+"/bucket/unknown", io.MultiReader(bytes.NewReader(data))) // no length: chunked
	send(req)
	if got := up.last(t); got.err != nil || len(got.payload) != 64 || !bytes.Equal(got.body, data) {
		t.Errorf("unknown length: %v, payload %s, %d bytes", got.err, got.payload, len(got.body))
	}
	req, _ = http.NewRequest("GET", base+"/bucket/known?X-Amz-Signature=forged", nil)
	req.Host = "evil.example"
	req.Header.Set("Authorization", "Bearer not-a-signature")
	send(req)
	if got := up.last(t); got.err != nil || got.host != strings.TrimPrefix(up.URL, "http://") || !strings.HasPrefix(got.auth, "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/") {
		t.Errorf("GET naming another host: %+v", got)
	}

	api := newProxyUpstream(t, creds, "execute-api")
	base = startProxy(t, &proxyOptions{upstream: api.URL, listen: "127.0.0.1:0", service: "execute-api", region: "us-east-1", maxBody: 1 << 20})
	req, _ = http.NewRequest("POST", base+"/prod/items", strings.NewReader(`{"id":1}`))
	send(req)
	if got := api.last(t); got.err != nil || len(got.payload) != 64 || string(got.body) != `{"id":1}` {
		t.Errorf("execute-api POST: %+v", got)
	}
	req, _ = http.NewRequest("POST", base+"/prod/items", bytes.NewReader(make([]byte, 2<<20)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over --max-body: %d", resp.StatusCode)
	}
}

func TestProxyLoopbackOnly(t *testing.T) {
	for listen, ok := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "192.0.2.1:8080": false, "[::]:8080": false,
	} {
		err := checkLoopback(listen, false)
		if ok != (err == nil) || (err != nil && !errors.Is(err, errUsage)) {
			t.Errorf("%s: %v", listen, err)
		}
		if err := checkLoopback(listen, true); err != nil {
			t.Errorf("%s with --allow-remote: %v", listen, err)
		}
	}
	o := &proxyOptions{upstream: "http://127.0.0.1:1", listen: "0.0.0.0:0", service: "s3", region: "us-east-1"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.run(ctx, io.Discard); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("run on 0.0.0.0: %v", err)
	}
}

// TestProxySigV4a: with --sigv4a the proxy signs with SigV4a for every
// region, headers and streamed chunks alike.
func TestProxySigV4a(t *testing.T) {
	creds := proxyCreds(t)
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"eu-central-1"}, Services: []string{"s3"}}
	var mu sync.Mutex
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			got = append(got, err.Error())
			w.WriteHeader(http.StatusForbidden)
			return
		}
		got = append(got, res.Algorithm+" "+res.PayloadHash+" "+strconv.Itoa(len(body)))
	}))
	t.Cleanup(up.Close)
	base := startProxy(t, &proxyOptions{upstream: up.URL, listen: "127.0.0.1:0", service: "s3", sigv4a: true, maxBody: 1 << 20})
	for _, req := range []*http.Request{
		must(http.NewRequest("GET", base+"/bucket/k", nil)),
		must(http.NewRequest("PUT", base+"/bucket/k", bytes.NewReader(make([]byte, 200<<10)))),
	} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"AWS4-ECDSA-P256-SHA256 " + sigv4.EmptySHA256 + " 0", "AWS4-ECDSA-P256-SHA256 STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD 204800"}
	if !slices.Equal(got, want) {
		t.Errorf("the upstream verified %q, want %q", got, want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
