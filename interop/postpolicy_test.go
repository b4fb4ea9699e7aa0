package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/postpolicy"
)

// postServer verifies POST uploads (path-style: the bucket is the path)
// and keeps the files it accepted.
type postServer struct {
	*httptest.Server
	mu     sync.Mutex
	stored map[string][]byte
}

func newPostServer(t *testing.T) *postServer {
	v := &postpolicy.Verifier{Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}),
		Regions: []string{region}}
	s := &postServer{stored: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket := strings.Trim(r.URL.Path, "/")
		form := captureForm(r)
		up, err := v.Verify(r, bucket)
		var data []byte
		if err == nil {
			data, err = io.ReadAll(up.File)
		}
		if err == nil && form != nil {
			saveFuzzSeed(t, r.Header.Get("Content-Type"), bucket, form)
		}
		var e *sigv4.Error
		if errors.As(err, &e) {
			w.WriteHeader(e.Status)
			io.WriteString(w, "<Error><Code>"+e.Code+"</Code><Message>"+e.Message+"</Message></Error>")
			return
		} else if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s.mu.Lock()
		s.stored[bucket+"/"+up.Key] = data
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestPostPolicyBoto3: forms made by boto3's generate_presigned_post, sent
// with requests and with curl -F, are accepted and the file kept as sent;
// each tampered one (a field changed, a field added, the policy edited,
// over the size range, expired, another secret) is refused with S3's code
// and nothing kept.
func TestPostPolicyBoto3(t *testing.T) {
	requireBoto3(t)
	requireCommand(t, "curl", "apt-get install -y curl")
	s := newPostServer(t)
	data := bytes.Repeat([]byte("posted by a form\n"), 100)
	file := filepath.Join(t.TempDir(), "upload.bin")
	writeFile(t, file, data)
	got := runScript(t, clientEnv(t, secretKey), "python3", filepath.Join("testdata", "boto3_post.py"), s.URL, "bucket", file)
	accepted := checkPostResults(t, got)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.stored) != 1 || !bytes.Equal(s.stored["bucket/uploads/upload.bin"], data) || accepted != 2 {
		t.Errorf("kept %d objects (the two good uploads are one key), accepted %d", len(s.stored), accepted)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// postForm sends fields then the file as multipart/form-data to url, and
// returns the status and the error code.
func postForm(t *testing.T, url string, fields map[string]string, name string, data []byte) (int, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	resp, err := http.Post(url, w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	code, _, _ := strings.Cut(string(body), "</Code>")
	_, code, _ = strings.Cut(code, "<Code>")
	return resp.StatusCode, code
}

// TestPostPolicyGoClients: the forms of aws-sdk-go-v2's PresignPostObject
// and minio-go's PresignedPostPolicy are accepted, and refused with a
// field changed or another secret.
func TestPostPolicyGoClients(t *testing.T) {
	s := newPostServer(t)
	data := []byte("uploaded by a Go SDK's form")
	ctx := context.Background()
	forms := map[string]func(secret string) (string, map[string]string){
		"aws-sdk-go-v2": func(secret string) (string, map[string]string) {
			c, _ := goClients(s.URL, sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret})
			p, err := s3.NewPresignClient(c).PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("go-v2.txt")})
			if err != nil {
				t.Fatal(err)
			}
			return p.URL, p.Values
		},
		"minio-go": func(secret string) (string, map[string]string) {
			c, err := minio.New(strings.TrimPrefix(s.URL, "http://"), &minio.Options{
				Creds: miniocreds.NewStaticV4(accessKey, secret, ""), Region: region, BucketLookup: minio.BucketLookupPath})
			if err != nil {
				t.Fatal(err)
			}
			p := minio.NewPostPolicy()
			p.SetBucket("bucket")
			p.SetKey("minio.txt")
			p.SetExpires(time.Now().Add(5 * time.Minute))
			p.SetContentLengthRange(1, 1024)
			u, fields, err := c.PresignedPostPolicy(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return u.String(), fields
		},
	}
	for name, mk := range forms {
		t.Run(name, func(t *testing.T) {
			url, fields := mk(secretKey)
			if status, code := postForm(t, url, fields, "f.txt", data); status != http.StatusNoContent {
				t.Fatalf("as made: %d %s", status, code)
			}
			changed := maps.Clone(fields)
			changed["key"] += "x"
			if status, code := postForm(t, url, changed, "f.txt", data); code != "AccessDenied" {
				t.Errorf("the key changed: %d %s", status, code)
			}
			url, fields = mk(wrongSecret)
			if status, code := postForm(t, url, fields, "f.txt", data); code != "SignatureDoesNotMatch" {
				t.Errorf("another secret: %d %s", status, code)
			}
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range []string{"bucket/go-v2.txt", "bucket/minio.txt"} {
		if !bytes.Equal(s.stored[k], data) {
			t.Errorf("%s: %q", k, s.stored[k])
		}
	}
}

// TestGatewayPostPolicy: boto3's generate_presigned_post forms through the
// gateway, in front of moto and of the servers that check their own
// signatures (re-signed): the good ones stored as the PutObject they
// stand for (the object equal to the file), the tampered ones refused by
// the gateway before anything reaches the upstream.
func TestGatewayPostPolicy(t *testing.T) {
	requireBoto3(t)
	requireCommand(t, "curl", "apt-get install -y curl")
	forEachBackend(t, func(t *testing.T, f *gwFixture) {
		data := bytes.Repeat([]byte("posted through the gateway\n"), 200)
		file := filepath.Join(t.TempDir(), "upload.bin")
		writeFile(t, file, data)
		m := f.mark()
		got := runScript(t, gwEnv(t, f.creds), "python3", filepath.Join("testdata", "boto3_post.py"), f.http.URL, f.bucket, file)
		reqs := f.since(t, m)
		if len(got) != 8 {
			t.Fatalf("the client reported %+v", got)
		}
		for _, r := range got {
			want, _, _ := strings.Cut(r.Op, ":")
			if (want == "OK" && r.Status != http.StatusNoContent) || (want != "OK" && r.Code != want) {
				t.Errorf("%s: %d %s", r.Op, r.Status, r.Code)
			}
		}
		ok := 0
		for _, r := range reqs {
			switch {
			case r.Code == "OK":
				ok++
			case r.Upstream != 0:
				t.Errorf("a refused upload sent %d bytes upstream: %s", r.Upstream, r)
			}
		}
		if ok != 2 {
			t.Errorf("%d uploads forwarded, want the 2 good ones", ok)
		}
		f.expectStored(t, "uploads/upload.bin", data)
	})
}

// TestPostPolicyJSSDK: the form of the JS SDK v3's createPresignedPost,
// sent with curl -F and from Go, is accepted; changed, or with a file
// over its range, refused.
func TestPostPolicyJSSDK(t *testing.T) {
	requireJSSDK(t)
	requireCommand(t, "curl", "apt-get install -y curl")
	s := newPostServer(t)
	mk := func(secret string) (string, map[string]string) {
		out, err := run(t, clientEnv(t, secret), "node", filepath.Join(nodeDir, "presigned_post.js"), s.URL, "bucket", "js/${filename}", "1024")
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			URL    string
			Fields map[string]string
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return p.URL, p.Fields
	}
	url, fields := mk(secretKey)
	data := []byte("from the JS SDK's form")
	if status, code := postForm(t, url, fields, "js.txt", data); status != http.StatusNoContent {
		t.Fatalf("from Go: %d %s", status, code)
	}
	file := filepath.Join(t.TempDir(), "curl.txt")
	writeFile(t, file, data)
	args := []string{"-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}"}
	for k, v := range fields {
		args = append(args, "--form-string", k+"="+v)
	}
	if out, err := run(t, clientEnv(t, ""), "curl", append(args, "-F", "file=@"+file, url)...); err != nil || out != "204" {
		t.Errorf("curl -F: %s %v", out, err)
	}
	changed := maps.Clone(fields)
	changed["Content-Type"] = "image/png"
	if _, code := postForm(t, url, changed, "js.txt", data); code != "AccessDenied" {
		t.Errorf("Content-Type outside the policy: %s", code)
	}
	extra := maps.Clone(fields)
	extra["x-amz-meta-extra"] = "not in the policy"
	if _, code := postForm(t, url, extra, "js.txt", data); code != "AccessDenied" {
		t.Errorf("an uncovered field: %s", code)
	}
	edited := maps.Clone(fields)
	edited["Policy"] = editPolicy(t, fields["Policy"])
	if _, code := postForm(t, url, edited, "js.txt", data); code != "SignatureDoesNotMatch" {
		t.Errorf("the policy edited: %s", code)
	}
	if _, code := postForm(t, url, fields, "big.txt", make1K(2048)); code != "EntityTooLarge" {
		t.Errorf("over the range: %s", code)
	}
	url, fields = mk(wrongSecret)
	if _, code := postForm(t, url, fields, "js.txt", data); code != "SignatureDoesNotMatch" {
		t.Errorf("another secret: %s", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.stored["bucket/js/js.txt"], data) || !bytes.Equal(s.stored["bucket/js/curl.txt"], data) {
		t.Errorf("stored %v", maps.Keys(s.stored))
	}
}

func make1K(n int) []byte { return bytes.Repeat([]byte("x"), n) }

// editPolicy returns the base64 policy document with its content-length
// range widened, as an attacker would, keeping the signature as it was.
func editPolicy(t *testing.T, policy string) string {
	t.Helper()
	doc, err := base64.StdEncoding.DecodeString(policy)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	conds, _ := p["conditions"].([]any)
	p["conditions"] = append(conds, []any{"content-length-range", 0, 1 << 30})
	out, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(out)
}

// The forms the clients send are the seeds of postpolicy's FuzzVerify:
// with SIGV4_POST_CORPUS=DIR, every form accepted here is written to DIR
// in the Go fuzzing corpus format (postpolicy/testdata/fuzz/FuzzVerify
// holds those of boto3, the JS SDK, aws-sdk-go-v2, minio-go, curl -F and
// requests).

func captureForm(r *http.Request) []byte {
	if os.Getenv("SIGV4_POST_CORPUS") == "" {
		return nil
	}
	form, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(form))
	return form
}

func saveFuzzSeed(t *testing.T, contentType, bucket string, form []byte) {
	sum := sha256.Sum256(form)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + hex.EncodeToString(sum[:6])
	seed := "go test fuzz v1\nstring(" + strconv.Quote(contentType) + ")\nstring(" + strconv.Quote(bucket) + ")\n[]byte(" + strconv.Quote(string(form)) + ")\n"
	if err := os.WriteFile(filepath.Join(os.Getenv("SIGV4_POST_CORPUS"), name), []byte(seed), 0o644); err != nil {
		t.Error(err)
	}
}

// TestGatewayPostPassthrough: with --post-policy passthrough the gateway
// hands MinIO, which reads POST forms and checks their signatures itself,
// the form as boto3 made it (signed with a key both know): MinIO stores
// the file. A file over the policy's range is refused by the gateway and
// MinIO never sees it; neither does it see a form signed with another
// secret.
func TestGatewayPostPassthrough(t *testing.T) {
	requireBoto3(t)
	m := startMinio(t)
	const bucket = "passthrough"
	m.createBucket(t, bucket)
	u, _ := url.Parse(m.URL)
	var upstream atomic.Int64
	gw, err := gateway.New(gateway.Config{
		Verifier: &sigv4.Verifier{Keys: sigv4.NewKeyring(m.root), Regions: []string{region}, Services: []string{"s3"}},
		Upstream: u, PostPolicy: gateway.PostPassthrough,
		Transport: countingTransport{&upstream}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()
	data := bytes.Repeat([]byte("a form MinIO checks itself\n"), 100)
	file := filepath.Join(t.TempDir(), "upload.bin")
	writeFile(t, file, data)
	got := runScript(t, gwEnv(t, m.root), "python3", filepath.Join("testdata", "boto3_post.py"), front.URL, bucket, file)
	if accepted := checkPostResults(t, got); accepted != 2 {
		t.Errorf("%d accepted, want the 2 good ones", accepted)
	}
	if n := upstream.Load(); n != 2 {
		t.Errorf("MinIO was sent %d requests, want only the 2 good forms", n)
	}
	status, stored := m.get(t, bucket, "uploads/upload.bin")
	if status != http.StatusOK || !bytes.Equal(stored, data) {
		t.Errorf("MinIO holds %d, %d bytes; want the %d uploaded", status, len(stored), len(data))
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// checkPostResults checks what boto3_post.py reported (8 uploads, each
// answered with the code its op names, 204 for OK), and returns how many
// were accepted.
func checkPostResults(t *testing.T, got []opResult) int {
	t.Helper()
	if len(got) != 8 {
		t.Fatalf("the client reported %+v", got)
	}
	accepted := 0
	for _, r := range got {
		want, _, _ := strings.Cut(r.Op, ":")
		switch {
		case want == "OK" && r.Status == http.StatusNoContent:
			accepted++
		case want == "OK":
			t.Errorf("%s: %d %s, want 204", r.Op, r.Status, r.Code)
		case r.Code != want:
			t.Errorf("%s: %d %s, want %s", r.Op, r.Status, r.Code, want)
		}
	}
	return accepted
}
