package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// upstreamCreds are the upstream's own: clients never see them.
var upstreamCreds = sigv4.Credentials{AccessKeyID: "AKIAUPSTREAMEXAMPLE1", SecretAccessKey: "upstream/Secret+Key/EXAMPLE"}

// checking is an upstream that checks its own signatures, with its own
// Verifier and keys, and records what it verified and what it saw.
type checking struct {
	*httptest.Server
	mu   sync.Mutex
	seen []checked
}

type checked struct {
	res    *sigv4.Result
	err    error
	body   []byte
	header http.Header
	query  string
}

func newChecking(t *testing.T, regions ...string) *checking {
	t.Helper()
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(upstreamCreds), Regions: regions, Services: []string{"s3", "sts", "dynamodb"}}
	c := &checking{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
		}
		c.mu.Lock()
		c.seen = append(c.seen, checked{res: res, err: err, body: body, header: r.Header.Clone(), query: r.URL.RawQuery})
		c.mu.Unlock()
		var e *sigv4.Error
		if errors.As(err, &e) {
			w.WriteHeader(e.Status)
			io.WriteString(w, "<Error><Code>"+e.Code+"</Code><StringToSign>"+e.StringToSign+"</StringToSign></Error>")
			return
		}
		io.WriteString(w, "stored")
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *checking) last(t *testing.T) checked {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		t.Fatal("the upstream saw nothing")
	}
	return c.seen[len(c.seen)-1]
}

func resignEnv(t *testing.T, up *checking, s *gateway.Signing) *env {
	t.Helper()
	u, _ := url.Parse(up.URL)
	v := newVerifier()
	v.SigV2 = true
	return newEnv(t, gateway.Config{Verifier: v, Upstream: u, Signing: s})
}

// TestResign: every inbound form (hex-hashed, unsigned, streamed with a
// trailer, presigned, SigV2) reaches an upstream that checks signatures
// signed with the upstream's credentials, the body intact, and nothing of
// the client's credentials in it.
func TestResign(t *testing.T) {
	up := newChecking(t, region)
	e := resignEnv(t, up, &gateway.Signing{Credentials: gateway.StaticCredentials(upstreamCreds)})
	data := testData(300 << 10)
	for name, c := range map[string]struct {
		method, path string
		body         []byte
		sign         func(*testing.T, *http.Request)
		payload      string // what the upstream was signed with
	}{
		"hex": {"PUT", "/bucket/hex", data, func(t *testing.T, r *http.Request) { mustSign(t, signer("s3"), r) }, "hex"},
		"unsigned": {"PUT", "/bucket/unsigned", data, func(t *testing.T, r *http.Request) {
			s := signer("s3")
			s.UnsignedPayload = true
			mustSign(t, s, r)
		}, sigv4.UnsignedPayload},
		"streamed with a trailer": {"PUT", "/bucket/streamed", data,
			chunkedSign(chunked.Options{Checksum: "CRC32C", ChunkSize: 64 << 10}), chunked.SignedPayloadTrailer},
		"presigned GET": {"GET", "/bucket/k?versionId=3", nil, func(t *testing.T, r *http.Request) {
			if err := signer("s3").Presign(r, time.Minute); err != nil {
				t.Fatal(err)
			}
		}, "hex"},
		"SigV2 PUT": {"PUT", "/bucket/v2", data, func(t *testing.T, r *http.Request) { signV2(r, creds, "") }, sigv4.UnsignedPayload},
		"STS": {"POST", "/", []byte("Action=GetCallerIdentity&Version=2011-06-15"), func(t *testing.T, r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			mustSign(t, signer("sts"), r)
		}, "hex"},
	} {
		t.Run(name, func(t *testing.T) {
			req := e.request(t, c.method, c.path, c.body)
			c.sign(t, req)
			resp := e.do(t, req)
			if resp.StatusCode != http.StatusOK || string(resp.Body) != "stored" {
				t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
			}
			got := up.last(t)
			if got.err != nil {
				t.Fatalf("the upstream refused the gateway's signature: %v", got.err)
			}
			if got.res.Identity.AccessKeyID != upstreamCreds.AccessKeyID || got.res.Presigned || string(got.body) != string(c.body) {
				t.Errorf("the upstream verified %+v, body %d bytes", got.res, len(got.body))
			}
			if p := got.res.PayloadHash; (c.payload == "hex" && len(p) != 64) || (c.payload != "hex" && p != c.payload) {
				t.Errorf("payload signed as %s, want %s", p, c.payload)
			}
			if sum := sha256.Sum256(c.body); c.payload == "hex" && got.res.PayloadHash != hex.EncodeToString(sum[:]) {
				t.Errorf("payload hash %s, not the body's", got.res.PayloadHash)
			}
			if got.res.Scope.Service != map[bool]string{true: "sts", false: "s3"}[name == "STS"] || got.res.Scope.Region != region {
				t.Errorf("scope %v", got.res.Scope)
			}
			noClientCredential(t, got)
		})
	}
}

// noClientCredential fails if anything of the client's credentials, or
// the gateway's identity headers, reached the upstream.
func noClientCredential(t *testing.T, got checked) {
	t.Helper()
	for name, values := range got.header {
		for _, v := range values {
			if strings.Contains(v, creds.AccessKeyID) || strings.Contains(v, creds.SecretAccessKey) {
				t.Errorf("the upstream got the client's credential in %s: %s", name, v)
			}
		}
		if strings.HasPrefix(strings.ToLower(name), "x-sigv4-") {
			t.Errorf("the upstream got the identity header %s", name)
		}
	}
	if strings.Contains(got.query, creds.AccessKeyID) || strings.Contains(got.query, "Signature") {
		t.Errorf("the upstream got the client's credential in the query: %s", got.query)
	}
}

// TestResignIdentityAndRegion: identity headers only when asked for; the
// region signed for is Signing.Region when set.
func TestResignIdentityAndRegion(t *testing.T) {
	up := newChecking(t, "eu-west-1")
	e := resignEnv(t, up, &gateway.Signing{Credentials: gateway.StaticCredentials(upstreamCreds), Region: "eu-west-1", IdentityHeaders: true})
	req := e.request(t, "GET", "/bucket/k", nil)
	mustSign(t, signer("s3"), req)
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := up.last(t)
	if got.err != nil || got.res.Scope.Region != "eu-west-1" || got.header.Get(gateway.HeaderAccessKey) != creds.AccessKeyID {
		t.Errorf("verified %v (%v), identity header %q", got.res, got.err, got.header.Get(gateway.HeaderAccessKey))
	}
}

// TestResignRefused: an upstream that refuses the gateway's signature
// (wrong upstream credentials) makes a 502 that says so, without the
// upstream's string to sign; credentials that cannot be had, a 502 too.
func TestResignRefused(t *testing.T) {
	up := newChecking(t, region)
	wrong := upstreamCreds
	wrong.SecretAccessKey = "not/the/upstream/one"
	e := resignEnv(t, up, &gateway.Signing{Credentials: gateway.StaticCredentials(wrong)})
	req := e.request(t, "PUT", "/bucket/k", []byte("data"))
	mustSign(t, signer("s3"), req)
	resp := e.do(t, req)
	se := checkError(t, resp, http.StatusBadGateway, "BadGateway")
	if !strings.Contains(se.Message, "SignatureDoesNotMatch") || strings.Contains(string(resp.Body), "AWS4-HMAC-SHA256\n") {
		t.Errorf("answer: %s", resp.Body)
	}
	// The client's own wrong secret is still the client's error.
	req = e.request(t, "PUT", "/bucket/k", []byte("data"))
	bad := signer("s3")
	bad.Credentials.SecretAccessKey = "x"
	mustSign(t, bad, req)
	checkError(t, e.do(t, req), http.StatusForbidden, "SignatureDoesNotMatch")

	e = resignEnv(t, up, &gateway.Signing{Credentials: failing{}})
	req = e.request(t, "GET", "/bucket/k", nil)
	mustSign(t, signer("s3"), req)
	if se := checkError(t, e.do(t, req), http.StatusBadGateway, "BadGateway"); !strings.Contains(se.Message, "credentials") {
		t.Errorf("message %q", se.Message)
	}
}

type failing struct{}

func (failing) Retrieve(context.Context) (sigv4.Credentials, error) {
	return sigv4.Credentials{}, errors.New("no credentials here")
}

// TestResignByIdentity: a principal mapped to other upstream credentials
// signs with those; anyone else with the default ones.
func TestResignByIdentity(t *testing.T) {
	team := sigv4.Credentials{AccessKeyID: "AKIAUPSTREAMTEAM0001", SecretAccessKey: "team/upstream/secret"}
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(upstreamCreds, team), Regions: []string{region}, Services: []string{"s3"}}
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			seen = append(seen, err.Error())
			w.WriteHeader(http.StatusForbidden)
			return
		}
		seen = append(seen, res.Identity.AccessKeyID)
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	keys := sigv4.NewKeyring()
	keys.Add(creds, sigv4.Identity{Principal: principal})
	bob := sigv4.Credentials{AccessKeyID: "AKIDBOB", SecretAccessKey: "bob-secret"}
	keys.Add(bob, sigv4.Identity{Principal: "arn:aws:iam::123456789012:user/bob"})
	e := newEnv(t, gateway.Config{Upstream: u,
		Verifier: &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3"}},
		Signing: &gateway.Signing{Credentials: gateway.StaticCredentials(upstreamCreds),
			ByIdentity: map[string]gateway.CredentialsProvider{principal: gateway.StaticCredentials(team)}}})
	for _, c := range []sigv4.Credentials{creds, bob} {
		req := e.request(t, "GET", "/bucket/k", nil)
		mustSign(t, &sigv4.Signer{Credentials: c, Region: region, Service: "s3"}, req)
		if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.AccessKeyID, resp.StatusCode, resp.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{team.AccessKeyID, upstreamCreds.AccessKeyID}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("the upstream saw %q, want %q (alice mapped to the team's key, bob the default)", seen, want)
	}
}
