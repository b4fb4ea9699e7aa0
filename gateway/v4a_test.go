package gateway_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
	"github.com/sigv4/sigv4/gateway"
)

// signV4a signs req with SigV4a for S3 and regionSet, now.
func signV4a(t *testing.T, req *http.Request, c sigv4.Credentials, regionSet string) {
	t.Helper()
	if err := storetest.SignV4a(req, c, regionSet, "s3", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestV4aForward: a SigV4a (AWS4-ECDSA-P256-SHA256) PUT with a body and a
// GET pass through a gateway whose Verifier holds a Keyring, for a
// wildcard and a list of regions, and reach the upstream with the body,
// the identity headers and no authentication.
func TestV4aForward(t *testing.T) {
	data := testData(40<<10 + 3)
	for _, set := range []string{"*", "us-west-2,us-east-1"} {
		t.Run(set, func(t *testing.T) {
			e := newEnv(t, gateway.Config{MaxMemoryBody: 16 << 10})
			put := e.request(t, "PUT", "/bucket/dir/key%20with%20space.bin", data)
			signV4a(t, put, creds, set)
			get := e.request(t, "GET", "/bucket/dir/key%20with%20space.bin", nil)
			signV4a(t, get, creds, set)
			var resps []response
			for _, req := range []*http.Request{put, get} {
				resp := e.do(t, req)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: answer %d: %s", req.Method, resp.StatusCode, resp.Body)
				}
				resps = append(resps, resp)
			}
			got := e.received(t)
			if len(got) != 2 {
				t.Fatalf("the upstream received %d requests, want 2", len(got))
			}
			checkForwarded(t, got[0], resps[0], data)
			checkForwarded(t, got[1], resps[1], nil)
			for _, r := range got {
				if r.Path != "/bucket/dir/key with space.bin" {
					t.Errorf("upstream path %q", r.Path)
				}
			}
			if v := got[0].Header.Get(sigv4.HeaderContentSHA256); v != put.Header.Get(sigv4.HeaderContentSHA256) {
				t.Errorf("upstream got x-amz-content-sha256 %q, want the client's", v)
			}
		})
	}
}

// TestV4aCredstore: a gateway whose Verifier uses a credstore.Store (as
// "sigv4 serve" builds it) forwards SigV4a requests of the store's keys,
// sessions included, with their identity; refuses a wrong secret, a
// disabled key, a session without its token and a region set outside the
// verifier's regions, and the upstream sees none of those.
func TestV4aCredstore(t *testing.T) {
	ctx := t.Context()
	store, err := credstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "keys.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	k, c, err := store.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, sc, err := store.Session(ctx, k.AccessKeyID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: store, Regions: []string{region}, Services: []string{"s3", "sts"}}
	e := newEnv(t, gateway.Config{Verifier: v, KeyCacheStats: store.CacheStats})
	data := testData(10 << 10)

	for _, cr := range []sigv4.Credentials{c, sc} {
		req := e.request(t, "PUT", "/bucket/key", data)
		signV4a(t, req, cr, "*")
		resp := e.do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: answer %d: %s", cr.AccessKeyID, resp.StatusCode, resp.Body)
		}
	}
	got := e.received(t)
	if len(got) != 2 {
		t.Fatalf("the upstream received %d requests, want 2", len(got))
	}
	for i, cr := range []sigv4.Credentials{c, sc} {
		r := got[i]
		if !r.Complete || string(r.Body) != string(data) {
			t.Errorf("%s: upstream got %d bytes (complete %v)", cr.AccessKeyID, len(r.Body), r.Complete)
		}
		if a, p := r.Header.Get(gateway.HeaderAccessKey), r.Header.Get(gateway.HeaderPrincipal); a != cr.AccessKeyID || p != k.Principal {
			t.Errorf("upstream identity %q %q, want %q %q", a, p, cr.AccessKeyID, k.Principal)
		}
		for _, h := range authHeaders {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("upstream got %s: %s", h, v)
			}
		}
	}

	wrong := c
	wrong.SecretAccessKey = "not/the/secret/of/alice/at/all/00000000"
	noToken := sc
	noToken.SessionToken = ""
	for _, tc := range []struct {
		name   string
		creds  sigv4.Credentials
		set    string
		status int
		code   string
	}{
		{"wrong secret", wrong, "*", http.StatusForbidden, "SignatureDoesNotMatch"},
		{"session without token", noToken, "*", http.StatusBadRequest, "InvalidToken"},
		{"region set outside", c, "eu-west-1,eu-central-1", http.StatusBadRequest, "AuthorizationHeaderMalformed"},
	} {
		req := e.request(t, "PUT", "/bucket/refused", data)
		signV4a(t, req, tc.creds, tc.set)
		checkError(t, e.do(t, req), tc.status, tc.code)
	}
	if err := store.Disable(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	for _, cr := range []sigv4.Credentials{c, sc} { // a session ends with its parent
		req := e.request(t, "GET", "/bucket/key", nil)
		signV4a(t, req, cr, "*")
		checkError(t, e.do(t, req), http.StatusForbidden, "InvalidAccessKeyId")
	}
	if n := len(e.received(t)); n != 2 {
		t.Errorf("the upstream received %d requests, want only the 2 accepted", n)
	}
	if hits, misses := store.CacheStats(); misses == 0 || hits == 0 {
		t.Errorf("CacheStats = %d hits, %d misses: the public keys were not cached", hits, misses)
	}
}
