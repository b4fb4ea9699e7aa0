package postpolicy_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/postpolicy"
)

// FuzzVerify feeds arbitrary forms (and policies) to the verifier: it
// answers every one with an upload or an error, within its bounds.
func FuzzVerify(f *testing.F) {
	creds := sigv4.Credentials{AccessKeyID: "AKIDFUZZ", SecretAccessKey: "fuzz"}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	signed, _ := postpolicy.Sign(postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: []postpolicy.Condition{
		postpolicy.StartsWith("key", "u/"), postpolicy.ContentLengthRange(0, 64)}}, creds, "us-east-1", now, map[string]string{"key": "u/x"})
	var seed bytes.Buffer
	seed.WriteString("--B\r\n")
	for k, v := range signed {
		seed.WriteString("Content-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n--B\r\n")
	}
	seed.WriteString("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nhello\r\n--B--\r\n")
	f.Add(seed.Bytes())
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1,2],{"a":"b"},["eq","$x",""]]}`)) +
		"\r\n--B--\r\n"))
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"*"}, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "https://b.s3.amazonaws.com/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		up, err := v.Verify(req, "b")
		if err == nil {
			io.Copy(io.Discard, up.File)
		}
	})
}
