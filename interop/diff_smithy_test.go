package interop

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// The differential test against the JS SDK v3's SignatureV4: random
// requests given to it as the SDK gives them (decoded query values, one
// value per header), signed by it and by us: the signatures must be the
// same, and its request must verify.

type smithyCase struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query"`
	Headers map[string]string   `json:"headers"`
	S3      bool                `json:"s3"`
	Presign bool                `json:"presign"`
}

type smithySigned struct {
	Signature string
	Headers   map[string]string
	Query     map[string]json.RawMessage // a string, or a list of them
}

// rfc3986 escapes s as the SDK's HTTP handlers write a query: every byte
// but the unreserved ones.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

func smithyCases(seed uint64, n int) []smithyCase {
	r := rand.New(rand.NewPCG(seed, 0x5317))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	s3Segs := []string{"a", "b", "c%20d", "%C3%A9", "~x", "a%2Bb", "-_.", ".", "..", "photos"}
	segs := append([]string{"", "%2e", "a+b", "%2F", "x=y", "%25", "!"}, s3Segs...)
	texts := []string{"", "a", "a b", "x+y", "/", "=", "%", "*", "!", "~", "caf\u00e9", "a&b", "'()", "1,2", ";"}
	cases := make([]smithyCase, n)
	for i := range cases {
		c := smithyCase{Method: pick([]string{"GET", "PUT", "DELETE"}), S3: r.IntN(2) == 0, Presign: r.IntN(3) == 0,
			Query: map[string][]string{}, Headers: map[string]string{}}
		var p strings.Builder
		for range 1 + r.IntN(5) {
			if c.S3 {
				p.WriteString("/" + pick(s3Segs))
			} else {
				p.WriteString("/" + pick(segs))
			}
		}
		if r.IntN(4) == 0 {
			p.WriteString("/")
		}
		c.Path = p.String()
		for range r.IntN(4) {
			k := pick(texts[1:])
			c.Query[k] = append(c.Query[k], pick(texts))
		}
		for range r.IntN(3) {
			c.Headers[pick([]string{"x-custom", "x-amz-meta-note", "content-type"})] = pick([]string{"a", "  a  b  ", "a\tb", "x,y", "1 2  3"})
		}
		if c.S3 {
			c.Headers["x-amz-content-sha256"] = sigv4.UnsignedPayload
		}
		cases[i] = c
	}
	return cases
}

func TestDifferentialSmithy(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@smithy", "signature-v4", "package.json")); err != nil {
		missingClient(t, "@smithy/signature-v4 is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund")
	}
	seed := diffSeed(t)
	cases := smithyCases(seed, 2000)
	input, _ := json.Marshal(cases)
	cmd := exec.Command("node", filepath.Join(nodeDir, "smithy_diff.js"), serviceName, region)
	cmd.Env = clientEnv(t, secretKey)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var theirs []smithySigned
	if err := json.Unmarshal(out, &theirs); err != nil || len(theirs) != len(cases) {
		t.Fatalf("%d answers for %d cases: %v", len(theirs), len(cases), err)
	}
	signBad, verifyBad := 0, 0
	counts := map[[2]bool]int{}
	for i, c := range cases {
		counts[[2]bool{c.S3, c.Presign}]++
		wire, headers := smithyWire(t, theirs[i])
		if ours := ourSmithySignature(t, c, wire, headers); ours != theirs[i].Signature {
			if signBad++; signBad <= 5 {
				t.Errorf("we sign %+v (sent as %s) as %s, the JS SDK as %s", c, wire, ours, theirs[i].Signature)
			}
		}
		if err := verifySmithy(c, wire, theirs[i]); err != nil {
			if verifyBad++; verifyBad <= 5 {
				t.Errorf("the JS SDK's %+v (sent as %s) does not verify: %v", c, wire, err)
			}
		}
	}
	for k, n := range counts {
		t.Logf("s3=%v presigned=%v: %d cases", k[0], k[1], n)
	}
	t.Logf("seed %d: %d cases; %d signatures differ; %d of the JS SDK's requests do not verify", seed, len(cases), signBad, verifyBad)
}

// smithyWire is the query the SDK sends for a signed request (the
// signature's parameters included), and its headers but host.
func smithyWire(t *testing.T, s smithySigned) (string, map[string]string) {
	var parts []string
	for k, raw := range s.Query {
		var values []string
		if json.Unmarshal(raw, &values) != nil {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			values = []string{v}
		}
		for _, v := range values {
			parts = append(parts, rfc3986(k)+"="+rfc3986(v))
		}
	}
	headers := map[string]string{}
	for k, v := range s.Headers {
		if k != "host" {
			headers[k] = v
		}
	}
	return strings.Join(parts, "&"), headers
}

// ourSmithySignature signs what the SDK sends, less its signature, as
// the SDK signed it.
func ourSmithySignature(t *testing.T, c smithyCase, wire string, headers map[string]string) string {
	t.Helper()
	var q []string
	for pair := range strings.SplitSeq(wire, "&") {
		if k, _, _ := strings.Cut(pair, "="); pair != "" && !strings.HasPrefix(k, "X-Amz-") || strings.HasPrefix(k, "X-Amz-Content") {
			q = append(q, pair)
		}
	}
	req, err := http.NewRequest(c.Method, "https://example.amazonaws.com"+c.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = strings.Join(q, "&")
	for k, v := range headers {
		if k != "authorization" && k != "x-amz-date" {
			req.Header.Set(k, v)
		}
	}
	s := &sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		Region: region, Service: serviceName, Now: func() time.Time { return diffTime }}
	if c.S3 {
		s.Service, s.UnsignedPayload = "s3", true
	}
	if c.Presign {
		if err := s.Presign(req, 300*time.Second); err != nil {
			t.Fatal(err)
		}
		return req.URL.Query().Get("X-Amz-Signature")
	}
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig
}

// verifySmithy sends the SDK's request to our Verifier.
func verifySmithy(c smithyCase, wire string, s smithySigned) error {
	target := c.Path
	if wire != "" {
		target += "?" + wire
	}
	var headers [][2]string
	for k, v := range s.Headers {
		if k != "host" {
			headers = append(headers, [2]string{k, v})
		}
	}
	return verifyWire(c.Method, target, headers)
}
