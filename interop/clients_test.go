package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// clientTimeout bounds one run of an external client. The clients talk to
// a server on 127.0.0.1 and finish in a second or two.
const clientTimeout = 60 * time.Second

// missingClient skips the test because a client is not installed, saying
// how to install it. Under CI=true it fails instead: CI must not go green
// by skipping every interop test.
func missingClient(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing client is a failure)")
	}
	t.Skip(msg)
}

// requireCommand checks that name is on PATH, else skips (or fails in CI)
// with the install hint.
func requireCommand(t *testing.T, name, install string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		missingClient(t, "%s not found on PATH; install it with: %s", name, install)
	}
}

// clientEnv is the environment of an external client: the test's own,
// without any AWS_* setting of the machine (AWS_CA_BUNDLE in particular,
// and profiles or credentials that would take precedence), with empty
// config files so nothing from ~/.aws applies, and the test credentials.
func clientEnv(t *testing.T, secret string) []string {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.EqualFold(name, "no_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+accessKey,
		"AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION="+region,
		"AWS_REGION="+region,
		"AWS_CONFIG_FILE="+empty,
		"AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1", // a rejection must be one request, not retries
		"AWS_PAGER=",
		// Never send the loopback traffic through a proxy of the machine.
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	)
}

// run runs a client to completion within clientTimeout and returns its
// standard output; a failing exit is returned as an error carrying stderr.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v; stderr:\n%s", name, clientTimeout, stderr.String())
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w; stderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// opResult is what a scripted client (boto3, the JS SDK) reports about one
// operation, one JSON object per line.
type opResult struct {
	Op     string `json:"op"`
	Status int    `json:"status"`
	Code   string `json:"code"`   // the S3 error code the client saw; "" on success
	SHA256 string `json:"sha256"` // of the body a GET returned
}

// runScript runs a client script and decodes the results it prints.
func runScript(t *testing.T, env []string, name string, args ...string) []opResult {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	var results []opResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r opResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad output line %q: %v\nfull output:\n%s", sc.Text(), err, out)
		}
		results = append(results, r)
	}
	return results
}

// want describes a request the server must have seen.
type want struct {
	method    string
	presigned bool
	// payload is the payload hash the signature must cover (Result.
	// PayloadHash); checked only for accepted requests, "" skips it.
	payload string
	// signs is a header the signature must cover, "" for none: the
	// checksum header the SDKs add, which a server must not let go unsigned.
	signs string
}

// verdict is what every request of a run must have been answered.
type verdict struct {
	name   string
	secret string
	code   string // "OK" or the verifier's error code
	status int
}

// verdicts are the two runs of every client: signed with the server's
// secret, and with another secret for the same access key.
var verdicts = []verdict{
	{name: "right secret", secret: secretKey, code: "OK", status: 200},
	{name: "wrong secret", secret: wrongSecret, code: "SignatureDoesNotMatch", status: 403},
}

// forEachVerdict runs fn once per verdict, each against a new server. For
// a rejection the object is stored first, so that a refusal can only come
// from the signature, not from a missing key.
func forEachVerdict(t *testing.T, data []byte, fn func(t *testing.T, s *s3Server, v verdict)) {
	for _, v := range verdicts {
		t.Run(v.name, func(t *testing.T) {
			s := newS3Server(t)
			if v.code != "OK" {
				s.putObject(bucket, objectKey, data)
			}
			fn(t, s, v)
		})
	}
}

// checkOutcomes checks that the server saw exactly the requests in wants,
// each decided as v says and attributed to accessKey. A rejection where an
// acceptance was expected prints what the verifier signed, to compare with
// the client's own debug output.
func checkOutcomes(t *testing.T, s *s3Server, v verdict, wants ...want) {
	t.Helper()
	got := s.Outcomes()
	for i, o := range got {
		t.Logf("request %d: %s %s presigned=%v -> %s %d key=%s payload=%s signed=%s",
			i, o.Method, o.Path, o.Presigned, o.Code, o.Status, o.AccessKeyID, o.PayloadHash, o.SignedHeaders)
	}
	if len(got) != len(wants) {
		t.Fatalf("server saw %d requests, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		o := got[i]
		if o.Method != w.method || o.Presigned != w.presigned {
			t.Errorf("request %d: %s presigned=%v, want %s presigned=%v", i, o.Method, o.Presigned, w.method, w.presigned)
		}
		if o.Code != v.code || o.Status != v.status {
			t.Errorf("request %d: verdict %s %d, want %s %d", i, o.Code, o.Status, v.code, v.status)
			if o.Err != nil && o.Err.CanonicalRequest != "" {
				t.Logf("verifier's canonical request:\n%s\nstring to sign:\n%s\nsignature provided: %s",
					o.Err.CanonicalRequest, o.Err.StringToSign, o.Err.SignatureProvided)
			}
		}
		if o.AccessKeyID != accessKey {
			t.Errorf("request %d: access key %q, want %q", i, o.AccessKeyID, accessKey)
		}
		if v.code == "OK" && w.payload != "" && o.PayloadHash != w.payload {
			t.Errorf("request %d: payload hash %s, want %s", i, o.PayloadHash, w.payload)
		}
		if v.code == "OK" && w.signs != "" && !slices.Contains(strings.Split(o.SignedHeaders, ";"), w.signs) {
			t.Errorf("request %d: signed headers %s lack %s", i, o.SignedHeaders, w.signs)
		}
	}
}

// checkResults checks what a scripted client reported: success (and the
// uploaded bytes back from every GET) or the verdict's error.
func checkResults(t *testing.T, v verdict, data []byte, got []opResult, ops ...string) {
	t.Helper()
	if len(got) != len(ops) {
		t.Fatalf("client reported %d operations %+v, want %v", len(got), got, ops)
	}
	for i, r := range got {
		if r.Op != ops[i] {
			t.Errorf("operation %d is %s, want %s", i, r.Op, ops[i])
		}
		wantCode := v.code
		if wantCode == "OK" {
			wantCode = ""
		}
		if r.Status != v.status || r.Code != wantCode {
			t.Errorf("%s: client saw %d %q, want %d %q", r.Op, r.Status, r.Code, v.status, wantCode)
		}
		if v.code == "OK" && strings.Contains(r.Op, "Get") && r.SHA256 != sha256Hex(data) {
			t.Errorf("%s: body sha256 %s, want %s (the uploaded bytes)", r.Op, r.SHA256, sha256Hex(data))
		}
	}
}
