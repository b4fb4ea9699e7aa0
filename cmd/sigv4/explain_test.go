package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/explain"
	"github.com/sigv4/sigv4/internal/httpfile"
)

const (
	explainKey    = "AKIDEXAMPLE"
	explainSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var explainTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// explainEnv gives a test the credentials explain finds, and an AWS
// configuration of its own that reaches no network.
func explainEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(map[string]string{"config": "AWS_CONFIG_FILE", "credentials": "AWS_SHARED_CREDENTIALS_FILE"}[name], p)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", explainKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", explainSecret)
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// explainClient says how a test client signs: for a service in us-east-1,
// as a presigned URL or not, and, with forge, signing forge(canonical
// request) instead of the canonical request: the bug under test, with real
// keys.
type explainClient struct {
	service string
	presign bool
	forge   func(creq string) string
}

// sign signs the request file text with the library's Signer and returns
// the request file as sent.
func (c explainClient) sign(t testing.TB, text string) string {
	t.Helper()
	f, err := httpfile.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	req, err := f.Request("https")
	if err != nil {
		t.Fatal(err)
	}
	const region = "us-east-1"
	s := &sigv4.Signer{
		Credentials: sigv4.Credentials{AccessKeyID: explainKey, SecretAccessKey: explainSecret},
		Region:      region, Service: c.service, Now: func() time.Time { return explainTime },
	}
	var creq, sts string
	s.Debug = func(cr, st string) { creq, sts = cr, st }
	target := f.Target
	if c.presign {
		if err := s.Presign(req, time.Hour); err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(f.Target, "?")
		target = path + "?" + req.URL.RawQuery
	} else if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	if c.forge != nil {
		target = c.forgeSignature(t, req, target, creq, sts, region)
	}
	var buf bytes.Buffer
	if err := httpfile.Write(&buf, req, target, f.Headers, f.Body); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// forgeSignature replaces the signature of req with that of the forged
// canonical request, computed from the signing key as any client does,
// and returns the target to send.
func (c explainClient) forgeSignature(t testing.TB, req *http.Request, target, creq, sts, region string) string {
	t.Helper()
	forged := c.forge(creq)
	if forged == creq {
		t.Fatalf("the forgery changes nothing in\n%s", creq)
	}
	sum := sha256.Sum256([]byte(forged))
	sts = sts[:strings.LastIndexByte(sts, '\n')+1] + hex.EncodeToString(sum[:])
	key := sigv4.DeriveSigningKey(explainSecret, sigv4.Scope{Date: "20150830", Region: region, Service: c.service})
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(sts))
	sig := hex.EncodeToString(mac.Sum(nil))
	if c.presign {
		i := strings.Index(target, "X-Amz-Signature=") + len("X-Amz-Signature=")
		return target[:i] + sig + target[i+64:]
	}
	auth := req.Header.Get("Authorization")
	i := strings.LastIndex(auth, "Signature=") + len("Signature=")
	req.Header.Set("Authorization", auth[:i]+sig)
	return target
}

// explainServer is a server that answers SignatureDoesNotMatch: the library's
// Verifier, with the keys and rules given.
type explainServer struct {
	secret string // default explainSecret
	s3     bool
	format string // the error body: "" S3's XML, "json", "query" (quoted in the message), "sts-only"
}

// answer verifies the request as the server received it and renders the
// Verifier's error as the server's error body.
func (sv explainServer) answer(t testing.TB, received string) string {
	t.Helper()
	f, err := httpfile.Parse([]byte(received))
	if err != nil {
		t.Fatal(err)
	}
	req, err := f.ServerRequest("https")
	if err != nil {
		t.Fatal(err)
	}
	secret := sv.secret
	if secret == "" {
		secret = explainSecret
	}
	v := &sigv4.Verifier{
		Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: explainKey, SecretAccessKey: secret}),
		Regions: []string{"*"}, Services: []string{"*"}, S3: sv.s3, Now: func() time.Time { return explainTime },
	}
	_, err = v.Verify(req)
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("the server answered %v, want SignatureDoesNotMatch", err)
	}
	return sv.render(t, e)
}

func (sv explainServer) render(t testing.TB, e *sigv4.Error) string {
	switch sv.format {
	case "json":
		b, err := json.Marshal(map[string]string{"Code": e.Code, "Message": e.Message,
			"CanonicalRequest": e.CanonicalRequest, "StringToSign": e.StringToSign})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	case "query":
		msg := e.Message + "\n\nThe Canonical String for this request should have been\n'" + e.CanonicalRequest +
			"'\n\nThe String-to-Sign should have been\n'" + e.StringToSign + "'\n"
		b, err := xml.Marshal(struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Type    string   `xml:"Error>Type"`
			Code    string   `xml:"Error>Code"`
			Message string   `xml:"Error>Message"`
		}{Type: "Sender", Code: e.Code, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	body := s3ErrorBody{Code: e.Code, Message: e.Message, AWSAccessKeyId: e.AccessKeyID,
		StringToSign: e.StringToSign, StringToSignBytes: s3ByteList(e.StringToSign), SignatureProvided: e.SignatureProvided,
		CanonicalRequest: e.CanonicalRequest, CanonicalRequestBytes: s3ByteList(e.CanonicalRequest), RequestId: "4442587FB7D0A2F9"}
	if sv.format == "sts-only" {
		body.CanonicalRequest, body.CanonicalRequestBytes = "", ""
	}
	b, err := xml.MarshalIndent(body, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return xml.Header + string(b)
}

// s3ErrorBody is Amazon S3's SignatureDoesNotMatch body.
type s3ErrorBody struct {
	XMLName                                     xml.Name `xml:"Error"`
	Code, Message, AWSAccessKeyId, StringToSign string
	SignatureProvided, StringToSignBytes        string
	CanonicalRequest                            string `xml:",omitempty"`
	CanonicalRequestBytes                       string `xml:",omitempty"`
	RequestId                                   string
}

func s3ByteList(s string) string {
	parts := make([]string, len(s))
	for i := range len(s) {
		parts[i] = hex.EncodeToString([]byte{s[i]})
	}
	return strings.Join(parts, " ")
}

// explainRun writes the request and error body to files and runs
// "sigv4 explain" on them in-process; an empty errorBody leaves --error
// out.
func explainRun(t *testing.T, request, errorBody string, flags ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"explain", "--request", write("request.txt", request)}
	if errorBody != "" {
		args = append(args, "--error", write("error.xml", errorBody))
	}
	var out, errOut bytes.Buffer
	code = run(append(args, flags...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// replaceCreqLine returns a forgery that replaces line i of the canonical
// request; -1 is the last line, the payload hash.
func replaceCreqLine(i int, line string) func(string) string {
	return func(creq string) string {
		lines := strings.Split(creq, "\n")
		if i < 0 {
			i += len(lines)
		}
		lines[i] = line
		return strings.Join(lines, "\n")
	}
}

func replaceOnce(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

const (
	explainGetQuery   = "GET /?b=2&a=1 HTTP/1.1\nHost:example.amazonaws.com\n"
	explainPostJSON   = "POST / HTTP/1.1\nHost:example.amazonaws.com\nContent-Type:application/json\n\n{\"a\":1}"
	explainPutMeta    = "PUT /bucket/key HTTP/1.1\nHost:s3.amazonaws.com\nX-Amz-Meta-A:a  b\n"
	explainGetS3Space = "GET /bucket/my%20file HTTP/1.1\nHost:s3.amazonaws.com\n"
)

// TestExplainCauses makes each cause on purpose: a client signs with the
// library's Signer (signing a forged canonical request where the cause is
// a client's mistake), the request may change on the way to the server,
// and the library's Verifier, as the server, gives the genuine error body.
// explain must name the cause.
// causeCase is a request signed by a client (forge: what it got wrong),
// changed on the way (receive), and answered by a server: explain, and
// the debugger page, must name want.
type causeCase struct {
	name    string
	request string
	client  explainClient
	receive func(sent string) string // what the way to the server makes of the request
	server  explainServer
	want    []string
}

// causeCases are the causes explain names, each made the way it happens.
var causeCases = []causeCase{
	{name: "query not sorted", request: explainGetQuery,
		client: explainClient{service: "service", forge: replaceCreqLine(2, "b=2&a=1")},
		want:   []string{"The client signed the query parameters in the order they were sent (`b=2&a=1`), not sorted by name (`a=1&b=2`)"}},
	{name: "query space as plus", request: "GET /?q=a+b HTTP/1.1\nHost:example.amazonaws.com\n",
		client: explainClient{service: "service", forge: replaceCreqLine(2, "q=a+b")},
		want:   []string{"query parameter `q` encoded differently", "a space is %20 there, not '+'"}},
	{name: "query reserved character unencoded", request: "GET /?t=12:30 HTTP/1.1\nHost:example.amazonaws.com\n",
		client: explainClient{service: "service", forge: replaceCreqLine(2, "t=12:30")},
		want:   []string{"encoded differently", "the reserved character ':' must be escaped there as %3A"}},
	{name: "query plus as plus sign", request: "GET /?q=a+b HTTP/1.1\nHost:example.amazonaws.com\n",
		client: explainClient{service: "service", forge: replaceCreqLine(2, "q=a%2Bb")},
		want:   []string{"signed a '+' in the query as a plus sign"}},
	{name: "path encoded once by the server", request: "GET /my%20file HTTP/1.1\nHost:example.execute-api.us-east-1.amazonaws.com\n",
		client: explainClient{service: "execute-api"}, server: explainServer{s3: true},
		want: []string{"The server used Amazon S3's path rule (`/my%20file`: encoded once", "(`/my%2520file`: encoded twice)"}},
	{name: "path encoded once, hash only", request: "GET /my%20file HTTP/1.1\nHost:example.execute-api.us-east-1.amazonaws.com\n",
		client: explainClient{service: "execute-api"}, server: explainServer{s3: true, format: "sts-only"},
		want: []string{"is reproduced, and hashes to the hash in the server's string to sign", "encoded once"}},
	{name: "path encoded twice by the client", request: explainGetS3Space,
		client: explainClient{service: "s3", forge: replaceCreqLine(1, "/bucket/my%2520file")},
		want:   []string{"The client signed the path by the rule of services other than Amazon S3", "encoded twice"}},
	{name: "header white space collapsed", request: explainPutMeta,
		client: explainClient{service: "s3", forge: replaceOnce("x-amz-meta-a:a b\n", "x-amz-meta-a:a  b\n")},
		want:   []string{"Header `x-amz-meta-a` value has a double space that the server collapsed"}},
	{name: "host changed by a proxy", request: explainGetQuery, client: explainClient{service: "service"},
		receive: replaceOnce("Host:example.amazonaws.com", "Host:example.amazonaws.com:8443"),
		want:    []string{"Header `host` was signed as `example.amazonaws.com`, but the server received a different value: `example.amazonaws.com:8443`", "ports differ"}},
	{name: "content type changed by a proxy", request: explainPostJSON, client: explainClient{service: "service"},
		receive: replaceOnce("Content-Type:application/json", "Content-Type:application/json; charset=utf-8"),
		want:    []string{"Header `content-type` was signed as `application/json`, but the server received a different value"}},
	{name: "header dropped by a proxy", request: explainPutMeta, client: explainClient{service: "s3"},
		receive: replaceOnce("X-Amz-Meta-A:a  b\n", ""),
		want:    []string{"Header `x-amz-meta-a` was signed (`a b`), but the server did not receive it"}},
	{name: "server in another region", request: explainGetQuery, client: explainClient{service: "service"},
		receive: replaceOnce("/us-east-1/", "/eu-west-1/"),
		want:    []string{"The server used region eu-west-1; the request was signed for region us-east-1", "--region eu-west-1"}},
	{name: "server for another service", request: explainGetQuery, client: explainClient{service: "service"},
		receive: replaceOnce("/us-east-1/service/", "/us-east-1/execute-api/"),
		want:    []string{"The server used service execute-api"}},
	{name: "X-Amz-Date changed after signing", request: explainGetQuery, client: explainClient{service: "service"},
		receive: replaceOnce("X-Amz-Date:20150830T123600Z", "X-Amz-Date:20150830T124100Z"),
		want:    []string{"The server signed another time: `20150830T124100Z`", "It received X-Amz-Date `20150830T124100Z`"}},
	{name: "body changed after signing", request: explainPostJSON, client: explainClient{service: "service"},
		receive: replaceOnce(`{"a":1}`, `{"a": 1}`),
		want:    []string{"The payload hash differs", "The body changed after signing"}},
	{name: "presigned URL signed with a body hash", request: "GET /bucket/key HTTP/1.1\nHost:s3.amazonaws.com\n",
		client: explainClient{service: "s3", presign: true, forge: replaceCreqLine(-1, sigv4.EmptySHA256)},
		want:   []string{"The client signed the payload hash e3b0c44298fc... (the SHA-256 of an empty body), where the server uses UNSIGNED-PAYLOAD"}},
	{name: "server holds another secret", request: explainGetQuery, client: explainClient{service: "service"},
		server: explainServer{secret: "another/secret"},
		want:   []string{"the signature is the right one for the secret access key found here for AKIDEXAMPLE: the server holds another secret"}},
	{name: "method changed on the way", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\n", client: explainClient{service: "service"},
		receive: replaceOnce("POST ", "GET "),
		want:    []string{"The server computed method GET; the request was signed as POST"}},
	{name: "method, JSON error body", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\n", client: explainClient{service: "service"},
		receive: replaceOnce("POST ", "GET "), server: explainServer{format: "json"},
		want: []string{"The server computed method GET"}},
	{name: "method, query API error body", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\n", client: explainClient{service: "service"},
		receive: replaceOnce("POST ", "GET "), server: explainServer{format: "query"},
		want: []string{"The server computed method GET"}},
	{name: "trailing slash added by a proxy", request: "GET /items HTTP/1.1\nHost:example.amazonaws.com\n", client: explainClient{service: "service"},
		receive: replaceOnce("GET /items ", "GET /items/ "),
		want:    []string{"The server received the path with a trailing slash (`/items/`)"}},
}

// exchange is what the client sent and what the server answered.
func (tc causeCase) exchange(t testing.TB) (sent, answer string) {
	sent = tc.client.sign(t, tc.request)
	received := sent
	if tc.receive != nil {
		if received = tc.receive(sent); received == sent {
			t.Fatalf("the way to the server changes nothing in\n%s", sent)
		}
	}
	return sent, tc.server.answer(t, received)
}

func TestExplainCauses(t *testing.T) {
	for _, tc := range causeCases {
		t.Run(tc.name, func(t *testing.T) {
			explainEnv(t)
			sent, answer := tc.exchange(t)
			out, errOut, code := explainRun(t, sent, answer)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, errOut)
			}
			flat := strings.Join(strings.Fields(out), " ")
			for _, want := range tc.want {
				if !strings.Contains(flat, want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestExplainWithoutError checks the request alone against the
// credentials.
func TestExplainWithoutError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		request string
		client  explainClient
		flags   []string
		want    string
	}{
		{"correctly signed", explainGetQuery, explainClient{service: "service"}, nil,
			"This request is correctly signed for these credentials (AKIDEXAMPLE, 20150830/us-east-1/service)"},
		{"correctly signed presigned URL", "GET /bucket/key HTTP/1.1\nHost:s3.amazonaws.com\n", explainClient{service: "s3", presign: true}, nil,
			"This request is correctly signed for these credentials"},
		{"correctly signed for another region", explainGetQuery, explainClient{service: "service"}, []string{"--region", "eu-west-1"},
			"correctly signed for these credentials, but: The request was signed for region us-east-1, but the server is in eu-west-1 (--region)"},
		{"host names another region", "GET / HTTP/1.1\nHost:sqs.eu-west-1.amazonaws.com\n", explainClient{service: "sqs"}, nil,
			"but the server is in eu-west-1 (the host name)"},
		{"query not sorted", explainGetQuery, explainClient{service: "service", forge: replaceCreqLine(2, "b=2&a=1")}, nil,
			"not sorted by name"},
		{"white space", explainPutMeta, explainClient{service: "s3", forge: replaceOnce("x-amz-meta-a:a b\n", "x-amz-meta-a:a  b\n")}, nil,
			"value has a double space that the server collapsed"},
		{"unknown mistake", explainGetQuery, explainClient{service: "service", forge: replaceCreqLine(0, "PATCH")}, nil,
			"no common signing mistake reproduces it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			explainEnv(t)
			out, errOut, code := explainRun(t, tc.client.sign(t, tc.request), "", tc.flags...)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, errOut)
			}
			if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, tc.want) {
				t.Errorf("the output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestExplainScopeDate: a client that takes the scope date in local time
// signs for another day than X-Amz-Date; a server refuses that before it
// computes anything.
func TestExplainScopeDate(t *testing.T) {
	explainEnv(t)
	sent := explainClient{service: "service"}.sign(t, explainGetQuery)
	sent = strings.Replace(sent, "Credential=AKIDEXAMPLE/20150830/", "Credential=AKIDEXAMPLE/20150829/", 1)
	out, errOut, code := explainRun(t, sent, "")
	if want := "The request was signed for another date: its credential scope says 20150829, its X-Amz-Date 20150830T123600Z"; code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		t.Errorf("exit %d, output lacks %q:\n%s%s", code, want, out, errOut)
	}
}

// TestExplainOtherErrors: errors that are not about what was signed get
// advice of their own.
func TestExplainOtherErrors(t *testing.T) {
	explainEnv(t)
	sent := explainClient{service: "service"}.sign(t, explainGetQuery)
	for body, want := range map[string]string{
		`<Error><Code>RequestTimeTooSkewed</Code><ServerTime>2015-08-30T15:00:00Z</ServerTime></Error>`: "too far from the server's clock, which said 2015-08-30T15:00:00Z",
		`<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>`:            "The server used region eu-west-1",
		`{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"no"}`:              "answered UnrecognizedClientException",
	} {
		out, errOut, code := explainRun(t, sent, body)
		if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("%s: exit %d, output lacks %q:\n%s%s", body, code, want, out, errOut)
		}
	}
}

func TestExplainUsage(t *testing.T) {
	explainEnv(t)
	var out, errOut bytes.Buffer
	if code := run([]string{"explain", "--request", "-", "--error", "-"}, strings.NewReader(""), &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "cannot both be standard input") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	unsigned := "GET / HTTP/1.1\nHost:example.amazonaws.com\n"
	if _, errOut, code := explainRun(t, unsigned, ""); code != 1 || !strings.Contains(errOut, "carries no signature") {
		t.Errorf("unsigned: exit %d: %s", code, errOut)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDOTHER")
	if _, errOut, code := explainRun(t, explainClient{service: "service"}.sign(t, explainGetQuery), ""); code != 1 || !strings.Contains(errOut, "credentials found are for AKIDOTHER") {
		t.Errorf("another key: exit %d: %s", code, errOut)
	}
	var help bytes.Buffer
	if code := run([]string{"help", "explain"}, strings.NewReader(""), &help, &help); code != 0 || !strings.Contains(help.String(), "Examples:") {
		t.Errorf("help: exit %d: %s", code, help.String())
	}
}

// FuzzExplainServerError feeds explain error bodies a server could send,
// seeded with genuine ones: whatever they say, explain must not fail on
// them, and must say something.
func FuzzExplainServerError(f *testing.F) {
	sent := explainClient{service: "service"}.sign(f, explainGetQuery)
	for _, format := range []string{"", "json", "query", "sts-only"} {
		f.Add(explainServer{format: format}.answer(f, strings.Replace(sent, "/us-east-1/", "/eu-west-1/", 1)))
	}
	f.Add(`{"Error":{"Code":"SignatureDoesNotMatch","StringToSign":"a\nb\nc/d/e/f\n00"}}`)
	f.Add("<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequest>GET\n/\n\n\n\n\n</CanonicalRequest></Error>")
	creds := func(string) (explain.Credentials, error) {
		return explain.Credentials{AccessKeyID: explainKey, SecretAccessKey: explainSecret}, nil
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := explain.Explain(explain.Input{Request: []byte(sent), Error: []byte(body), Credentials: creds})
		if err != nil {
			return // not an error body explain reads: said so
		}
		if r.Cause() == "" || r.Fix() == "" {
			t.Fatalf("no finding for %q", body)
		}
		if err := r.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
