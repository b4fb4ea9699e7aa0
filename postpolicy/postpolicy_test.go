package postpolicy_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/postpolicy"
)

type field struct{ name, value string }

// form builds a multipart/form-data POST of fields, then the file.
func form(t *testing.T, fields []field, filename string, file []byte) *http.Request {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range fields {
		w.WriteField(f.name, f.value)
	}
	fw, err := w.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	w.Close()
	req := httptest.NewRequest("POST", "https://bucket.s3.amazonaws.com/", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

func code(err error) string {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

type example struct {
	Name        string
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	Date     string
	Region   string
	Fields   map[string]string `json:"form_fields_from_policy"`
	Expected struct {
		PolicyBase64 string `json:"policy_base64"`
		PolicyJSON   string `json:"policy_json"`
		Signature    string
	}
}

func loadExample(t *testing.T) example {
	t.Helper()
	data, err := os.ReadFile("../testdata/s3-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Examples []example }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range doc.Examples {
		if e.Name == "browser-post-policy" {
			return e
		}
	}
	t.Fatal("no browser-post-policy example")
	return example{}
}

// TestS3Example: the browser upload of the S3 documentation — its policy
// signs to the published signature, and the form it describes verifies;
// each field changed, a field added, the policy edited, the clock past
// the expiration, and another secret are refused with S3's code.
func TestS3Example(t *testing.T) {
	e := loadExample(t)
	creds := sigv4.Credentials{AccessKeyID: e.Credentials.AccessKeyID, SecretAccessKey: e.Credentials.SecretAccessKey}
	key := sigv4.DeriveSigningKey(creds.SecretAccessKey, sigv4.Scope{Date: e.Date, Region: e.Region, Service: "s3"})
	if got := postpolicy.Signature(key, e.Expected.PolicyBase64); got != e.Expected.Signature {
		t.Fatalf("signature %s, want %s", got, e.Expected.Signature)
	}
	if doc, _ := base64.StdEncoding.DecodeString(e.Expected.PolicyBase64); string(doc) != e.Expected.PolicyJSON {
		t.Fatal("the policy does not decode to the documented JSON")
	}
	fields := []field{
		{"key", "user/user1/${filename}"}, {"acl", "public-read"},
		{"success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
		{"Content-Type", "image/jpeg"}, {"x-amz-meta-uuid", "14365123651274"}, {"x-amz-server-side-encryption", "AES256"},
		{"X-Amz-Credential", e.Fields["x-amz-credential"]}, {"X-Amz-Algorithm", e.Fields["x-amz-algorithm"]},
		{"X-Amz-Date", e.Fields["x-amz-date"]}, {"x-amz-meta-tag", ""},
		{"Policy", e.Expected.PolicyBase64}, {"X-Amz-Signature", e.Expected.Signature},
	}
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"},
		Now: func() time.Time { return time.Date(2015, 12, 29, 12, 0, 0, 0, time.UTC) }}
	up, err := v.Verify(form(t, fields, "photo.jpg", []byte("jpeg bytes")), "sigv4examplebucket")
	if err != nil {
		t.Fatalf("the documented upload: %v", err)
	}
	body, err := io.ReadAll(up.File)
	if err != nil || string(body) != "jpeg bytes" || up.Key != "user/user1/photo.jpg" || up.ContentType != "image/jpeg" {
		t.Errorf("upload %+v, file %q, %v", up, body, err)
	}

	for i, f := range fields {
		if f.name == "x-amz-meta-tag" {
			continue // starts-with "": anything goes
		}
		changed := append([]field(nil), fields...)
		changed[i].value = strings.Replace(f.value, "1", "2", 1) + "x"
		want := "AccessDenied"
		switch strings.ToLower(f.name) {
		case "content-type":
			changed[i].value = "text/html" // "image/jpegx" still starts with image/
		case "policy", "x-amz-signature": // the policy is the string to sign
			want = "SignatureDoesNotMatch"
		case "x-amz-credential", "x-amz-date", "x-amz-algorithm":
			want = "InvalidArgument"
		}
		if _, err := v.Verify(form(t, changed, "photo.jpg", []byte("x")), "sigv4examplebucket"); code(err) != want {
			t.Errorf("%s changed: %v, want %s", f.name, err, want)
		}
	}
	for name, c := range map[string]struct {
		fields []field
		bucket string
		v      *postpolicy.Verifier
		want   string
	}{
		"a field no condition covers": {append(append([]field(nil), fields...), field{"x-amz-meta-extra", "1"}), "sigv4examplebucket", v, "AccessDenied"},
		"an x-ignore- field":          {append(append([]field(nil), fields...), field{"x-ignore-me", "1"}), "sigv4examplebucket", v, ""},
		"another bucket":              {fields, "otherbucket", v, "AccessDenied"},
		"expired": {fields, "sigv4examplebucket", &postpolicy.Verifier{Keys: v.Keys, Regions: v.Regions,
			Now: func() time.Time { return time.Date(2015, 12, 30, 12, 0, 1, 0, time.UTC) }}, "AccessDenied"},
		"another secret": {fields, "sigv4examplebucket", &postpolicy.Verifier{Regions: v.Regions, Now: v.Now,
			Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "other"})}, "SignatureDoesNotMatch"},
		"an unknown key": {fields, "sigv4examplebucket", &postpolicy.Verifier{Regions: v.Regions, Now: v.Now,
			Keys: sigv4.NewKeyring()}, "InvalidAccessKeyId"},
	} {
		_, err := c.v.Verify(form(t, c.fields, "photo.jpg", []byte("x")), c.bucket)
		if code(err) != c.want {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if name == "expired" && !strings.Contains(err.Error(), "Policy expired") {
			t.Errorf("expired: %v", err)
		}
	}
}

// TestSignVerify: a policy signed here verifies; the file is held to its
// content-length-range while it streams; the fields are bounded.
func TestSignVerify(t *testing.T) {
	creds := sigv4.Credentials{AccessKeyID: "AKIDPOST", SecretAccessKey: "post-secret"}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	p := postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: []postpolicy.Condition{
		postpolicy.StartsWith("key", "uploads/"), postpolicy.ContentLengthRange(10, 100),
		postpolicy.StartsWith("Content-Type", "image/"),
	}}
	signed, err := postpolicy.Sign(p, creds, "eu-west-1", now, map[string]string{"bucket": "photos", "key": "uploads/${filename}"})
	if err != nil {
		t.Fatal(err)
	}
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"eu-west-1"}, Now: func() time.Time { return now }}
	upload := func(file []byte, extra ...field) (string, error) {
		var fields []field
		for k, val := range signed {
			fields = append(fields, field{k, val})
		}
		fields = append(fields, field{"Content-Type", "image/png"})
		fields = append(fields, extra...)
		up, err := v.Verify(form(t, fields, "a.png", file), "photos")
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(up.File)
		return up.Key + " " + string(b), err
	}
	if got, err := upload(bytes.Repeat([]byte("p"), 50)); err != nil || got != "uploads/a.png "+strings.Repeat("p", 50) {
		t.Errorf("within the range: %q %v", got, err)
	}
	if _, err := upload(bytes.Repeat([]byte("p"), 101)); code(err) != "EntityTooLarge" {
		t.Errorf("over the range: %v", err)
	}
	if _, err := upload([]byte("small")); code(err) != "EntityTooSmall" {
		t.Errorf("under the range: %v", err)
	}
	if _, err := upload(bytes.Repeat([]byte("p"), 50), field{"acl", "public-read"}); code(err) != "AccessDenied" {
		t.Errorf("an uncovered field: %v", err)
	}
	many := make([]field, 0, 200)
	for i := range 200 {
		many = append(many, field{"x-ignore-" + string(rune('a'+i%26)) + strings.Repeat("z", i/26), "1"})
	}
	if _, err := upload(bytes.Repeat([]byte("p"), 50), many...); code(err) != "MaxPostPreDataLengthExceededError" {
		t.Errorf("200 fields: %v", err)
	}
	if _, err := upload(bytes.Repeat([]byte("p"), 50), field{"x-ignore-big", strings.Repeat("b", 70<<10)}); code(err) != "MaxPostPreDataLengthExceededError" {
		t.Errorf("a 70 KiB field: %v", err)
	}
}

// TestDigestFields: a form's Content-MD5 and x-amz-checksum-* fields are
// checked against its file as S3 checks the headers: a match passes, a
// mismatch is BadDigest at the file's end, a malformed value is refused
// before any of the file is read.
func TestDigestFields(t *testing.T) {
	creds := sigv4.Credentials{AccessKeyID: "AKIDPOST", SecretAccessKey: "post-secret"}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	file := []byte("the file, as the form declares it")
	md := md5.Sum(file)
	sha := sha256.Sum256(file)
	good := map[string]string{
		"Content-MD5":           base64.StdEncoding.EncodeToString(md[:]),
		"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(sha[:]),
	}
	other := sha256.Sum256([]byte("another file"))
	cases := []struct {
		name   string
		fields map[string]string
		verify string // the code of Verify
		read   string // the code of reading the file
	}{
		{"Content-MD5 matches", map[string]string{"Content-MD5": good["Content-MD5"]}, "", ""},
		{"sha256 matches", map[string]string{"x-amz-checksum-sha256": good["x-amz-checksum-sha256"]}, "", ""},
		{"both match", good, "", ""},
		{"algorithm named", map[string]string{"x-amz-checksum-sha256": good["x-amz-checksum-sha256"], "x-amz-checksum-algorithm": "SHA256"}, "", ""},
		{"Content-MD5 of another file", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(other[:16])}, "", "BadDigest"},
		{"sha256 of another file", map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(other[:])}, "", "BadDigest"},
		{"Content-MD5 malformed", map[string]string{"Content-MD5": "not base64!"}, "InvalidDigest", ""},
		{"sha256 too short", map[string]string{"x-amz-checksum-sha256": good["Content-MD5"]}, "InvalidRequest", ""},
		{"two checksums", map[string]string{"x-amz-checksum-sha256": good["x-amz-checksum-sha256"], "x-amz-checksum-crc32": "AAAAAA=="}, "InvalidRequest", ""},
		{"another algorithm named", map[string]string{"x-amz-checksum-sha256": good["x-amz-checksum-sha256"], "x-amz-checksum-algorithm": "CRC32"}, "InvalidRequest", ""},
	}
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Now: func() time.Time { return now }}
	for _, c := range cases {
		conds := []postpolicy.Condition{postpolicy.Eq("key", "k")}
		for name, value := range c.fields {
			conds = append(conds, postpolicy.Eq(name, value))
		}
		signed, err := postpolicy.Sign(postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: conds}, creds, "us-east-1", now,
			map[string]string{"bucket": "b", "key": "k"})
		if err != nil {
			t.Fatal(err)
		}
		var fields []field
		for k, val := range signed {
			fields = append(fields, field{k, val})
		}
		for k, val := range c.fields {
			fields = append(fields, field{k, val})
		}
		up, err := v.Verify(form(t, fields, "f", file), "b")
		if code(err) != c.verify {
			t.Errorf("%s: Verify: %v, want %q", c.name, err, c.verify)
			continue
		}
		if err != nil {
			continue
		}
		got, err := io.ReadAll(up.File)
		if code(err) != c.read {
			t.Errorf("%s: reading the file: %v, want %q", c.name, err, c.read)
		}
		if err == nil && !bytes.Equal(got, file) {
			t.Errorf("%s: read %q", c.name, got)
		}
	}
}
