package sigv4_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
)

// Property test: random requests, signed by Signer on the client side, sent
// for real by Go's HTTP client to an httptest server on 127.0.0.1 whose
// handler verifies them. Every request must be accepted; then one signed
// part is changed on the client side after signing, and the server must
// reject the request with the error code the specification gives.
//
// SIGV4_PROPERTY_SEED sets the seed (it is logged either way) and
// SIGV4_PROPERTY_N the number of requests (default 1000).

var (
	propPlain = sigv4.Credentials{AccessKeyID: "AKIDPROPPLAIN", SecretAccessKey: "plain/secret+key"}
	propTemp  = sigv4.Credentials{AccessKeyID: "AKIDPROPTEMP", SecretAccessKey: "temp/secret+key", SessionToken: "IQoJb3JpZ2luX2VjE+/token=="}
	propNow   = time.Date(2024, 2, 29, 12, 36, 0, 0, time.UTC)
)

// propSpec is one random request, before signing.
type propSpec struct {
	method   string
	path     string // as set on the URL, per pathMode
	pathMode int    // 0: URL.Path (decoded), 1: url.Parse of an escaped path, 2: URL.Opaque
	query    string // raw
	headers  [][2]string
	rawKeys  map[string][]string // header map entries under non-canonical keys
	body     []byte
	s3       bool
	presign  bool
	expires  time.Duration
	token    bool
	omit     bool
	unsigned bool // UnsignedPayload (with ContentSHA256)
}

func (s *propSpec) String() string {
	return fmt.Sprintf("%s path(mode %d)=%q query=%q headers=%q raw=%q body=%dB s3=%v presign=%v token=%v omit=%v unsigned=%v",
		s.method, s.pathMode, s.path, s.query, s.headers, s.rawKeys, len(s.body), s.s3, s.presign, s.token, s.omit, s.unsigned)
}

type propGen struct{ r *rand.Rand }

func (g propGen) pick(list ...string) string { return list[g.r.IntN(len(list))] }

func (g propGen) chance(p float64) bool { return g.r.Float64() < p }

// decodedSegment is a path segment as a program names it: any text.
func (g propGen) decodedSegment() string {
	var b strings.Builder
	for range 1 + g.r.IntN(6) {
		b.WriteString(g.pick("a", "b", "Z", "0", "9", "-", "_", ".", "~", " ", "  ", "+", "%", "%41", "=", ";", ",", "!", "$", "&", "'", "(", "*", ":", "@",
			"ü", "€", "日本", "\u00a0", "?", "#", "\"", "<", "[", "\\", "^", "`", "{", "|"))
	}
	return b.String()
}

// escapedSegment is a path segment as it may appear on the wire: raw safe
// characters, escapes of either case, raw UTF-8.
func (g propGen) escapedSegment() string {
	var b strings.Builder
	for range 1 + g.r.IntN(6) {
		b.WriteString(g.pick("a", "B", "7", "-", "_", ".", "~", "+", "=", ";", ",", "!", "$", "&", "'", "(", ")", "*", ":", "@",
			"%20", "%2F", "%2f", "%25", "%2B", "%41", "%7e", "%7E", "%C3%BC", "%e2%82%ac", "%2E", "ü", "€"))
	}
	return b.String()
}

func (g propGen) path(decoded bool) string {
	var segs []string
	for range g.r.IntN(5) {
		switch {
		case g.chance(0.12):
			segs = append(segs, ".")
		case g.chance(0.12):
			segs = append(segs, "..")
		case g.chance(0.1):
			segs = append(segs, "") // repeated slash
		case decoded:
			segs = append(segs, g.decodedSegment())
		default:
			segs = append(segs, g.escapedSegment())
		}
	}
	p := "/" + strings.Join(segs, "/")
	if g.chance(0.25) {
		p += "/"
	}
	return p
}

func (g propGen) queryPart() string {
	var b strings.Builder
	for range g.r.IntN(5) {
		b.WriteString(g.pick("a", "b", "K", "z", "0", "-", "_", ".", "~", "+", "%20", "%2B", "%2b", "%3D", "%26", "%25", "%C3%BC", "%e2%82%ac",
			"ü", "*", "!", "'", "(", ")", ",", ";", ":", "@", "/", "?", "$", "%41", "%7E", "X-Amz-Meta"))
	}
	return b.String()
}

func (g propGen) query() string {
	if g.chance(0.2) {
		return ""
	}
	var fields []string
	names := []string{g.queryPart()}
	for range 1 + g.r.IntN(6) {
		if g.chance(0.3) {
			names = append(names, g.queryPart())
		}
		name := names[g.r.IntN(len(names))] // repeated keys
		switch {
		case g.chance(0.15):
			fields = append(fields, name) // no '='
		case g.chance(0.15):
			fields = append(fields, name+"=") // empty value
		case g.chance(0.05):
			fields = append(fields, "") // empty field
		default:
			fields = append(fields, name+"="+g.queryPart()+g.pick("", "=", "==x"))
		}
	}
	return strings.Join(fields, "&")
}

func (g propGen) headerValue() string {
	var b strings.Builder
	b.WriteString(g.pick("", " ", "  ", "\t", " \t "))
	for range g.r.IntN(5) {
		b.WriteString(g.pick("v", "Value", "1", "a,b", "\"q  x\"", "ü", ";", "=", "/", "  ", "\t", " \t  ", " ", "text/plain"))
	}
	b.WriteString(g.pick("", " ", "  ", "\t", "\t "))
	return b.String()
}

var propHeaderNames = []string{"X-Custom-A", "X-Custom-B", "X-Amz-Meta-Color", "X-Amz-Meta-Shape", "Content-Type", "Cache-Control", "Accept", "If-Match", "Content-Language", "X-Multi"}

func (g propGen) spec() *propSpec {
	s := &propSpec{
		method:  g.pick("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"),
		s3:      g.chance(0.5),
		presign: g.chance(0.4),
		token:   g.chance(0.3),
	}
	s.omit = s.token && g.chance(0.3)
	s.unsigned = !s.presign && g.chance(0.15)
	s.pathMode = g.r.IntN(3)
	s.path = g.path(s.pathMode == 0)
	if s.pathMode == 2 && strings.HasPrefix(s.path, "//") {
		s.pathMode = 1 // an Opaque "//x" is an authority
	}
	if g.chance(0.05) {
		s.path, s.pathMode = "", 0
	}
	s.query = g.query()
	for range g.r.IntN(5) {
		name := g.pick(propHeaderNames...)
		s.headers = append(s.headers, [2]string{name, g.headerValue()})
		if name == "X-Multi" {
			for range g.r.IntN(3) {
				s.headers = append(s.headers, [2]string{name, g.headerValue()})
			}
		}
	}
	if g.chance(0.2) {
		s.rawKeys = map[string][]string{"x-lower-key": {g.headerValue(), g.headerValue()}}
	}
	if s.method == "PUT" || s.method == "POST" || s.method == "PATCH" {
		s.body = make([]byte, g.r.IntN(300))
		for i := range s.body {
			s.body[i] = byte(g.r.IntN(256))
		}
	}
	s.expires = time.Duration(1+g.r.IntN(7*24*3600)) * time.Second
	return s
}

func (s *propSpec) creds() sigv4.Credentials {
	if s.token {
		return propTemp
	}
	return propPlain
}

func (s *propSpec) signer() *sigv4.Signer {
	service := "execute-api"
	if s.s3 {
		service = "s3"
	}
	return &sigv4.Signer{Credentials: s.creds(), Region: "eu-west-3", Service: service, OmitSessionToken: s.omit,
		UnsignedPayload: s.unsigned, ContentSHA256: s.unsigned, Now: func() time.Time { return propNow }}
}

// request builds the client request for base (http://127.0.0.1:port).
func (s *propSpec) request(t *testing.T, base *url.URL) *http.Request {
	t.Helper()
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, RawQuery: s.query}
	switch s.pathMode {
	case 0:
		u.Path = s.path
	case 1:
		p, err := url.Parse("http://h" + s.path)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", s.path, err)
		}
		u.Path, u.RawPath = p.Path, p.RawPath
	case 2:
		u.Opaque = s.path
	}
	var body io.Reader
	if len(s.body) > 0 {
		body = bytes.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, base.String(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.URL = u
	for _, h := range s.headers {
		req.Header.Add(h[0], h[1])
	}
	for k, vv := range s.rawKeys {
		req.Header[k] = slices.Clone(vv)
	}
	return req
}

// propServer verifies every request it receives and answers with the
// error code in X-Verify-Code (empty when accepted).
func propServer(t *testing.T) *httptest.Server {
	t.Helper()
	verifier := func(omit bool) *sigv4.Verifier {
		return &sigv4.Verifier{Keys: sigv4.NewKeyring(propPlain, propTemp), Regions: []string{"eu-west-3"},
			Services: []string{"execute-api", "s3"}, OmitSessionToken: omit, Now: func() time.Time { return propNow }}
	}
	plain, omit := verifier(false), verifier(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := plain
		if r.Header.Get("X-Prop-Omit") == "1" { // added after signing: unsigned, and not x-amz-*
			v = omit
		}
		res, err := v.Verify(r)
		if err == nil {
			_, err = io.Copy(io.Discard, res.Body)
		}
		if err != nil {
			e, ok := err.(*sigv4.Error)
			if !ok {
				w.Header().Set("X-Verify-Code", "not-a-sigv4-error")
				w.WriteHeader(500)
				return
			}
			w.Header().Set("X-Verify-Code", e.Code)
			w.Header().Set("X-Verify-Canonical", strconv.Quote(e.CanonicalRequest))
			w.WriteHeader(e.Status)
			return
		}
		w.Header().Set("X-Verify-Code", "OK")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// propSend sends req and returns the verifier's code ("OK" when accepted), the
// status, and the canonical request of a SignatureDoesNotMatch.
func propSend(t *testing.T, client *http.Client, req *http.Request, omit bool) (string, int, string) {
	t.Helper()
	if omit {
		req.Header.Set("X-Prop-Omit", "1")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("sending %s %s: %v", req.Method, req.URL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	creq, _ := strconv.Unquote(resp.Header.Get("X-Verify-Canonical"))
	return resp.Header.Get("X-Verify-Code"), resp.StatusCode, creq
}

func propSeed(t *testing.T) uint64 {
	if s := os.Getenv("SIGV4_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SIGV4_PROPERTY_SEED: %v", err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// propMutation changes one part of a signed request. It returns a name, and
// the code the verifier must answer with ("OK" for accepted), or ok=false if
// it does not apply to this request.
type propMutation func(g propGen, s *propSpec, req *http.Request) (name, want string, ok bool)

const propMismatch = "SignatureDoesNotMatch"

// propSignedHeaders returns the signed headers, other than those the signer
// sets itself.
func propSignedHeaders(req *http.Request, presign bool) []string {
	var list string
	if presign {
		a, _ := authz.ParseQuery(req.URL.RawQuery)
		list = a.SignedHeaders
	} else {
		a, _ := authz.ParseHeader(req.Header.Get("Authorization"))
		list = a.SignedHeaders
	}
	var out []string
	for _, n := range strings.Split(list, ";") {
		switch n {
		case "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token":
			continue
		}
		out = append(out, n)
	}
	return out
}

func propWirePath(req *http.Request) string {
	if req.URL.Opaque != "" {
		return req.URL.Opaque
	}
	return req.URL.EscapedPath()
}

func propSetWirePath(req *http.Request, p string) {
	if req.URL.Opaque != "" {
		req.URL.Opaque = p
		return
	}
	dec, err := url.PathUnescape(p)
	if err != nil {
		panic(err)
	}
	req.URL.Path, req.URL.RawPath = dec, p
}

var propMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}

var propMutations = []propMutation{
	// The method.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		for {
			m := g.pick(propMethods...)
			if m != req.Method && (m != "HEAD" && m != "GET" || len(s.body) == 0) {
				req.Method = m
				return "method -> " + m, propMismatch, true
			}
		}
	},
	// One byte of the path, where it changes the canonical URI.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		p := propWirePath(req)
		for _, i := range g.r.Perm(len(p)) {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') || i > 0 && p[i-1] == '%' || i > 1 && p[i-2] == '%' {
				continue // not inside an escape, so that the path stays well-formed
			}
			np := p[:i] + "q" + p[i+1:]
			if c == 'q' {
				np = p[:i] + "Q" + p[i+1:]
			}
			if fzRefURI(np, s.s3) == fzRefURI(p, s.s3) {
				continue // inside a segment that ".." removes
			}
			propSetWirePath(req, np)
			return "path " + strconv.Quote(p) + " -> " + strconv.Quote(np), propMismatch, true
		}
		return "", "", false
	},
	// A query parameter: one changed, dropped, added or repeated.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		q := req.URL.RawQuery
		fields := strings.Split(q, "&")
		var user []int // parameters of the caller, not the signature's own
		for i, f := range fields {
			if name, _, _ := strings.Cut(f, "="); f != "" && !strings.HasPrefix(name, "X-Amz-") {
				user = append(user, i)
			}
		}
		var nq string
		switch op := g.r.IntN(4); {
		case op == 0 && len(user) > 0: // change a value
			i := user[g.r.IntN(len(user))]
			fields[i] += g.pick("x", "%41", "+")
			nq = strings.Join(fields, "&")
		case op == 1 && len(user) > 0: // drop
			i := user[g.r.IntN(len(user))]
			nq = strings.Join(slices.Delete(fields, i, i+1), "&")
		case op == 2 && len(user) > 0: // repeat
			nq = q + "&" + fields[user[g.r.IntN(len(user))]]
		default: // add
			nq = strings.TrimPrefix(q+"&"+g.pick("added=1", "a", "X-Amz-Meta-Extra=2", "%C3%BC=%2B"), "&")
		}
		if fzRefQuery(nq, s.presign, s.omit) == fzRefQuery(q, s.presign, s.omit) {
			return "", "", false
		}
		req.URL.RawQuery = nq
		return "query " + strconv.Quote(q) + " -> " + strconv.Quote(nq), propMismatch, true
	},
	// The value of a signed header.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		names := propSignedHeaders(req, s.presign)
		if len(names) == 0 {
			return "", "", false
		}
		name := names[g.r.IntN(len(names))]
		key := http.CanonicalHeaderKey(name)
		if _, ok := req.Header[key]; !ok {
			key = name // a raw lower-case key
		}
		vv := slices.Clone(req.Header[key])
		before := fzRefHeaderValue(vv)
		switch g.r.IntN(3) {
		case 0:
			i := g.r.IntN(len(vv))
			vv[i] = "  " + vv[i] + "x "
		case 1:
			vv = append(vv, g.pick("extra", "", " "))
		default:
			vv = nil // drop the header
		}
		if fzRefHeaderValue(vv) == before {
			return "", "", false
		}
		if vv == nil {
			delete(req.Header, key)
		} else {
			req.Header[key] = vv
		}
		return "header " + name + ": " + strconv.Quote(before) + " -> " + strconv.Quote(fzRefHeaderValue(vv)), propMismatch, true
	},
	// X-Amz-Date, one second later (same day, within skew and expiry).
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		later := propNow.Add(time.Second).Format("20060102T150405Z")
		if s.presign {
			req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "X-Amz-Date="+propNow.Format("20060102T150405Z"), "X-Amz-Date="+later, 1)
		} else {
			req.Header.Set("X-Amz-Date", later)
		}
		return "x-amz-date", propMismatch, true
	},
	// One hex digit of the signature.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		flip := func(sig string) string {
			i := g.r.IntN(len(sig))
			c := "0123456789abcdef"[g.r.IntN(16)]
			if c == sig[i] {
				c = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", c)]
			}
			return sig[:i] + string(c) + sig[i+1:]
		}
		if s.presign {
			i := strings.Index(req.URL.RawQuery, "X-Amz-Signature=") + len("X-Amz-Signature=")
			q := req.URL.RawQuery
			req.URL.RawQuery = q[:i] + flip(q[i:i+64]) + q[i+64:]
		} else {
			a := req.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			req.Header.Set("Authorization", a[:i]+flip(a[i:]))
		}
		return "signature", propMismatch, true
	},
	// One byte of the body.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		if len(s.body) == 0 {
			return "", "", false
		}
		body := slices.Clone(s.body)
		body[g.r.IntN(len(body))] ^= byte(1 + g.r.IntN(255))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		switch {
		case s.unsigned || s.presign && s.s3:
			return "body (unsigned payload)", "OK", true
		case !s.presign && s.s3:
			return "body (declared hash)", "XAmzContentSHA256Mismatch", true
		}
		return "body", propMismatch, true
	},
	// An unsigned header: User-Agent changed, another added.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		req.Header.Set("User-Agent", "mutated/"+strconv.Itoa(g.r.IntN(1000)))
		req.Header.Set("X-Unsigned-After", g.headerValue()+"x")
		return "unsigned headers", "OK", true
	},
	// An x-amz-* header added after signing.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		req.Header.Set("X-Amz-Meta-Added", "1")
		return "x-amz-meta-added (unsigned)", "AccessDenied", true
	},
	// The session token removed.
	func(g propGen, s *propSpec, req *http.Request) (string, string, bool) {
		if !s.token {
			return "", "", false
		}
		if s.presign {
			fields := strings.Split(req.URL.RawQuery, "&")
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "X-Amz-Security-Token=") })
			req.URL.RawQuery = strings.Join(fields, "&")
		} else {
			req.Header.Del("X-Amz-Security-Token")
		}
		if s.omit {
			return "token removed (unsigned)", "InvalidToken", true
		}
		return "token removed (signed)", propMismatch, true
	},
}

func TestPropertySignSendVerify(t *testing.T) {
	seed := propSeed(t)
	n := 1000
	if s := os.Getenv("SIGV4_PROPERTY_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (set SIGV4_PROPERTY_SEED=%d to repeat), %d requests", seed, seed, n)
	g := propGen{rand.New(rand.NewPCG(seed, seed^0x5eed))}
	srv := propServer(t)
	client := srv.Client()
	client.Timeout = 10 * time.Second
	base, _ := url.Parse(srv.URL)
	deadline := time.Now().Add(15 * time.Second)
	counts := map[string]int{}
	for i := range n {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d requests: time bound", i)
			break
		}
		s := g.spec()
		sign := func() *http.Request {
			req := s.request(t, base)
			var err error
			if s.presign {
				err = s.signer().Presign(req, s.expires)
			} else {
				err = s.signer().Sign(req)
			}
			if err != nil {
				t.Fatalf("request %d: signing %s: %v", i, s, err)
			}
			return req
		}
		req := sign()
		if code, status, creq := propSend(t, client, req, s.omit); code != "OK" || status != 200 {
			t.Fatalf("request %d: a signed request was rejected: %s (%d)\nspec: %s\nURL: %s\nheaders: %q\ncanonical request (verifier):\n%s",
				i, code, status, s, req.URL, req.Header, creq)
		}
		counts["accepted"]++

		// One mutation, chosen at random among those that apply.
		req = sign()
		var name, want string
		for _, k := range g.r.Perm(len(propMutations)) {
			var ok bool
			if name, want, ok = propMutations[k](g, s, req); ok {
				break
			}
		}
		code, status, creq := propSend(t, client, req, s.omit)
		counts[name[:min(len(name), strings.IndexAny(name+" ", " "))]]++
		if code != want {
			t.Fatalf("request %d: after mutation %s the verifier answered %s (%d), want %s\nspec: %s\nURL: %s\nheaders: %q\ncanonical request (verifier):\n%s",
				i, name, code, status, want, s, req.URL, req.Header, creq)
		}
		if want != "OK" && status != fzStatus[want] {
			t.Fatalf("request %d: %s came with status %d, want %d", i, code, status, fzStatus[want])
		}
	}
	t.Logf("outcomes: %v", counts)
}

// TestPropertyHeaderSpellings: a caller may write one header under two
// spellings of its name; Go's client sends them in sorted key order, so
// the signature must join the values in that order, every time.
func TestPropertyHeaderSpellings(t *testing.T) {
	srv := propServer(t)
	client := srv.Client()
	base, _ := url.Parse(srv.URL)
	sigs := map[string]bool{}
	failures := 0
	for range 40 {
		s := &propSpec{method: "GET", path: "/spellings"}
		req := s.request(t, base)
		req.Header["X-Foo"] = []string{"upper"}
		req.Header["x-foo"] = []string{"lower"}
		if err := s.signer().Sign(req); err != nil {
			t.Fatal(err)
		}
		sigs[req.Header.Get("Authorization")] = true
		if code, _, _ := propSend(t, client, req, false); code != "OK" {
			failures++
		}
	}
	if len(sigs) != 1 || failures > 0 {
		t.Errorf("signing one request 40 times gave %d different signatures, and %d of the 40 were rejected", len(sigs), failures)
	}
}

// TestPropertyQueryParameterInjection: with an Authorization header, every
// query parameter is signed (only a presigned URL leaves out its own
// X-Amz-Signature). A parameter whose name decodes to X-Amz-Signature,
// added to a header-signed request, must not go unsigned.
func TestPropertyQueryParameterInjection(t *testing.T) {
	srv := propServer(t)
	client := srv.Client()
	base, _ := url.Parse(srv.URL)
	for _, extra := range []string{"X-Amz-%53ignature=evil", "X%2DAmz%2DSignature=evil", "X-Amz-Signature%3D=evil"} {
		s := &propSpec{method: "GET", path: "/object", query: "a=1"}
		req := s.request(t, base)
		if err := s.signer().Sign(req); err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery += "&" + extra
		if code, _, _ := propSend(t, client, req, false); code == "OK" {
			t.Errorf("a header-signed request with the unsigned parameter %q added was accepted (the handler sees %v)", extra, req.URL.Query())
		}
	}
}

// TestPropertyPresignedPayloadHash: a presigned request that carries an
// X-Amz-Content-Sha256 header (signed, as every header present) or an
// escaped X-Amz-Content-Sha256 parameter is verified with the payload hash
// the signer used.
func TestPropertyPresignedPayloadHash(t *testing.T) {
	srv := propServer(t)
	client := srv.Client()
	base, _ := url.Parse(srv.URL)
	sum := sha256.Sum256([]byte("payload"))
	hash := hex.EncodeToString(sum[:])
	for _, c := range []struct {
		name, header, query string
		s3                  bool
	}{
		{"s3, hash header", hash, "", true},
		{"s3, UNSIGNED-PAYLOAD header", "UNSIGNED-PAYLOAD", "", true},
		{"other service, UNSIGNED-PAYLOAD header", "UNSIGNED-PAYLOAD", "", false},
		{"s3, escaped parameter", "", "X-Amz-Content-Sha256=UNSIGNED%2DPAYLOAD", true},
	} {
		s := &propSpec{method: "PUT", path: "/object", query: c.query, body: []byte("payload"), s3: c.s3, presign: true}
		req := s.request(t, base)
		if c.header != "" {
			req.Header.Set("X-Amz-Content-Sha256", c.header)
		}
		if err := s.signer().Presign(req, time.Hour); err != nil {
			t.Fatal(err)
		}
		if code, _, creq := propSend(t, client, req, false); code != "OK" {
			t.Errorf("%s: a presigned request was rejected: %s\ncanonical request (verifier):\n%s", c.name, code, creq)
		}
	}
}

// TestPropertySignerWithinVerifierBounds: "a request this package signs is
// a request it verifies" (package doc). The verifier bounds what a client
// may send (authz: at most 64 signed headers, names of at most 128 bytes,
// an Authorization header of at most 4096 bytes); for a request beyond
// them, Signer must fail rather than sign what Verifier will refuse.
func TestPropertySignerWithinVerifierBounds(t *testing.T) {
	srv := propServer(t)
	client := srv.Client()
	base, _ := url.Parse(srv.URL)
	for _, c := range []struct {
		name  string
		setup func(h http.Header)
	}{
		{"a 129-byte header name", func(h http.Header) { h.Set("X-"+strings.Repeat("n", 127), "v") }},
		{"70 headers", func(h http.Header) {
			for i := range 70 {
				h.Set("X-H"+strconv.Itoa(i), "v")
			}
		}},
		{"50 headers of 80-byte names", func(h http.Header) {
			for i := range 50 {
				h.Set(fmt.Sprintf("X-%078d", i), "v")
			}
		}},
	} {
		for _, presign := range []bool{false, true} {
			s := &propSpec{method: "GET", path: "/bounds", presign: presign}
			req := s.request(t, base)
			c.setup(req.Header)
			var err error
			if presign {
				err = s.signer().Presign(req, time.Hour)
			} else {
				err = s.signer().Sign(req)
			}
			if err != nil {
				continue // refusing to sign is fine
			}
			if code, _, _ := propSend(t, client, req, false); code != "OK" {
				t.Errorf("%s (presigned=%v): Signer signed it, Verifier answered %s", c.name, presign, code)
			}
		}
	}
}

// TestPropertySignerFootguns: Signer configurations and requests that Go's
// client sends differently from what was signed. Each must either make
// Signer fail or verify.
func TestPropertySignerFootguns(t *testing.T) {
	srv := propServer(t)
	client := srv.Client()
	base, _ := url.Parse(srv.URL)

	// UnsignedPayload without ContentSHA256, for a service other than S3:
	// nothing tells the server that the payload is unsigned.
	t.Run("UnsignedPayload", func(t *testing.T) {
		s := &propSpec{method: "PUT", path: "/unsigned", body: []byte("payload")}
		signer := s.signer()
		signer.UnsignedPayload, signer.ContentSHA256 = true, false
		req := s.request(t, base)
		if err := signer.Sign(req); err == nil {
			if code, _, _ := propSend(t, client, req, false); code != "OK" {
				t.Errorf("UnsignedPayload without ContentSHA256: Signer signed UNSIGNED-PAYLOAD but sent no X-Amz-Content-Sha256; Verifier answered %s", code)
			}
		}
	})

	// A host name that is not ASCII: Go's client sends it in punycode
	// (xn--...), so the Host signed must be the Host sent.
	t.Run("NonASCIIHost", func(t *testing.T) {
		for _, presign := range []bool{false, true} {
			req, err := http.NewRequest("GET", "http://bücher.example/key", nil)
			if err != nil {
				t.Fatal(err)
			}
			s := &propSpec{presign: presign}
			if presign {
				err = s.signer().Presign(req, time.Hour)
			} else {
				err = s.signer().Sign(req)
			}
			if err != nil {
				continue
			}
			wire, err := fzWire(req)
			if err != nil {
				t.Fatal(err)
			}
			sreq, ok := fzServerRead(wire)
			if !ok {
				t.Fatalf("cannot read back %q", wire)
			}
			v := &sigv4.Verifier{Keys: sigv4.NewKeyring(propPlain), Regions: []string{"eu-west-3"}, Services: []string{"execute-api"},
				Now: func() time.Time { return propNow }}
			if _, err := v.Verify(sreq); err != nil {
				t.Errorf("non-ASCII host (presigned=%v): Signer signed %q, Go sent Host %q; Verify: %v", presign, req.URL.Host, sreq.Host, err)
			}
		}
	})
}
