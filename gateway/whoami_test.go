package gateway_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/gateway"
)

// newWhoami starts a Gateway with no upstream.
func newWhoami(t *testing.T, v *sigv4.Verifier) *httptest.Server {
	t.Helper()
	gw, err := gateway.New(gateway.Config{Verifier: v, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}

type callerIdentity struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Arn       string   `xml:"GetCallerIdentityResult>Arn"`
	UserID    string   `xml:"GetCallerIdentityResult>UserId"`
	Account   string   `xml:"GetCallerIdentityResult>Account"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

func TestWhoamiGetCallerIdentity(t *testing.T) {
	srv := newWhoami(t, newVerifier())
	post, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	get, _ := http.NewRequest("GET", srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	for _, req := range []*http.Request{post, get} {
		mustSign(t, signer("sts"), req)
		resp, body := send(t, req)
		var id callerIdentity
		if err := xml.Unmarshal(body, &id); err != nil {
			t.Fatalf("%s: answer %d: %v\n%s", req.Method, resp.StatusCode, err, body)
		}
		want := callerIdentity{XMLName: id.XMLName, Arn: principal, UserID: accessKey, Account: "123456789012",
			RequestID: resp.Header.Get("X-Amzn-Requestid")}
		if id != want || id.RequestID == "" || resp.Header.Get("Content-Type") != "text/xml" {
			t.Errorf("%s: %+v (%s), want %+v", req.Method, id, resp.Header.Get("Content-Type"), want)
		}
	}
}

func TestWhoamiJSON(t *testing.T) {
	keys := sigv4.NewKeyring(creds) // no principal
	srv := newWhoami(t, &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3"}})
	req, _ := http.NewRequest("GET", srv.URL+"/bucket/key", nil)
	mustSign(t, signer("s3"), req)
	resp, body := send(t, req)
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("answer %d: %v\n%s", resp.StatusCode, err, body)
	}
	want := map[string]string{"AccessKeyId": accessKey, "Arn": "arn:aws:iam::000000000000:user/" + accessKey,
		"Account": "000000000000", "UserId": accessKey}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestWhoamiStreaming checks that whoami reads a streaming body through,
// so that one that fails to verify fails the request.
func TestWhoamiStreaming(t *testing.T) {
	srv := newWhoami(t, newVerifier())
	data := testData(50 << 10)
	for _, tamper := range []bool{false, true} {
		req, _ := http.NewRequest("PUT", srv.URL+"/bucket/key", strings.NewReader(string(data)))
		chunkedSign(chunked.Options{ChunkSize: 16 << 10})(t, req)
		if tamper {
			req.Body = io.NopCloser(corrupt(req.Body, 20<<10))
		}
		resp, body := send(t, req)
		switch {
		case !tamper && resp.StatusCode != http.StatusOK:
			t.Errorf("answer %d: %s", resp.StatusCode, body)
		case tamper && (resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>SignatureDoesNotMatch</Code>")):
			t.Errorf("tampered: answer %d: %s", resp.StatusCode, body)
		}
	}
}

func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestAWSCLI runs `aws sts get-caller-identity` against a Gateway with no
// upstream, with the right secret and a wrong one.
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is required in CI")
		}
		t.Skip("no aws command (apt-get install -y awscli)")
	}
	srv := newWhoami(t, newVerifier())
	for _, tt := range []struct {
		secret, code string
	}{{secret, ""}, {"wrong-secret", "SignatureDoesNotMatch"}} {
		out, err := runAWS(t, tt.secret, "sts", "get-caller-identity", "--endpoint-url", srv.URL, "--output", "json")
		if tt.code != "" {
			if err == nil || !strings.Contains(err.Error(), tt.code) {
				t.Errorf("with a wrong secret: %v\n%s", err, out)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ UserId, Account, Arn string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if got.UserId != accessKey || got.Account != "123456789012" || got.Arn != principal {
			t.Errorf("aws sts get-caller-identity: %+v", got)
		}
	}
}

// runAWS runs the AWS CLI with only the given credentials, nothing from the
// machine's environment or files.
func runAWS(t *testing.T, secret string, args ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(name, "AWS_") && !strings.EqualFold(name, "no_proxy") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION="+region, "AWS_REGION="+region,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &cliError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

type cliError struct {
	err    error
	stderr string
}

func (e *cliError) Error() string { return e.err.Error() + "; stderr: " + e.stderr }

// TestQueryErrors checks the query protocol's errors, for STS.
func TestQueryErrors(t *testing.T) {
	srv := newWhoami(t, newVerifier())
	req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	s := signer("sts")
	s.Credentials.SecretAccessKey = "wrong"
	mustSign(t, s, req)
	resp, body := send(t, req)
	var e struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("answer %d: %v\n%s", resp.StatusCode, err, body)
	}
	if resp.StatusCode != 403 || e.Type != "Sender" || e.Code != "SignatureDoesNotMatch" || e.Message == "" ||
		e.RequestID == "" || e.RequestID != resp.Header.Get("X-Amzn-Requestid") {
		t.Errorf("answer %d: %+v", resp.StatusCode, e)
	}
}

// TestWhoamiPresignedCallerIdentity answers the token that EKS-style
// authenticators hand out: a GetCallerIdentity GET presigned by
// aws-sdk-go-v2's STS presign client, with a cluster header signed in and
// X-Amz-Expires set, sent back by whoever holds it. Without the signed
// header, or with another value, it is refused.
func TestWhoamiPresignedCallerIdentity(t *testing.T) {
	srv := newWhoami(t, newVerifier())
	client := sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  awscreds.NewStaticCredentialsProvider(accessKey, secret, ""),
	})
	const clusterHeader, cluster = "x-k8s-aws-id", "my-cluster"
	p, err := sts.NewPresignClient(client).PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{},
		func(o *sts.PresignOptions) {
			o.ClientOptions = append(o.ClientOptions, sts.WithAPIOptions(
				smithyhttp.AddHeaderValue(clusterHeader, cluster),
				smithyhttp.SetHeaderValue("X-Amz-Expires", "60"), // as EKS tokens: moved into the query
			))
		})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.URL, "X-Amz-Expires=60") || !strings.Contains(p.URL, "x-k8s-aws-id") {
		t.Fatalf("presigned URL %s lacks the expiry or the signed cluster header", p.URL)
	}
	for _, tc := range []struct {
		name, value string
		status      int
	}{
		{"as signed", cluster, http.StatusOK},
		{"other cluster", "other-cluster", http.StatusForbidden},
		{"no cluster header", "", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(p.Method, p.URL, nil)
		if tc.value != "" {
			req.Header.Set(clusterHeader, tc.value)
		}
		resp, body := send(t, req)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d\n%s", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		var id callerIdentity
		if tc.status == http.StatusOK && (xml.Unmarshal(body, &id) != nil || id.Arn != principal) {
			t.Errorf("%s: answer %s, want the caller %s", tc.name, body, principal)
		}
	}
}

// TestWhoamiListBuckets: what "aws s3 ls" asks first, S3 ListBuckets, is
// answered as S3 does, with no bucket and the verified caller as owner:
// aws-sdk-go-v2's S3 client reads it. Signed with another secret, it is
// refused.
func TestWhoamiListBuckets(t *testing.T) {
	srv := newWhoami(t, newVerifier())
	list := func(secret string) (*s3.ListBucketsOutput, error) {
		client := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
			Credentials: awscreds.NewStaticCredentialsProvider(accessKey, secret, ""), RetryMaxAttempts: 1})
		return client.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	}
	out, err := list(secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 0 || out.Owner == nil || aws.ToString(out.Owner.DisplayName) != "alice" || len(aws.ToString(out.Owner.ID)) != 64 {
		t.Errorf("ListBuckets: %d buckets, owner %+v", len(out.Buckets), out.Owner)
	}
	if _, err := list("another secret"); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("another secret: %v", err)
	}
}
