package main

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/postpolicy"
)

// TestPostPolicyCommand: sigv4 post-policy signs with the local
// credentials; the fields it prints (JSON), and those of the HTML page,
// make a form that the Verifier accepts, and refuses with a file over
// --max-size or a Content-Type outside the prefix.
func TestPostPolicyCommand(t *testing.T) {
	creds := proxyCreds(t) // AWS_ACCESS_KEY_ID/SECRET in the environment
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"eu-west-1"}}
	send := func(fields map[string]string, contentType string, file []byte) error {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, val := range fields {
			w.WriteField(k, val)
		}
		if contentType != "" {
			w.WriteField("Content-Type", contentType)
		}
		fw, _ := w.CreateFormFile("file", "cat.png")
		fw.Write(file)
		w.Close()
		req := httptest.NewRequest("POST", "http://gw/photos", &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
		up, err := v.Verify(req, "photos")
		if err == nil {
			_, err = io.ReadAll(up.File)
		}
		return err
	}
	var out, errOut bytes.Buffer
	args := []string{"post-policy", "--bucket", "photos", "--key", "uploads/${filename}", "--max-size", "1KiB",
		"--content-type-prefix", "image/", "--region", "eu-west-1", "--endpoint", "http://127.0.0.1:8080"}
	if code := run(args, nil, &out, &errOut); code != 0 {
		t.Fatalf("post-policy: %s", errOut.String())
	}
	var got struct {
		URL    string
		Fields map[string]string
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.URL != "http://127.0.0.1:8080/photos" {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if err := send(got.Fields, "image/png", []byte("png")); err != nil {
		t.Errorf("the JSON's fields: %v", err)
	}
	for name, c := range map[string]struct {
		ct   string
		file []byte
		want string
	}{
		"over --max-size":      {"image/png", bytes.Repeat([]byte("x"), 2048), "EntityTooLarge"},
		"another Content-Type": {"text/html", []byte("x"), "AccessDenied"},
	} {
		if err := send(got.Fields, c.ct, c.file); !strings.Contains(errString(err), c.want) {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
	}

	out.Reset()
	if code := run(append(args, "--html"), nil, &out, &errOut); code != 0 {
		t.Fatalf("post-policy --html: %s", errOut.String())
	}
	page := out.String()
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		fields[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	if !strings.Contains(page, `action="http://127.0.0.1:8080/photos"`) || !strings.Contains(page, `type="file" name="file"`) || len(fields) < 6 {
		t.Fatalf("page:\n%s", page)
	}
	if err := send(fields, "image/jpeg", []byte("jpeg")); err != nil {
		t.Errorf("the page's fields: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
