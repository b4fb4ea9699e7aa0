package sigv2

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

type examples struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	Domains  []string `json:"virtual_host_domains"`
	Examples []struct {
		Name, Method, Host, Target, Expires string
		CNAME                               bool `json:"cname"`
		Headers                             [][2]string
		StringToSign                        string `json:"string_to_sign"`
		Signature                           string
		Erratum                             string
		RuleStringToSign                    string `json:"rule_string_to_sign"`
	}
}

func loadExamples(t *testing.T) examples {
	t.Helper()
	data, err := os.ReadFile("../../testdata/s3-sigv2-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex examples
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Examples) != 9 {
		t.Fatalf("%d examples, want 9", len(ex.Examples))
	}
	return ex
}

func sign(secret, s string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestS3Examples builds the string to sign of each example of the S3
// documentation and checks it, and the published signature, byte for byte.
// The one erratum of the page is checked against its rule instead.
func TestS3Examples(t *testing.T) {
	ex := loadExamples(t)
	for _, e := range ex.Examples {
		t.Run(e.Name, func(t *testing.T) {
			h := http.Header{}
			for _, kv := range e.Headers {
				h.Add(kv[0], kv[1])
			}
			path, query, _ := strings.Cut(e.Target, "?")
			r := Request{Method: e.Method, Path: path, RawQuery: query, Header: h, Expires: e.Expires,
				Bucket: BucketOfHost(e.Host, ex.Domains)}
			if e.CNAME {
				r.Bucket, _, _ = strings.Cut(e.Host, ":")
			}
			got := string(AppendStringToSign(nil, &r))
			want := e.StringToSign
			if e.Erratum != "" {
				want = e.RuleStringToSign
				if sign(ex.Credentials.SecretAccessKey, e.StringToSign) != e.Signature {
					t.Errorf("the erratum's published signature does not match its published string")
				}
			}
			if got != want {
				t.Fatalf("string to sign\n got %q\nwant %q", got, want)
			}
			if e.Erratum == "" && sign(ex.Credentials.SecretAccessKey, got) != e.Signature {
				t.Errorf("signature %s, want %s", sign(ex.Credentials.SecretAccessKey, got), e.Signature)
			}
		})
	}
}

func TestResource(t *testing.T) {
	for _, c := range []struct{ bucket, path, query, want string }{
		{"", "/b/k", "", "/b/k"},
		{"", "/b", "", "/b/"},
		{"", "/b/", "", "/b/"},
		{"", "/", "", "/"},
		{"b", "/", "", "/b/"},
		{"b", "/k", "versionId=3&acl", "/b/k?acl&versionId=3"},
		{"b", "/", "uploads", "/b/?uploads"},
		{"", "/b/k", "uploadId=x%2By&partNumber=2", "/b/k?partNumber=2&uploadId=x+y"},
		// Sorted by name, bytes: upper case first.
		{"", "/b/k", "uploads&uploadId=1", "/b/k?uploadId=1&uploads"},
		// An escaped name is the sub-resource it decodes to.
		{"", "/b/k", "ac%6C", "/b/k?acl"},
		// Values are decoded, '+' is kept; a malformed escape is kept as sent.
		{"", "/b/k", "response-content-disposition=attachment%3B%20filename%3Da+b", "/b/k?response-content-disposition=attachment; filename=a+b"},
		{"", "/b/k", "response-content-type=%zz", "/b/k?response-content-type=%zz"},
		// Other parameters are not signed; "acl=" keeps its '=' as botocore signs it.
		{"", "/b/", "prefix=a&max-keys=2&list-type=2", "/b/"},
		{"", "/b/", "acl=", "/b/?acl="},
		{"", "/b/", "delete", "/b/?delete"},
	} {
		got := string(AppendResource(nil, &Request{Bucket: c.bucket, Path: c.path, RawQuery: c.query}))
		if got != c.want {
			t.Errorf("%q %q %q: got %q, want %q", c.bucket, c.path, c.query, got, c.want)
		}
	}
}

func TestAmzHeaders(t *testing.T) {
	h := http.Header{"X-Amz-Meta-B": {" two ", "three"}, "X-Amz-Meta-A": {"one"}, "x-amz-meta-a": {"uno"},
		"X-Amz-Meta-Fold": {"a\r\n  b"}, "Content-Type": {" text/plain "}}
	got := string(AppendStringToSign(nil, &Request{Method: "PUT", Path: "/b/k", Header: h}))
	if !strings.HasPrefix(got, "PUT\n\ntext/plain\n\n") {
		t.Errorf("positional lines: %q", got)
	}
	// Spellings of one name are merged in map order; check the set.
	for _, line := range []string{"x-amz-meta-b:two,three\n", "x-amz-meta-fold:a b\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in %q", line, got)
		}
	}
	if !strings.Contains(got, "x-amz-meta-a:one,uno\n") && !strings.Contains(got, "x-amz-meta-a:uno,one\n") {
		t.Errorf("x-amz-meta-a not merged: %q", got)
	}
	if i, j := strings.Index(got, "x-amz-meta-a:"), strings.Index(got, "x-amz-meta-b:"); i > j {
		t.Errorf("not sorted: %q", got)
	}
	// With x-amz-date the Date line is empty; presigned, Expires takes it
	// and the x-amz-* query parameters are headers.
	h = http.Header{"Date": {"Tue, 27 Mar 2007 21:20:27 +0000"}, "X-Amz-Date": {"Tue, 27 Mar 2007 21:20:26 +0000"}}
	if got := string(AppendStringToSign(nil, &Request{Method: "GET", Path: "/", Header: h})); got != "GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/" {
		t.Errorf("x-amz-date: %q", got)
	}
	r := Request{Method: "GET", Path: "/b/k", Header: http.Header{}, Expires: "100",
		RawQuery: "AWSAccessKeyId=A&Signature=s&Expires=100&x-amz-security-token=t%2Bk&X-Amz-Meta-N=v"}
	if got := string(AppendStringToSign(nil, &r)); got != "GET\n\n\n100\nx-amz-meta-n:v\nx-amz-security-token:t+k\n/b/k" {
		t.Errorf("presigned: %q", got)
	}
}

func TestParseHeader(t *testing.T) {
	id, sig, err := ParseHeader("AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
	if err != nil || id != "AKIAIOSFODNN7EXAMPLE" || sig != "bWq2s1WEIj+Ydj0vQ697zp+IXMU=" {
		t.Fatalf("%q %q %v", id, sig, err)
	}
	for _, bad := range []string{"AWS ", "AWS AKID", "AWS :sig", "AWS AKID:", "AWS4 AKID:sig", "AWS AK ID:sig",
		"AWS " + strings.Repeat("A", 129) + ":sig", "AWS AKID:" + strings.Repeat("s", 57)} {
		if _, _, err := ParseHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery("AWSAccessKeyId=AKID&Signature=a%2Bb%3D&Expires=1175139620&x-amz-security-token=tok&prefix=p")
	if err != nil || q.AccessKeyID != "AKID" || q.Signature != "a+b=" || q.Expires != "1175139620" || q.SecurityToken != "tok" {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []string{
		"AWSAccessKeyId=AKID&Signature=s", "AWSAccessKeyId=AKID&Expires=1", "Signature=s&Expires=1",
		"AWSAccessKeyId=AKID&Signature=s&Expires=1&Signature=t", "AWSAccessKeyId=AKID&Signature=%zz&Expires=1",
		"AWSAccessKeyId=AKID&Signature=s&Expires=1&X-Amz-Security-Token=a&x-amz-security-token=b",
	} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !IsPresigned("Signature=s&AWSAccessKeyId=A") || !IsPresigned("AWSAccess%4BeyId=A&Signature=s") || IsPresigned("Signature=s") {
		t.Error("IsPresigned")
	}
}

func TestBucketOfHost(t *testing.T) {
	domains := []string{"s3.example.com", "S3.Other.Example."}
	for host, want := range map[string]string{
		"photos.s3.example.com":           "photos",
		"Photos.S3.Example.com:8080":      "photos",
		"my.dotted.bucket.s3.example.com": "my.dotted.bucket",
		"s3.example.com":                  "",
		"x.s3.other.example":              "x",
		"evil-s3.example.com":             "",
		"127.0.0.1:9000":                  "",
		"[::1]:9000":                      "",
	} {
		if got := BucketOfHost(host, domains); got != want {
			t.Errorf("%s: %q, want %q", host, got, want)
		}
	}
}

// FuzzIsPresigned: IsPresigned, which decodes only the names that could
// be the two it seeks, answers as decoding every name does.
func FuzzIsPresigned(f *testing.F) {
	for _, q := range []string{"", "Signature=s&AWSAccessKeyId=A", "AWSAccess%4BeyId=A&Signature=s", "%53ignature=s&%41WSAccessKeyId=a",
		"Signature", "&&Signature=&AWSAccessKeyId", "X-Amz-Signature=s&AWSAccessKeyId=A", "Sig+nature=s"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var a, s bool
		for _, field := range strings.Split(q, "&") {
			name, _, _ := strings.Cut(field, "=")
			switch decodeName(name) {
			case ParamAccessKeyID:
				a = true
			case ParamSignature:
				s = true
			}
		}
		if got := IsPresigned(q); got != (a && s) {
			t.Fatalf("IsPresigned(%q) = %v, want %v", q, got, a && s)
		}
	})
}
