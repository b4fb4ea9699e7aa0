package gateway_test

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/internal/sigv2"
)

func signV2(req *http.Request, c sigv4.Credentials, expires string) {
	if expires == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	sts := sigv2.AppendStringToSign(nil, &sigv2.Request{Method: req.Method, Path: req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery, Header: req.Header, Expires: expires})
	sig := base64.StdEncoding.EncodeToString(sigv4.SigV2MAC(c.SecretAccessKey, sts))
	if expires == "" {
		req.Header.Set("Authorization", "AWS "+c.AccessKeyID+":"+sig)
		return
	}
	q := "AWSAccessKeyId=" + c.AccessKeyID + "&Expires=" + expires + "&Signature=" + url.QueryEscape(sig)
	if req.URL.RawQuery != "" {
		q = req.URL.RawQuery + "&" + q
	}
	req.URL.RawQuery = q
}

// TestSigV2Forward: with SigV2 on, a SigV2 upload and a SigV2 presigned
// GET reach the upstream without their signature and with the verified
// identity; a tampered one, and an upload that does not match its signed
// Content-MD5, do not; off, SigV2 is refused before anything is sent.
func TestSigV2Forward(t *testing.T) {
	v := newVerifier()
	v.SigV2 = true
	e := newEnv(t, gateway.Config{Verifier: v})
	data := testData(64 << 10)
	sum := md5.Sum(data)

	req := e.request(t, "PUT", "/bucket/key?uploadId=7&partNumber=1", data)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("X-Amz-Meta-Owner", "alice")
	signV2(req, creds, "")
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("SigV2 upload: answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 1 || !got[0].Complete || string(got[0].Body) != string(data) {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	h := got[0].Header
	if h.Get("Authorization") != "" || h.Get(gateway.HeaderAccessKey) != creds.AccessKeyID || h.Get(gateway.HeaderService) != "s3" ||
		h.Get(gateway.HeaderPrincipal) != principal || h.Get("X-Amz-Meta-Owner") != "alice" || got[0].RawQuery != "uploadId=7&partNumber=1" {
		t.Errorf("upstream headers %v, query %q", h, got[0].RawQuery)
	}

	req = e.request(t, "GET", "/bucket/key?response-content-type=text%2Fplain&x=1", nil)
	signV2(req, creds, strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("SigV2 presigned GET: answer %d: %s", resp.StatusCode, resp.Body)
	}
	got = e.received(t)
	if len(got) != 2 || got[1].RawQuery != "response-content-type=text%2Fplain&x=1" || got[1].Header.Get(gateway.HeaderAccessKey) != creds.AccessKeyID {
		t.Fatalf("presigned: the upstream received %+v", got[len(got)-1])
	}

	// Negative twins: a body that is not the one its signed Content-MD5
	// names, a tampered sub-resource, and SigV2 where it is off.
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)-1] ^= 1
	req = e.request(t, "PUT", "/bucket/key", corrupt)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	signV2(req, creds, "")
	checkError(t, e.do(t, req), http.StatusBadRequest, "BadDigest")
	checkNoneComplete(t, e.received(t)[2:])

	req = e.request(t, "GET", "/bucket/key?versionId=1", nil)
	signV2(req, creds, "")
	req.URL.RawQuery = "versionId=2"
	checkError(t, e.do(t, req), http.StatusForbidden, "SignatureDoesNotMatch")

	off := newEnv(t, gateway.Config{})
	req = off.request(t, "GET", "/bucket/key", nil)
	signV2(req, creds, "")
	resp := off.do(t, req)
	if se := checkError(t, resp, http.StatusBadRequest, "InvalidRequest"); !strings.Contains(se.Message, "--sigv2") {
		t.Errorf("off: %q", se.Message)
	}
	if n := len(off.received(t)); n != 0 {
		t.Errorf("off: the upstream received %d requests", n)
	}
	if n := len(e.received(t)); n < 2 || n > 3 {
		t.Errorf("the upstream received %d requests, want the 2 good ones (and perhaps a broken upload)", n)
	}
}
