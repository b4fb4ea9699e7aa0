package sigv4_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// dateForms are the spellings of the Date header that Amazon S3 reads
// when a request has no X-Amz-Date, all of testTime.
var dateForms = []string{
	"Tue, 24 Nov 2026 12:00:00 GMT",   // RFC 1123, as net/http writes it
	"Tue, 24 Nov 2026 12:00:00 -0000", // Python's formatdate, as botocore signs it
	"Tue, 24 Nov 2026 13:00:00 +0100", // a numeric zone
	"Tue, 24 Nov 2026 12:00:00 UTC",
	"Tuesday, 24-Nov-26 12:00:00 GMT", // RFC 850
	"Tue Nov 24 12:00:00 2026",        // ANSI C asctime
	"20261124T120000Z",                // ISO 8601 basic
}

// dateSigned returns a request signed with a Date header of value date and
// no X-Amz-Date. The signature is computed from the string to sign the
// verifier reports for a wrong one, after checking that its time is the
// one the Date says.
func dateSigned(t *testing.T, v *sigv4.Verifier, date string, want time.Time) *http.Request {
	t.Helper()
	make := func(sig string) *http.Request {
		req := newRequest(t, "GET", "https://example.execute-api.us-east-1.amazonaws.com/prod/items", "")
		req.Header.Set("Date", date)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testCreds.AccessKeyID+
			"/"+want.Format("20060102")+"/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature="+sig)
		return onTheWire(t, req)
	}
	_, err := v.Verify(make(strings.Repeat("0", 64)))
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("Date %q: %v, want SignatureDoesNotMatch for the placeholder", date, err)
	}
	if lines := strings.Split(e.StringToSign, "\n"); len(lines) < 2 || lines[1] != want.Format("20060102T150405Z") {
		t.Fatalf("Date %q: string to sign has time %q, want %s", date, lines[1], want.Format("20060102T150405Z"))
	}
	if !strings.Contains(e.CanonicalRequest, "\ndate:"+date+"\n") {
		t.Fatalf("Date %q: not signed as sent:\n%s", date, e.CanonicalRequest)
	}
	key := sigv4.DeriveSigningKey(testCreds.SecretAccessKey, sigv4.Scope{Date: want.Format("20060102"), Region: "us-east-1", Service: "execute-api"})
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(e.StringToSign))
	return make(hex.EncodeToString(mac.Sum(nil)))
}

// TestDateHeader: without X-Amz-Date, every form of Date that S3 reads is
// the request's time; the signature covers it as sent; changing it after
// signing, sending two, or a form S3 does not read is refused; X-Amz-Date
// wins when both are present.
func TestDateHeader(t *testing.T) {
	v := testVerifier(testTime)
	for _, date := range dateForms {
		req := dateSigned(t, v, date, testTime)
		if _, err := v.Verify(req); err != nil {
			t.Errorf("Date %q: %v", date, err)
		}
		moved := req.Clone(req.Context())
		moved.Header.Set("Date", strings.Replace(date, "12:00:00", "12:00:01", 1))
		if moved.Header.Get("Date") == date { // ISO basic, +0100
			moved.Header.Set("Date", "Tue, 24 Nov 2026 12:00:01 GMT")
		}
		checkCode(t, v, moved, "SignatureDoesNotMatch")
		two := req.Clone(req.Context())
		two.Header.Add("Date", date)
		checkCode(t, v, two, "AccessDenied")
	}
	for _, bad := range []string{"", "yesterday", "2026-11-24T12:00:00Z", "Tue, 24 Nov 2026 12:00:00 PST", "1764000000"} {
		req := newRequest(t, "GET", "https://example.execute-api.us-east-1.amazonaws.com/prod/items", "")
		req.Header.Set("Date", bad)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testCreds.AccessKeyID+
			"/20261124/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature="+strings.Repeat("0", 64))
		checkCode(t, v, onTheWire(t, req), "AccessDenied")
	}
	// Both: the signer's X-Amz-Date is the time, Date a signed header.
	req := newRequest(t, "GET", "https://example.execute-api.us-east-1.amazonaws.com/prod/items", "")
	req.Header.Set("Date", "Mon, 01 Jan 2001 00:00:00 GMT")
	if err := testSigner("execute-api").Sign(req); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(onTheWire(t, req)); err != nil {
		t.Errorf("X-Amz-Date and an old Date: %v", err)
	}
	// A Date out of the clock skew is refused like an X-Amz-Date.
	old := testTime.Add(-time.Hour)
	checkCode(t, v, dateSigned(t, testVerifier(old), old.Format(http.TimeFormat), old), "RequestTimeTooSkewed")
}

func checkCode(t *testing.T, v *sigv4.Verifier, req *http.Request, code string) {
	t.Helper()
	_, err := v.Verify(req)
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("Date %q: %v, want %s", req.Header.Values("Date"), err, code)
	}
}
