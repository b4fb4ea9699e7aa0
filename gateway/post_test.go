package gateway_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/postpolicy"
)

// postUpload signs a policy for creds and returns a form of its fields,
// extra fields and the file, to the gateway's /bucket.
func postUpload(t *testing.T, e *env, fields map[string]string, extra map[string]string, file []byte) *http.Request {
	t.Helper()
	now := time.Now()
	p := postpolicy.Policy{Expiration: now.Add(time.Minute), Conditions: []postpolicy.Condition{
		postpolicy.StartsWith("key", "uploads/"), postpolicy.ContentLengthRange(1, 1<<20)}}
	signed, err := postpolicy.Sign(p, creds, region, now, fields)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range signed {
		w.WriteField(k, v)
	}
	for k, v := range extra {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "report final.txt")
	fw.Write(file)
	w.Close()
	req := e.request(t, "POST", "/bucket", b.Bytes())
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

// TestPostUpload: a verified POST upload reaches the upstream as its
// PutObject (key with ${filename}, Content-Type, metadata, ACL, the file);
// the client gets 204, 201 with the XML, or the 303 to its redirect; a
// tampered form or a file over the range reaches nothing.
func TestPostUpload(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	file := []byte("a report, uploaded from a browser")
	fields := map[string]string{"key": "uploads/${filename}", "Content-Type": "text/plain", "x-amz-meta-owner": "alice", "acl": "private"}
	resp := e.do(t, postUpload(t, e, fields, nil, file))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	r := got[0]
	if r.Method != "PUT" || r.Path != "/bucket/uploads/report final.txt" ||
		string(r.Body) != string(file) || r.Header.Get("Content-Type") != "text/plain" || r.Header.Get("X-Amz-Meta-Owner") != "alice" ||
		r.Header.Get("X-Amz-Acl") != "private" || r.Header.Get(gateway.HeaderAccessKey) != creds.AccessKeyID || !r.Complete {
		t.Errorf("the upstream received %s %s (%s) %q %v", r.Method, r.Path, r.RawPath, r.Body, r.Header)
	}

	withStatus := map[string]string{"key": "uploads/${filename}", "success_action_status": "201"}
	resp = e.do(t, postUpload(t, e, withStatus, nil, file))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(resp.Body), "<Key>uploads/report final.txt</Key>") {
		t.Errorf("201: %d %s", resp.StatusCode, resp.Body)
	}
	withRedirect := map[string]string{"key": "uploads/${filename}", "success_action_redirect": "http://app.example/done"}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rresp, err := noFollow.Do(postUpload(t, e, withRedirect, nil, file))
	if err != nil {
		t.Fatal(err)
	}
	rresp.Body.Close()
	if rresp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(rresp.Header.Get("Location"), "http://app.example/done?bucket=bucket") {
		t.Errorf("redirect: %d %v", rresp.StatusCode, rresp.Header)
	}

	before := len(e.received(t))
	checkError(t, e.do(t, postUpload(t, e, fields, map[string]string{"x-amz-meta-extra": "1"}, file)), http.StatusForbidden, "AccessDenied")
	checkError(t, e.do(t, postUpload(t, e, fields, nil, bytes.Repeat([]byte("x"), 2<<20))), http.StatusBadRequest, "EntityTooLarge")
	checkNoneComplete(t, e.received(t)[before:])
}

// TestPostPassthrough: with PostPolicy PostPassthrough the upstream gets
// the verified form itself, byte for byte, as a POST not signed again
// (its signature is the client's), and its answer as it is; a tampered
// form or a file over the range reaches nothing.
func TestPostPassthrough(t *testing.T) {
	e := newEnv(t, gateway.Config{PostPolicy: gateway.PostPassthrough,
		Signing: &gateway.Signing{Credentials: gateway.StaticCredentials(upstreamCreds)}})
	file := bytes.Repeat([]byte("a form for an upstream that reads forms\n"), 5000) // 200 KB: many reads
	fields := map[string]string{"key": "uploads/${filename}", "success_action_status": "201"}
	req := postUpload(t, e, fields, nil, file)
	sent, _ := req.GetBody()
	var form bytes.Buffer
	form.ReadFrom(sent)
	resp := e.do(t, req)
	if resp.StatusCode != http.StatusOK { // the upstream's own answer, not S3's 201
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	r := got[0]
	if r.Method != "POST" || r.Path != "/bucket" || !bytes.Equal(r.Body, form.Bytes()) || !r.Complete ||
		r.Header.Get("Content-Type") != req.Header.Get("Content-Type") || r.Header.Get("Authorization") != "" {
		t.Errorf("the upstream received %s %s, %d bytes (want the form's %d), Content-Type %q, Authorization %q",
			r.Method, r.Path, len(r.Body), form.Len(), r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
	}
	before := len(got)
	checkError(t, e.do(t, postUpload(t, e, fields, map[string]string{"x-amz-meta-extra": "1"}, file)), http.StatusForbidden, "AccessDenied")
	checkError(t, e.do(t, postUpload(t, e, fields, nil, bytes.Repeat([]byte("x"), 2<<20))), http.StatusBadRequest, "EntityTooLarge")
	checkNoneComplete(t, e.received(t)[before:])
	if _, err := gateway.New(gateway.Config{Verifier: newVerifier(), PostPolicy: "form"}); err == nil {
		t.Error("an unknown PostPolicy was accepted")
	}
}
