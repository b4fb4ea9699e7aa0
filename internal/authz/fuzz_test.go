package authz_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// signedRequests parses every *-signed-request.txt of the AWS suite.
func signedRequests(f *testing.F) []*httpfile.File {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("..", "..", "testdata", "aws-sig-v4-test-suite", "v4", "*", "*signed-request.txt"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no test vectors: %v", err)
	}
	var files []*httpfile.File
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		file, err := httpfile.Parse(data)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		files = append(files, file)
	}
	return files
}

// short quotes s, cut to 300 bytes, for failure messages.
func short(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%q...(%d bytes)", s[:300], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkAuth checks what a successful parse promises about an Auth.
func checkAuth(t *testing.T, input string, a authz.Auth) {
	t.Helper()
	fail := func(what string) { t.Helper(); t.Fatalf("parse of %q succeeded, but %s: %+v", input, what, a) }
	hmac := a.Algorithm == canonical.AlgorithmHMAC
	if !hmac && a.Algorithm != canonical.AlgorithmECDSA {
		fail("the algorithm is unknown")
	}
	// Signature: lower-case hex, 64 digits for HMAC.
	sig := a.Signature
	if sig == "" || len(sig)%2 != 0 || len(sig) > authz.MaxSignatureLen || hmac && len(sig) != 64 {
		fail("the signature has a bad length")
	}
	for i := 0; i < len(sig); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(sig[i])) {
			fail("the signature is not lower-case hex")
		}
	}
	// Signed headers: lower-case tokens, strictly increasing, at most 64.
	names := strings.Split(a.SignedHeaders, ";")
	if len(names) > authz.MaxSignedHeaders {
		fail("too many signed headers")
	}
	for i, n := range names {
		if !isToken(n) || strings.ToLower(n) != n {
			fail("signed header " + n + " is not a lower-case token")
		}
		if i > 0 && names[i-1] >= n {
			fail("signed headers are not sorted and unique")
		}
	}
	if authz.ValidateSignedHeaders(a.SignedHeaders) != nil {
		fail("ValidateSignedHeaders rejects the signed headers")
	}
	// Credential.
	c := a.Credential
	if c.AccessKeyID == "" || len(c.AccessKeyID) > authz.MaxAccessKeyLen || strings.ContainsAny(c.AccessKeyID, "/,= ") {
		fail("the access key ID is empty, too long or holds a separator")
	}
	for i := 0; i < len(c.AccessKeyID); i++ {
		if c.AccessKeyID[i] <= ' ' || c.AccessKeyID[i] >= 0x7f {
			fail("the access key ID is not printable")
		}
	}
	if len(c.Date) != 8 || strings.Trim(c.Date, "0123456789") != "" {
		fail("the credential date is not YYYYMMDD")
	}
	if hmac && !isToken(c.Region) || !hmac && c.Region != "" {
		fail("the region is wrong for the algorithm")
	}
	if !isToken(c.Service) {
		fail("the service is not a token")
	}
	if strings.ContainsAny(c.Terminal, "/") {
		fail("the terminal holds a '/'")
	}
	scope := credentialString(c, a.Algorithm)
	if got, err := authz.ParseCredential(scope, a.Algorithm); err != nil || got != c {
		fail("the credential does not re-parse: " + scope)
	}
}

// credentialString formats a credential back: AKID/date/region/service/terminal.
func credentialString(c authz.Credential, algorithm string) string {
	if algorithm == canonical.AlgorithmECDSA {
		return c.AccessKeyID + "/" + c.Date + "/" + c.Service + "/" + c.Terminal
	}
	return c.AccessKeyID + "/" + c.Date + "/" + c.Region + "/" + c.Service + "/" + c.Terminal
}

// formatHeader formats a back with AppendHeader, which always writes the
// terminal aws4_request.
func formatHeader(a authz.Auth) string {
	c := a.Credential
	return string(authz.AppendHeader(nil, a.Algorithm, c.AccessKeyID, c.Date, c.Region, c.Service, []byte(a.SignedHeaders), []byte(a.Signature)))
}

// FuzzParseHeader parses any Authorization header value.
func FuzzParseHeader(f *testing.F) {
	for _, file := range signedRequests(f) {
		for _, h := range file.Headers {
			if strings.EqualFold(h.Name, "Authorization") {
				f.Add(h.Value)
			}
		}
	}
	sig := strings.Repeat("0f", 32)
	for _, v := range []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=" + sig,
		"AWS4-HMAC-SHA256 Signature=" + sig + ", SignedHeaders=host, Credential=AKID/20150830/us-east-1/service/aws4_request",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=" + sig + ",",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=" + sig,
		"AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/service/aws4_request, SignedHeaders=host;x-amz-region-set, Signature=3045" + sig,
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request/x, SignedHeaders=host;host, Signature=" + strings.ToUpper(sig),
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, err := authz.ParseHeader(v)
		if err != nil {
			return
		}
		if len(v) > authz.MaxHeaderLen {
			t.Fatalf("ParseHeader accepted a %d-byte header", len(v))
		}
		if a.Date != "" || a.Expires != "" || a.SecurityToken != "" || a.ContentSHA256 != "" {
			t.Fatalf("ParseHeader(%q) set presigned-only fields: %+v", v, a)
		}
		checkAuth(t, v, a)
		// Formatting back and parsing again gives the same Auth, and the
		// formatted form is a fixed point.
		out := formatHeader(a)
		b, err := authz.ParseHeader(out)
		if err != nil {
			t.Fatalf("ParseHeader(%q) = %+v, but its formatting %q does not parse: %v", v, a, out, err)
		}
		want := a
		want.Credential.Terminal = canonical.Terminal
		if b != want {
			t.Fatalf("round trip changed the Auth:\n in %q -> %+v\nout %q -> %+v", v, want, out, b)
		}
		if again := formatHeader(b); again != out {
			t.Fatalf("formatting is not a fixed point: %q -> %q", out, again)
		}
	})
}

func formatQuery(a authz.Auth, extra []string, seed uint64) string {
	fields := []string{
		authz.ParamAlgorithm + "=" + url.QueryEscape(a.Algorithm),
		authz.ParamCredential + "=" + url.QueryEscape(credentialString(a.Credential, a.Algorithm)),
		authz.ParamDate + "=" + url.QueryEscape(a.Date),
		authz.ParamSignedHeaders + "=" + url.QueryEscape(a.SignedHeaders),
		authz.ParamSignature + "=" + url.QueryEscape(a.Signature),
	}
	if a.Expires != "" {
		fields = append(fields, authz.ParamExpires+"="+url.QueryEscape(a.Expires))
	}
	if a.SecurityToken != "" {
		fields = append(fields, authz.ParamSecurityToken+"="+url.QueryEscape(a.SecurityToken))
	}
	if a.ContentSHA256 != "" {
		fields = append(fields, authz.ParamContentSHA256+"="+url.QueryEscape(a.ContentSHA256))
	}
	fields = append(fields, extra...)
	rand.New(rand.NewPCG(seed, 7)).Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	return strings.Join(fields, "&")
}

// FuzzParseQuery parses any presigned query string.
func FuzzParseQuery(f *testing.F) {
	for _, file := range signedRequests(f) {
		if _, q, ok := strings.Cut(file.Target, "?"); ok {
			f.Add(q, uint64(0))
		}
	}
	sig := strings.Repeat("0f", 32)
	base := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig
	f.Add(strings.Replace(base, "&X-Amz-Expires=60", "", 1), uint64(0)) // as outside S3
	f.Add(strings.Replace(base, "X-Amz-Expires=60", "X-Amz-Expires=", 1), uint64(0))
	for _, q := range []string{
		"", "X-Amz-Algorithm", base, base + "&X-Amz-Security-Token=a%2Bb%3D&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD",
		base + "&X-Amz-Date=20150830T123600Z", base + "&X-Amz-Foo=1&x-amz-date=2&a=b", base + "&X-Amz-Security-Token=%zz",
		"X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKID/20150830/s3/aws4_request&X-Amz-Date=&X-Amz-Expires=&X-Amz-SignedHeaders=host%3Bx-amz-region-set&X-Amz-Signature=3045" + sig,
	} {
		f.Add(q, uint64(1))
	}
	f.Fuzz(func(t *testing.T, raw string, seed uint64) {
		a, err := authz.ParseQuery(raw)
		// The result does not depend on the order of the fields.
		fields := strings.Split(raw, "&")
		rand.New(rand.NewPCG(seed, 3)).Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		b, errb := authz.ParseQuery(strings.Join(fields, "&"))
		if (err == nil) != (errb == nil) || err == nil && a != b {
			t.Fatalf("ParseQuery depends on field order:\n%s -> %+v, %v\n%s -> %+v, %v", short(raw), a, err, short(strings.Join(fields, "&")), b, errb)
		}
		if err != nil {
			return
		}
		if !authz.IsPresigned(raw) {
			t.Fatalf("ParseQuery(%q) succeeded but IsPresigned is false", raw)
		}
		fieldCount := 0 // empty fields are not parameters
		for field := range strings.SplitSeq(raw, "&") {
			if field != "" {
				fieldCount++
			}
		}
		if len(raw) > authz.MaxQueryLen || fieldCount > authz.MaxQueryParams {
			t.Fatalf("ParseQuery accepted a query beyond its bounds (%d bytes, %d parameters)", len(raw), fieldCount)
		}
		checkAuth(t, raw, a)
		// Each auth parameter appears exactly once (names compared decoded,
		// as the canonical query compares them); X-Amz-Expires at most
		// once, and when it does, not empty.
		for _, name := range []string{authz.ParamAlgorithm, authz.ParamCredential, authz.ParamDate, authz.ParamExpires, authz.ParamSignedHeaders, authz.ParamSignature} {
			n := 0
			for _, field := range strings.Split(raw, "&") {
				k, _, _ := strings.Cut(field, "=")
				if d, err := url.QueryUnescape(k); err == nil {
					k = d
				}
				if k == name {
					n++
				}
			}
			if n != 1 && !(name == authz.ParamExpires && n == 0 && a.Expires == "") {
				t.Fatalf("ParseQuery(%q) succeeded with %s present %d times", raw, name, n)
			}
		}
		// Formatting back (with other parameters among them) and parsing
		// again gives the same Auth.
		out := formatQuery(a, []string{"a=1", "X-Amz-Other=2", "x-amz-date=3", ""}, seed)
		c, err := authz.ParseQuery(out)
		if err != nil {
			t.Fatalf("ParseQuery(%q) = %+v, but its formatting %q does not parse: %v", raw, a, out, err)
		}
		if c != a {
			t.Fatalf("round trip changed the Auth:\n in %q -> %+v\nout %q -> %+v", raw, a, out, c)
		}
	})
}

func TestParseHeaderExamples(t *testing.T) {
	sig := strings.Repeat("0f", 32)
	good := "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig
	a, err := authz.ParseHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	want := authz.Auth{Algorithm: canonical.AlgorithmHMAC, SignedHeaders: "host;x-amz-date", Signature: sig,
		Credential: authz.Credential{AccessKeyID: "AKID", Date: "20150830", Region: "us-east-1", Service: "service", Terminal: "aws4_request"}}
	if a != want {
		t.Errorf("ParseHeader = %+v", a)
	}
	for _, bad := range []string{
		strings.Replace(good, "host;x-amz-date", "x-amz-date;host", 1),
		strings.Replace(good, "host;x-amz-date", "host;host", 1),
		strings.Replace(good, "host;x-amz-date", "Host", 1),
		strings.Replace(good, "host;x-amz-date", "host;", 1),
		strings.Replace(good, "host;x-amz-date", ";host", 1),
		strings.Replace(good, sig, strings.ToUpper(sig), 1),
		strings.Replace(good, sig, sig+"00", 1),
		strings.Replace(good, sig, sig[:62], 1),
		strings.Replace(good, "AKID/", "/", 1),
		strings.Replace(good, "20150830", "2015083", 1),
		strings.Replace(good, "us-east-1/", "/", 1),
		strings.Replace(good, "service/", "/", 1),
		strings.Replace(good, "aws4_request", "aws4_request/x", 1),
		strings.Replace(good, ", Signature", ", Signature="+sig+", Signature", 1),
		strings.Replace(good, "Credential", "Foo=1, Credential", 1),
		strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1),
		good + ", ",
		good + strings.Repeat(" ", authz.MaxHeaderLen),
	} {
		if a, err := authz.ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(%q) = %+v, want an error", bad, a)
		}
	}
}

// TestParseQueryFieldCount: whether a query is within MaxQueryParams does
// not depend on where its empty fields are. Found by FuzzParseQuery: a
// trailing '&' ends the query without counting, a leading or inner one
// counts as a parameter, so the same fields in another order cross the
// bound.
func TestParseQueryFieldCount(t *testing.T) {
	sig := strings.Repeat("0f", 32)
	auth := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig
	fields := auth + strings.Repeat("&a", authz.MaxQueryParams-6) // exactly MaxQueryParams parameters
	_, errTrailing := authz.ParseQuery(fields + "&")
	_, errLeading := authz.ParseQuery("&" + fields)
	_, errInner := authz.ParseQuery(strings.Replace(fields, "&a", "&&a", 1))
	if (errTrailing == nil) != (errLeading == nil) || (errLeading == nil) != (errInner == nil) {
		t.Errorf("%d parameters and one empty field: trailing -> %v, leading -> %v, inner -> %v", authz.MaxQueryParams, errTrailing, errLeading, errInner)
	}
}

// FuzzParamName: ParamName decodes as url.QueryUnescape does, and gives
// back a name it cannot decode as it came.
func FuzzParamName(f *testing.F) {
	for _, s := range []string{"", "X-Amz-Signature", "X-Amz-%53ignature", "a+b", "%", "%4", "%4g", "%41%", "%%41",
		"AKID%2F20240517%2Fus-east-1%2Fs3%2Faws4_request", "+%2B+", "%e2%82%ac", "x%2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, err := url.QueryUnescape(raw)
		if err != nil {
			want = raw
		}
		if got := authz.ParamName(raw); got != want {
			t.Fatalf("ParamName(%q) = %q, want %q", raw, got, want)
		}
	})
}
