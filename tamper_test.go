package sigv4_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// A tamper changes one element of a signed request file. code is the AWS
// error code Verify must answer, "" if the request must still be accepted,
// and "body:CODE" if Verify accepts but reading the body must fail.
type tamper struct {
	name   string
	mutate func(f *httpfile.File)
	code   string
}

const mismatch = "SignatureDoesNotMatch"

// TestTamperMatrix changes every signed element of every request of the
// official suite, one at a time, and expects the right rejection; it
// changes unsigned elements and expects acceptance.
func TestTamperMatrix(t *testing.T) {
	total := 0
	for _, c := range append(loadSuite(t, "v4"), loadSuite(t, "v4a")...) {
		for _, form := range []string{"header", "query"} {
			f := c.file(t, form+"-signed-request.txt")
			tampers := commonTampers(c, f)
			if form == "header" {
				tampers = append(tampers, headerFormTampers(c, f)...)
			} else {
				tampers = append(tampers, queryFormTampers(c, f)...)
			}
			for _, tm := range tampers {
				total++
				t.Run(c.version()+"/"+c.name+"/"+form+"/"+tm.name, func(t *testing.T) {
					g := cloneFile(f)
					tm.mutate(g)
					req, err := g.ServerRequest("https")
					if err != nil {
						t.Fatal(err)
					}
					expectOutcome(t, c.verifier(), req, tm.code)
				})
			}
		}
	}
	t.Logf("%d tampered requests checked", total)
}

func cloneFile(f *httpfile.File) *httpfile.File {
	g := *f
	g.Headers = slices.Clone(f.Headers)
	g.Body = slices.Clone(f.Body)
	return &g
}

// commonTampers apply to both forms.
func commonTampers(c *suiteCase, f *httpfile.File) []tamper {
	ts := []tamper{
		{"method", func(f *httpfile.File) { f.Method = map[string]string{"GET": "POST", "POST": "GET"}[f.Method] }, mismatch},
		{"path", func(f *httpfile.File) { f.Target = setPath(f.Target, pathOf(f.Target)+"x") }, mismatch},
		{"query-add", func(f *httpfile.File) { f.Target = addQuery(f.Target, "extra=1") }, mismatch},
		{"unsigned-header", func(f *httpfile.File) { addHeader(f, "User-Agent", "tamper/1.0") }, ""},
		{"unsigned-header-forwarded", func(f *httpfile.File) { addHeader(f, "X-Forwarded-For", "10.0.0.1") }, ""},
		{"unsigned-x-amz-header", func(f *httpfile.File) { addHeader(f, "X-Amz-Meta-Extra", "1") }, "AccessDenied"},
		{"host", func(f *httpfile.File) { setHeader(f, "Host", "evil.example.com") }, mismatch},
	}
	for i, field := range queryFields(f.Target) {
		name, _, _ := strings.Cut(field, "=")
		if strings.HasPrefix(name, "X-Amz-") {
			continue // authentication parameters: see queryFormTampers
		}
		ts = append(ts,
			tamper{"query-value-" + name, func(f *httpfile.File) { f.Target = editQueryField(f.Target, i, field+"x") }, mismatch},
			tamper{"query-drop-" + name, func(f *httpfile.File) { f.Target = editQueryField(f.Target, i, "") }, mismatch})
	}
	signed := signedHeaderNames(f)
	for i, h := range f.Headers {
		lname := strings.ToLower(h.Name)
		switch {
		case lname == "authorization" || lname == "host" || lname == "x-amz-region-set": // see headerFormTampers
		case lname == "x-amz-content-sha256":
			ts = append(ts, tamper{"header-x-amz-content-sha256", func(f *httpfile.File) { f.Headers[i].Value = flipHex(h.Value, 0) }, mismatch})
		case lname == "x-amz-date":
			ts = append(ts, tamper{"header-x-amz-date", func(f *httpfile.File) { f.Headers[i].Value = "20150830T123601Z" }, mismatch})
		case lname == "x-amz-security-token" && !slices.Contains(signed, lname):
			ts = append(ts, tamper{"unsigned-token", func(f *httpfile.File) { f.Headers[i].Value += "x" }, "InvalidToken"})
		case slices.Contains(signed, lname):
			ts = append(ts, tamper{"header-" + lname + "-" + itoa(i), func(f *httpfile.File) { f.Headers[i].Value += "x" }, mismatch},
				tamper{"header-drop-" + lname + "-" + itoa(i), func(f *httpfile.File) { f.Headers = slices.Delete(f.Headers, i, i+1) }, mismatch})
		}
	}
	if len(f.Body) > 0 {
		code := mismatch // the body is hashed into the signature
		if headerValue(f, "X-Amz-Content-Sha256") != "" {
			code = "body:XAmzContentSHA256Mismatch" // declared hash: checked at the end of the body
		}
		ts = append(ts, tamper{"body-byte", func(f *httpfile.File) { f.Body[0] ^= 1 }, code})
	}
	return ts
}

// headerFormTampers change the Authorization header.
func headerFormTampers(c *suiteCase, f *httpfile.File) []tamper {
	auth := func(old, new string) func(*httpfile.File) {
		return func(f *httpfile.File) { replaceInHeader(f, "Authorization", old, new) }
	}
	sig := afterLast(headerValue(f, "Authorization"), "Signature=")
	names := signedHeaderNames(f)
	list := "SignedHeaders=" + strings.Join(names, ";") + ","
	unsorted := slices.Clone(names)
	unsorted[0], unsorted[1] = unsorted[1], unsorted[0]
	withoutHost := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "host" })
	scope := []tamper{{"scope-region", auth("/us-east-1/", "/us-west-2/"), "AuthorizationHeaderMalformed"}}
	if c.version() == "v4a" {
		regionSet := func(v string) func(*httpfile.File) {
			return func(f *httpfile.File) { setHeader(f, "X-Amz-Region-Set", v) }
		}
		scope = []tamper{
			{"scope-gains-a-region", auth("/20150830/", "/20150830/us-east-1/"), "AuthorizationHeaderMalformed"},
			{"region-set-other", regionSet("eu-west-1"), "AuthorizationHeaderMalformed"},
			{"region-set-wider", regionSet("*"), mismatch},
			{"region-set-dropped", func(f *httpfile.File) { setHeader(f, "X-Amz-Region-Set", "") }, "AuthorizationHeaderMalformed"},
			{"algorithm-hmac", auth("AWS4-ECDSA-P256-SHA256 ", "AWS4-HMAC-SHA256 "), "AuthorizationHeaderMalformed"},
		}
	}
	return append(scope, []tamper{
		{"signature-first-digit", auth("Signature="+sig, "Signature="+flipHex(sig, 0)), mismatch},
		{"signature-last-digit", auth("Signature="+sig, "Signature="+flipHex(sig, len(sig)-1)), mismatch},
		{"scope-service", auth("/service/", "/other/"), "AuthorizationHeaderMalformed"},
		{"scope-date", auth("/20150830/", "/20150831/"), "AuthorizationHeaderMalformed"},
		{"scope-terminal", auth("/aws4_request", "/aws5_request"), "AuthorizationHeaderMalformed"},
		{"access-key", auth("Credential=AKIDEXAMPLE", "Credential=AKIDUNKNOWN"), "InvalidAccessKeyId"},
		{"signed-headers-unsorted", auth(list, "SignedHeaders="+strings.Join(unsorted, ";")+","), "AuthorizationHeaderMalformed"},
		{"signed-headers-upper-case", auth(list, strings.Replace(list, "host", "Host", 1)), "AuthorizationHeaderMalformed"},
		{"signed-headers-drop-host", auth(list, "SignedHeaders="+strings.Join(withoutHost, ";")+","), "AccessDenied"},
		{"presign-too", func(f *httpfile.File) { f.Target = addQuery(f.Target, "X-Amz-Signature="+sig) }, "InvalidArgument"},
		{"second-authorization", func(f *httpfile.File) { addHeader(f, "Authorization", headerValue(f, "Authorization")) }, "AuthorizationHeaderMalformed"},
	}...)
}

// queryFormTampers change the X-Amz-* parameters of a presigned URL.
func queryFormTampers(c *suiteCase, f *httpfile.File) []tamper {
	param := func(name, value, code string) tamper {
		return tamper{"param-" + name, func(f *httpfile.File) { f.Target = setQueryParam(f.Target, name, value) }, code}
	}
	sig := queryParam(f.Target, "X-Amz-Signature")
	ts := []tamper{
		param("X-Amz-Signature", flipHex(sig, 0), mismatch),
		param("X-Amz-Date", "20150830T123601Z", mismatch),
		param("X-Amz-Expires", "3601", mismatch),
		param("X-Amz-Expires", "604801", "AuthorizationQueryParametersError"),
		param("X-Amz-Algorithm", "AWS4-HMAC-SHA512", "AuthorizationQueryParametersError"),
		param("X-Amz-Credential", "AKIDEXAMPLE%2F20150830%2Fus-west-2%2Fservice%2Faws4_request", "AuthorizationQueryParametersError"),
		{"header-too", func(f *httpfile.File) { addHeader(f, "Authorization", "AWS4-HMAC-SHA256 Credential=x") }, "InvalidArgument"},
	}
	if c.version() == "v4a" {
		ts = append(ts,
			param("X-Amz-Credential", "AKIDUNKNOWN%2F20150830%2Fservice%2Faws4_request", "InvalidAccessKeyId"),
			param("X-Amz-Region-Set", "eu-west-1", "AuthorizationQueryParametersError"),
			param("X-Amz-Region-Set", "%2A", mismatch),
			param("X-Amz-Algorithm", "AWS4-HMAC-SHA256", "AuthorizationQueryParametersError"))
	} else {
		ts = append(ts, param("X-Amz-Credential", "AKIDUNKNOWN%2F20150830%2Fus-east-1%2Fservice%2Faws4_request", "InvalidAccessKeyId"))
	}
	if c.context.Credentials.Token != "" {
		code := mismatch
		if c.context.OmitSessionToken {
			code = "InvalidToken"
		}
		ts = append(ts, param("X-Amz-Security-Token", "forged", code))
	}
	if sh := queryParam(f.Target, "X-Amz-SignedHeaders"); sh != "host" {
		ts = append(ts, param("X-Amz-SignedHeaders", "host", mismatch))
	}
	return ts
}

// expectOutcome verifies req and checks the outcome against code (see tamper).
func expectOutcome(t *testing.T, v *sigv4.Verifier, req *http.Request, code string) {
	t.Helper()
	res, err := v.Verify(req)
	bodyCode, isBody := strings.CutPrefix(code, "body:")
	switch {
	case code == "" || isBody:
		if err != nil {
			t.Fatalf("Verify: %v, want acceptance", err)
		}
		_, err = io.ReadAll(res.Body)
		if got := errCode(err); got != bodyCode {
			t.Fatalf("reading Body: error code %q (%v), want %q", got, err, bodyCode)
		}
	default:
		if got := errCode(err); got != code {
			t.Fatalf("Verify: error code %q (%v), want %q", got, err, code)
		}
		if res != nil {
			t.Fatal("Verify returned a Result with an error")
		}
	}
}

func errCode(err error) string {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "non-sigv4 error: " + err.Error()
	}
	return ""
}
