package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// The differential test of issue 12 against botocore: random requests
// (paths with dot segments, escapes, reserved characters; repeated, empty
// and unsorted query keys; repeated headers with odd whitespace; S3 and
// another service; header and presigned forms), signed by botocore and by
// us at the same time: the signatures must be the same, and botocore's
// request must verify. SIGV4_DIFF_SEED picks another seed than CI's.

type diffCase struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Headers [][2]string `json:"headers"`
	S3      bool        `json:"s3"`
	Presign bool        `json:"presign"`
}

// diffCases returns n random cases from seed.
func diffCases(seed uint64, n int) []diffCase {
	r := rand.New(rand.NewPCG(seed, 0xd1ff))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	// S3 signs the path as sent: its segments are in the encoding every
	// SDK sends (unreserved bytes raw, the rest %XX in upper case).
	s3Segs := []string{"a", "b", "c%20d", "%C3%A9", "~x", "a%2Bb", "x%3Dy", "-_.", ".", "..", "photos", "2026"}
	segs := append([]string{"", "%2e", "%2E%2e", "a+b", "%2F", "x=y", "@", ":", "%25", "!", "*"}, s3Segs...)
	keys := []string{"a", "b", "A", "a%20b", "x+y", "%2B", "%C3%A9", "empty", "list-type", "~", "prefix", "versionId"}
	values := []string{"", "1", "0", "a%20b", "x+y", "%2F", "%3D", "%25", "*", "%2A", "!", "~", "%7E", "a-b_c.d"}
	cases := make([]diffCase, n)
	for i := range cases {
		c := diffCase{Method: pick([]string{"GET", "PUT", "DELETE", "HEAD"}), S3: r.IntN(2) == 0, Presign: r.IntN(3) == 0, Headers: [][2]string{}}
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
		var q []string
		for range r.IntN(5) {
			switch k := pick(keys); r.IntN(4) {
			case 0:
				q = append(q, k) // no '='
			default:
				q = append(q, k+"="+pick(values))
			}
		}
		c.Query = strings.Join(q, "&")
		for range r.IntN(4) {
			name := pick([]string{"X-Custom", "X-Amz-Meta-Note", "Content-Type", "X-Other"})
			value := pick([]string{"a", "  a  b  ", "a\tb", "x,y", "", "1 2  3", "x;y"})
			c.Headers = append(c.Headers, [2]string{name, value})
		}
		cases[i] = c
	}
	return cases
}

// theirSigned is botocore's answer for one case.
type theirSigned struct {
	Creq, Signature, URL string
	Headers              [][2]string
}

func TestDifferentialBotocore(t *testing.T) {
	if os.Getenv("SIGV4_DIFF_WIP") == "" {
		// Work in progress (issue 12, item 1): botocore signs a raw query
		// as sent (a '!', '*' or '+' the client left unescaped stays so),
		// where we decode and encode each name and value; the classes of
		// disagreement are being sorted into fixes and documented SDK
		// quirks. Dot segments are settled: TestPathsAgree.
		t.Skip("set SIGV4_DIFF_WIP=1: the disagreements are not all classified yet")
	}
	requireBoto3(t)
	seed := uint64(2026)
	if s := os.Getenv("SIGV4_DIFF_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	cases := diffCases(seed, 2000)
	input, _ := json.Marshal(cases)
	cmd := exec.Command("python3", filepath.Join("testdata", "botocore_diff.py"), serviceName, region)
	cmd.Env = clientEnv(t, secretKey)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var theirs []theirSigned
	if err := json.Unmarshal(out, &theirs); err != nil || len(theirs) != len(cases) {
		t.Fatalf("%d answers for %d cases: %v", len(theirs), len(cases), err)
	}
	type class struct{ s3, presign bool }
	counts, signBad, verifyBad := map[class]int{}, 0, 0
	for i, c := range cases {
		counts[class{c.S3, c.Presign}]++
		if ours := ourSignature(t, c, theirs[i]); ours != theirs[i].Signature {
			if signBad++; signBad <= 5 {
				t.Errorf("we sign %+v as %s, botocore as %s; its canonical request:\n%s", c, ours, theirs[i].Signature, theirs[i].Creq)
			}
		}
		if err := verifyTheirs(t, c, theirs[i]); err != nil {
			if verifyBad++; verifyBad <= 5 {
				ours := ""
				var e *sigv4.Error
				if errors.As(err, &e) {
					ours = e.CanonicalRequest
				}
				t.Errorf("botocore's %+v does not verify: %v\nits canonical request:\n%s\nours:\n%s", c, err, theirs[i].Creq, ours)
			}
		}
	}
	for k, n := range counts {
		t.Logf("s3=%v presigned=%v: %d cases", k.s3, k.presign, n)
	}
	t.Logf("seed %d: %d cases; %d signatures differ; %d of botocore's requests do not verify", seed, len(cases), signBad, verifyBad)
}

var diffTime = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// ourSignature signs case c as botocore did (its x-amz-content-sha256,
// if it sent one) and returns the signature.
func ourSignature(t *testing.T, c diffCase, theirs theirSigned) string {
	t.Helper()
	u := "https://example.amazonaws.com" + c.Path
	if c.Query != "" {
		u += "?" + c.Query
	}
	req, err := http.NewRequest(c.Method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Headers {
		req.Header.Add(h[0], h[1])
	}
	s := &sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		Region: region, Service: serviceName, Now: func() time.Time { return diffTime }}
	if c.S3 {
		s.Service = "s3"
	}
	for _, h := range theirs.Headers {
		if strings.EqualFold(h[0], "X-Amz-Content-Sha256") {
			if h[1] == sigv4.UnsignedPayload {
				s.UnsignedPayload = true
			}
		}
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

// verifyTheirs sends botocore's request, as it would send it, to our
// Verifier.
func verifyTheirs(t *testing.T, c diffCase, theirs theirSigned) error {
	t.Helper()
	u, err := url.Parse(theirs.URL)
	if err != nil {
		return err
	}
	var wire bytes.Buffer
	wire.WriteString(c.Method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	for _, h := range theirs.Headers {
		wire.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	wire.WriteString("\r\n")
	req, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		return err
	}
	v := &sigv4.Verifier{
		Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions: []string{region}, Services: []string{serviceName, "s3"},
		Now: func() time.Time { return diffTime },
	}
	res, err := v.Verify(req)
	if err == nil {
		_, err = io.ReadAll(res.Body)
	}
	return err
}
