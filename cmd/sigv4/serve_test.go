package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/internal/sigv2"
)

// TestServeFirstRun runs the newcomer's flow: "sigv4 serve" in an empty
// directory, its output not a terminal (a service's, which is logged),
// creates a store and a key, writes the key's credentials to a 0600 file
// and prints, without the secret, an AWS CLI command that uses the file;
// that command, run as printed, gets the key's identity from the gateway.
// A wrong secret is refused.
func TestServeFirstRun(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		missingTool(t, "the AWS CLI (aws)")
	}
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--admin", "")
	cmd.Dir = dir
	cmd.Env = cleanAWSEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()

	run := readFirstRun(t, bufio.NewScanner(stdout))
	if !strings.HasPrefix(run.try, "aws sts get-caller-identity --endpoint-url http://127.0.0.1:") {
		t.Fatalf("printed command %q", run.try)
	}
	if want := filepath.Join(dir, adminCredentialsFile); run.file != want {
		t.Errorf("credentials file %s, want %s", run.file, want)
	}
	env := append(cleanAWSEnv(), run.env...)
	out, err := runShell(ctx, dir, env, run.try)
	if err != nil || !strings.Contains(out, `"Arn": "arn:aws:iam::000000000000:user/admin"`) {
		t.Fatalf("%s: %v\n%s", run.try, err, out)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.credentials")
	os.WriteFile(wrong, []byte("["+adminProfile+"]\naws_access_key_id = "+run.creds.AccessKeyID+"\naws_secret_access_key = not/the/secret\n"), 0o600)
	out, err = runShell(ctx, dir, append(env, "AWS_SHARED_CREDENTIALS_FILE="+wrong), run.try)
	if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("with a wrong secret: %v\n%s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sigv4.db.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

// firstRun is what the first start of serve printed: the environment and
// the command to try it, and the credentials file the environment names.
type firstRun struct {
	env   []string
	try   string
	file  string
	creds sigv4.Credentials
}

// readFirstRun reads the command serve prints, and the credentials from
// the file it names, which must be 0600; the secret must not be printed.
func readFirstRun(t *testing.T, sc *bufio.Scanner) firstRun {
	t.Helper()
	var lines []string
	var run firstRun
	for run.try == "" && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		lines = append(lines, line)
		fields := strings.Fields(line)
		for i, f := range fields {
			if !strings.Contains(f, "=") {
				run.env, run.try = fields[:i], strings.Join(fields[i:], " ")
				break
			}
		}
		if !strings.HasPrefix(run.try, "aws ") || len(run.env) == 0 {
			run.env, run.try = nil, ""
		}
	}
	if run.try == "" {
		t.Fatalf("serve printed no command:\n%s", strings.Join(lines, "\n"))
	}
	run.file = exportValue(run.env, "AWS_SHARED_CREDENTIALS_FILE")
	run.creds = readCredentialsFile(t, run.file)
	if printed := strings.Join(lines, "\n"); strings.Contains(printed, run.creds.SecretAccessKey) ||
		!strings.Contains(printed, run.creds.AccessKeyID) {
		t.Fatalf("serve printed the secret, or not the access key ID:\n%s", printed)
	}
	return run
}

// readCredentialsFile reads the adminProfile of a shared credentials file
// that must have mode 0600.
func readCredentialsFile(t *testing.T, path string) sigv4.Credentials {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %#o, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c sigv4.Credentials
	profile := ""
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k, v = strings.TrimSpace(k), strings.TrimSpace(v); {
		case strings.HasPrefix(k, "["):
			profile = strings.Trim(k, "[]")
		case profile == adminProfile && k == "aws_access_key_id":
			c.AccessKeyID = v
		case profile == adminProfile && k == "aws_secret_access_key":
			c.SecretAccessKey = v
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		t.Fatalf("%s holds no [%s] credentials:\n%s", path, adminProfile, data)
	}
	return c
}

func runShell(ctx context.Context, dir string, env []string, line string) (string, error) {
	c := exec.CommandContext(ctx, "sh", "-c", line)
	c.Dir, c.Env = dir, env
	out, err := c.CombinedOutput()
	return string(out), err
}

// cleanAWSEnv is the environment without AWS settings of the machine's.
func cleanAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
}

// TestServeTLS runs serve with --tls-cert and --tls-key and signs a
// request to it with sigv4 curl: the whoami answer names the key.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	bin := filepath.Join(dir, "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--admin", "",
		"--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir, cmd.Env = dir, cleanAWSEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	run := readFirstRun(t, bufio.NewScanner(stdout))
	endpoint := strings.TrimPrefix(run.try, "aws sts get-caller-identity --endpoint-url ")
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("endpoint %q, want https", endpoint)
	}
	c := exec.CommandContext(ctx, bin, "curl", "-k", "--service", "s3", "--region", "us-east-1", endpoint+"/bucket/key")
	c.Env = append(cleanAWSEnv(), run.env...)
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), run.creds.AccessKeyID) {
		t.Fatalf("sigv4 curl over TLS: %v\n%s", err, out)
	}
}

func exportValue(exports []string, name string) string {
	for _, kv := range exports {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return "\x00missing"
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestServeRoutes reads --upstream, --websocket and --service into routes,
// shown as serve logs them, or refuses them with a usage error.
func TestServeRoutes(t *testing.T) {
	const all = "s3,sts,execute-api"
	for _, tc := range []struct {
		upstreams, websocket []string
		services             string
		want                 string // the routes, or the error
	}{
		{want: "whoami"},
		{upstreams: []string{"whoami"}, want: "whoami"},
		{upstreams: []string{"http://u:1"}, want: "sts=whoami *=http://u:1"},
		{upstreams: []string{"https://u/prefix/"}, want: "sts=whoami *=https://u/prefix/"},
		{upstreams: []string{"http://u:1/a=b"}, want: "sts=whoami *=http://u:1/a=b"},
		{upstreams: []string{"s3=http://u:1"}, want: "s3=http://u:1 sts=whoami"},
		{upstreams: []string{"s3=http://u:1", "sts=http://u:2"}, want: "s3=http://u:1 sts=http://u:2"},
		{upstreams: []string{"http://u:1", "sts=http://u:1"}, want: "sts=http://u:1 *=http://u:1"},
		{upstreams: []string{"s3=whoami", "http://u:1"}, want: "s3=whoami sts=whoami *=http://u:1"},
		{upstreams: []string{"*=http://u:1"}, want: "sts=whoami *=http://u:1"},
		{upstreams: []string{"http://u:1"}, services: "s3", want: "http://u:1"},
		{upstreams: []string{"dynamodb=http://u:1"}, services: "*", want: "dynamodb=http://u:1 sts=whoami"},
		{upstreams: []string{"http://u:1"}, websocket: []string{"execute-api"}, services: all,
			want: "execute-api=http://u:1+websocket sts=whoami *=http://u:1"},
		{upstreams: []string{"s3=http://u:1", "execute-api=http://u:2"}, websocket: []string{"s3,execute-api"}, services: all,
			want: "execute-api=http://u:2+websocket s3=http://u:1+websocket sts=whoami"},

		{upstreams: []string{"http://u:1", "http://u:2"}, want: "a second route for every service"},
		{upstreams: []string{"http://u:1", "*=http://u:2"}, want: "a second route for every service"},
		{upstreams: []string{"s3=http://u:1", "s3=whoami"}, want: "a second route for s3"},
		{upstreams: []string{"ftp://u"}, want: "want http://host:port"},
		{upstreams: []string{"127.0.0.1:9000"}, want: "want http://host:port"},
		{upstreams: []string{"u:9000"}, want: "want http://host:port"},
		{upstreams: []string{"/prefix"}, want: "want http://host:port"},
		{upstreams: []string{"s3="}, want: "want http://host:port"},
		{upstreams: []string{"S3=http://u:1"}, want: "want http://host:port"},
		{upstreams: []string{"http://u:1?x=1"}, want: "no query"},
		{upstreams: []string{"http://u:1/?"}, want: "no query"},
		{upstreams: []string{"http://u:1/#top"}, want: "no query or fragment"},
		{upstreams: []string{"http://user:pw@u:1"}, want: "no user or password"},
		{upstreams: []string{"dynamodb=http://u:1"}, want: "add it to --service"},
		{upstreams: []string{"http://u:1"}, websocket: []string{"execute-api"}, want: "add it to --service"},
		{websocket: []string{"s3"}, want: "the built-in whoami service, which has no WebSocket"},
		{upstreams: []string{"http://u:1"}, websocket: []string{"sts"}, want: "the built-in whoami service, which has no WebSocket"},
		{upstreams: []string{"s3=http://u:1"}, websocket: []string{"execute-api"}, services: all, want: "execute-api has no route"},
		{upstreams: []string{"http://u:1"}, websocket: []string{"Execute-API"}, want: "want service names"},
	} {
		o := &serveOptions{upstreams: tc.upstreams, websocket: tc.websocket, services: cmp.Or(tc.services, "s3,sts")}
		name := fmt.Sprintf("%q websocket %q service %s", tc.upstreams, tc.websocket, o.services)
		routes, err := o.routes()
		switch {
		case err != nil && !errors.Is(err, errUsage):
			t.Errorf("%s: %v, not a usage error", name, err)
		case err != nil && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		case err == nil && describeRoutes(routes) != tc.want:
			t.Errorf("%s: routes %q, want %q", name, describeRoutes(routes), tc.want)
		}
	}
}

// TestParseSize reads the sizes of --max-buffered and --max-temp, and
// writes them back as their defaults are shown.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "512MiB": 512 << 20, "16GiB": 16 << 30, "1GB": 1e9, "10kb": 10e3, "3 KiB": 3 << 10,
		"7B": 7, "2TiB": 2 << 40, "5TB": 5e12, "1mib": 1 << 20, "9MB": 9e6,
	} {
		if n, err := parseSize(in); err != nil || n != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{"", "0", "0MiB", "-1", "+5", "1.5GB", "GiB", "B", "12XB", "1 2MiB", "9999999TiB", "9223372036854775808"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int64]string{
		gateway.DefaultMaxBuffered: "512MiB", gateway.DefaultMaxTempBytes: "16GiB", 1e9: "1GB", 1536: "1536", 2048: "2KiB", 1001: "1001",
	} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		} else if back, err := parseSize(got); err != nil || back != n {
			t.Errorf("parseSize(formatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

// startServe runs serve in process with args, on a free port with a new
// store, until the test ends; it returns the endpoint and the first key.
func startServe(t *testing.T, args ...string) (endpoint string, creds sigv4.Credentials) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := serveFlags(fs)
	store := "sqlite:" + filepath.Join(t.TempDir(), "sigv4.db")
	if err := fs.Parse(append([]string{"--listen", "127.0.0.1:0", "--admin", "", "--store", store}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := o.run(ctx, w, testLog{t})
		w.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	run := readFirstRun(t, bufio.NewScanner(out))
	go io.Copy(io.Discard, out)
	return run.try[strings.LastIndexByte(run.try, ' ')+1:], run.creds
}

// testLog writes serve's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// recorder is an upstream that records the requests it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD /path service"
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path+" "+req.Header.Get(gateway.HeaderService))
		r.mu.Unlock()
		io.WriteString(w, "from the upstream")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// sendSigned signs a request for service and sends it; it returns the
// status and body of the answer.
func sendSigned(t *testing.T, creds sigv4.Credentials, service, method, url, body string) (int, string) {
	t.Helper()
	resp, err := testClient.Do(signedRequest(t, creds, service, method, url, body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var testClient = &http.Client{Timeout: 10 * time.Second}

func signedRequest(t *testing.T, creds sigv4.Credentials, service, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	s := &sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: service}
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestServeUpstreamRoutes: with a plain --upstream, S3 requests reach it
// and requests signed for STS do not (whoami answers them, whatever their
// path); with only --upstream s3=URL, a service without a route is refused.
func TestServeUpstreamRoutes(t *testing.T) {
	t.Run("all", func(t *testing.T) {
		up := newRecorder(t)
		endpoint, creds := startServe(t, "--upstream", up.URL)
		if status, body := sendSigned(t, creds, "s3", "GET", endpoint+"/bucket/key", ""); status != 200 || body != "from the upstream" {
			t.Errorf("s3 GET: %d %s", status, body)
		}
		status, body := sendSigned(t, creds, "sts", "PUT", endpoint+"/bucket/key", "not for the upstream")
		if status != 200 || !strings.Contains(body, creds.AccessKeyID) {
			t.Errorf("sts PUT: %d %s, want whoami's answer", status, body)
		}
		if got := up.received(); !slices.Equal(got, []string{"GET /bucket/key s3"}) {
			t.Errorf("the upstream received %q, want only the s3 GET", got)
		}
	})
	t.Run("s3 only", func(t *testing.T) {
		up := newRecorder(t)
		endpoint, creds := startServe(t, "--upstream", "s3="+up.URL, "--service", "s3,sts,dynamodb")
		status, body := sendSigned(t, creds, "dynamodb", "POST", endpoint+"/", `{"TableName":"t"}`)
		if status != http.StatusForbidden || !strings.Contains(body, "AccessDenied") {
			t.Errorf("dynamodb POST: %d %s, want 403 AccessDenied", status, body)
		}
		if status, body := sendSigned(t, creds, "s3", "GET", endpoint+"/bucket/key", ""); status != 200 || body != "from the upstream" {
			t.Errorf("s3 GET: %d %s", status, body)
		}
		if got := up.received(); !slices.Equal(got, []string{"GET /bucket/key s3"}) {
			t.Errorf("the upstream received %q, want only the s3 GET", got)
		}
	})
}

// TestServeMaxConns: with --max-conns 2, two idle connections make a
// third client wait until one of them closes.
func TestServeMaxConns(t *testing.T) {
	endpoint, creds := startServe(t, "--max-conns", "2")
	addr := strings.TrimPrefix(endpoint, "http://")
	var idle [2]net.Conn
	for i := range idle {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle[i] = c
	}
	req := signedRequest(t, creds, "sts", "GET", endpoint+"/", "")
	answered := make(chan string, 1)
	go func() {
		resp, err := testClient.Do(req)
		if err != nil {
			answered <- err.Error()
			return
		}
		resp.Body.Close()
		answered <- resp.Status
	}()
	select {
	case status := <-answered:
		t.Fatalf("answered (%s) with two connections open of two", status)
	case <-time.After(300 * time.Millisecond):
	}
	idle[0].Close()
	select {
	case status := <-answered:
		if status != "200 OK" {
			t.Errorf("answered %s once a connection closed", status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer 5 s after a connection closed")
	}
}

// TestServeTryCommand: the first start's command is STS GetCallerIdentity
// wherever whoami answers STS (unless --upstream sts=URL), else "aws s3
// ls", and a command for the services served.
func TestServeTryCommand(t *testing.T) {
	for _, tc := range []struct {
		upstreams []string
		services  string
		want      string
	}{
		{nil, "s3,sts", "aws sts get-caller-identity --endpoint-url http://e"},
		{[]string{"http://u:1"}, "s3,sts", "aws sts get-caller-identity --endpoint-url http://e"},
		{[]string{"s3=http://u:1"}, "s3,sts", "aws sts get-caller-identity --endpoint-url http://e"},
		{[]string{"s3=http://u:1", "sts=http://u:2"}, "s3,sts", "aws s3 ls --endpoint-url http://e"},
		{nil, "s3", "aws s3 ls --endpoint-url http://e"},
		{[]string{"sts=http://u:2"}, "sts", "aws sts get-caller-identity --endpoint-url http://e"},
		{nil, "execute-api", "go run ./cmd/sigv4 curl --service execute-api --region us-east-1 http://e/"},
	} {
		o := &serveOptions{upstreams: tc.upstreams, services: tc.services, regions: "us-east-1"}
		if got := o.tryCommand("http://e"); got != tc.want {
			t.Errorf("--upstream %q --service %s: %q, want %q", tc.upstreams, tc.services, got, tc.want)
		}
	}
}

// TestServeSigV2: a SigV2 request is refused, saying how to accept it,
// until serve runs with --sigv2; then it reaches the upstream, and with
// --virtual-host-domain its bucket may be in the host.
func TestServeSigV2(t *testing.T) {
	sendV2 := func(creds sigv4.Credentials, url, host string) (int, string) {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		sr := sigv2.Request{Method: "GET", Path: req.URL.EscapedPath(), Header: req.Header}
		if host != "" {
			req.Host = host
			sr.Bucket = sigv2.BucketOfHost(host, []string{"s3.test"})
		}
		sig := base64.StdEncoding.EncodeToString(sigv4.SigV2MAC(creds.SecretAccessKey, sigv2.AppendStringToSign(nil, &sr)))
		req.Header.Set("Authorization", "AWS "+creds.AccessKeyID+":"+sig)
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	up := newRecorder(t)
	endpoint, creds := startServe(t, "--upstream", up.URL)
	if status, body := sendV2(creds, endpoint+"/bucket/key", ""); status != http.StatusBadRequest || !strings.Contains(body, "--sigv2") {
		t.Errorf("without --sigv2: %d %s", status, body)
	}
	endpoint, creds = startServe(t, "--upstream", up.URL, "--sigv2", "--virtual-host-domain", "s3.test")
	if status, body := sendV2(creds, endpoint+"/bucket/key", ""); status != 200 || body != "from the upstream" {
		t.Errorf("with --sigv2: %d %s", status, body)
	}
	if status, body := sendV2(creds, endpoint+"/key", "photos.s3.test"); status != 200 {
		t.Errorf("virtual-hosted: %d %s", status, body)
	}
	wrong := creds
	wrong.SecretAccessKey += "x"
	if status, body := sendV2(wrong, endpoint+"/bucket/key", ""); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %d %s", status, body)
	}
	if got := up.received(); !slices.Equal(got, []string{"GET /bucket/key s3", "GET /key s3"}) {
		t.Errorf("the upstream received %q", got)
	}
}

// TestServeUpstreamCredentials: with --upstream-credentials env, what the
// gateway verified reaches an upstream that checks its own signatures,
// signed with the upstream's key (from the environment), never the
// client's; a bad source fails at start.
func TestServeUpstreamCredentials(t *testing.T) {
	upstream := sigv4.Credentials{AccessKeyID: "AKIAUPSTREAMSERVE001", SecretAccessKey: "upstream/serve/secret"}
	t.Setenv("AWS_ACCESS_KEY_ID", upstream.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", upstream.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(upstream), Regions: []string{"eu-west-1"}, Services: []string{"s3"}}
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			seen = append(seen, "refused: "+err.Error())
			http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>", http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(res.Body)
		seen = append(seen, res.Identity.AccessKeyID+" "+r.Method+" "+r.URL.Path+" "+string(body)+" "+r.Header.Get(gateway.HeaderAccessKey))
		io.WriteString(w, "signed upstream")
	}))
	t.Cleanup(up.Close)
	endpoint, creds := startServe(t, "--upstream", "s3="+up.URL, "--upstream-credentials", "env", "--upstream-region", "eu-west-1")
	if status, body := sendSigned(t, creds, "s3", "PUT", endpoint+"/bucket/key", "hello"); status != 200 || body != "signed upstream" {
		t.Errorf("PUT: %d %s", status, body)
	}
	mu.Lock()
	if want := []string{upstream.AccessKeyID + " PUT /bucket/key hello "}; !slices.Equal(seen, want) {
		t.Errorf("the upstream saw %q, want %q", seen, want)
	}
	mu.Unlock()

	for _, args := range [][]string{
		{"--upstream", up.URL, "--upstream-credentials", "vault"},
		{"--upstream", up.URL, "--upstream-region", "eu-west-1"},
		{"--upstream-credentials", "env"},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		o := serveFlags(fs)
		if err := fs.Parse(append([]string{"--listen", "127.0.0.1:0", "--admin", "", "--store", "sqlite:" + filepath.Join(t.TempDir(), "db")}, args...)); err != nil {
			t.Fatal(err)
		}
		if err := o.run(context.Background(), io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestServeChainedFile: a gateway in front of another signs with the key
// the second issued, read from a credentials file (--upstream-credentials
// file:PATH): the second's whoami answers with that key, not the client's.
func TestServeChainedFile(t *testing.T) {
	second, secondKey := startServe(t)
	file := filepath.Join(t.TempDir(), "second.credentials")
	os.WriteFile(file, []byte("# issued by the second gateway\n[sigv4-admin]\naws_access_key_id = "+secondKey.AccessKeyID+
		"\naws_secret_access_key = "+secondKey.SecretAccessKey+"\n"), 0o600)
	first, client := startServe(t, "--upstream", "s3="+second, "--upstream-credentials", "file:"+file)
	status, body := sendSigned(t, client, "s3", "GET", first+"/bucket/key", "")
	if status != 200 || !strings.Contains(body, secondKey.AccessKeyID) || strings.Contains(body, client.AccessKeyID) {
		t.Errorf("through both gateways: %d %s; want the second's key %s, not the client's %s", status, body, secondKey.AccessKeyID, client.AccessKeyID)
	}
	os.Chmod(file, 0o644)
	if _, err := readStaticCredentials(file); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a credentials file readable by others: %v", err)
	}
}

// TestUpstreamMap reads --upstream-map: each identity gets the credentials
// of its source, checked at start; a malformed line or a second mapping of
// one identity is a usage error.
func TestUpstreamMap(t *testing.T) {
	dir := t.TempDir()
	team := filepath.Join(dir, "team.credentials")
	os.WriteFile(team, []byte("[team]\naws_access_key_id = AKIATEAMUPSTREAM0001\naws_secret_access_key = team-secret\n"), 0o600)
	write := func(text string) string {
		p := filepath.Join(dir, "map")
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	f := &upstreamFlags{mapFile: write("# who signs upstream with what\narn:aws:iam::123456789012:user/alice file:" + team + "\n\nAKIDBOB file:" + team + " # bob too\n")}
	m, err := f.readMap(context.Background())
	if err != nil || len(m) != 2 {
		t.Fatalf("readMap: %v, %d entries", err, len(m))
	}
	if c, err := m["AKIDBOB"].Retrieve(context.Background()); err != nil || c.AccessKeyID != "AKIATEAMUPSTREAM0001" {
		t.Errorf("AKIDBOB signs with %v (%v)", c.AccessKeyID, err)
	}
	for _, bad := range []string{"AKIDBOB\n", "AKIDBOB file:" + team + " extra\n", "A file:" + team + "\nA file:" + team + "\n"} {
		f.mapFile = write(bad)
		if _, err := f.readMap(context.Background()); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
	f.mapFile = write("A file:" + filepath.Join(dir, "missing") + "\n")
	if _, err := f.readMap(context.Background()); err == nil {
		t.Error("a source that gives no credentials was accepted")
	}
}

// TestServePostgres: sigv4 serve on a PostgreSQL store, with a key made by
// sigv4 keys on the same store: accepted; the store named only when asked
// (the default stays SQLite).
func TestServePostgres(t *testing.T) {
	base := os.Getenv("SIGV4_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL at %s: %v", base, err)
		}
		t.Skipf("no PostgreSQL at %s (%v): run one, or set SIGV4_POSTGRES", base, err)
	}
	schema := fmt.Sprintf("sigv4_serve_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer func() { conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); conn.Close(ctx) }()
	store := base + "&search_path=" + schema + "&keyfile=" + filepath.Join(t.TempDir(), "sealing.key")
	var out, errOut bytes.Buffer
	if code := run([]string{"keys", "create", "--store", store, "--name", "alice", "--json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("keys create: %s", errOut.String())
	}
	var key struct{ AccessKeyId, SecretAccessKey string }
	json.Unmarshal(out.Bytes(), &key)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := serveFlags(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:0", "--admin", "", "--store", store}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- o.run(cctx, io.Discard, w); w.Close() }()
	defer func() { cancel(); <-done }()
	endpoint := ""
	sc := bufio.NewScanner(r)
	for endpoint == "" && sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "endpoint="); ok {
			endpoint, _, _ = strings.Cut(rest, " ")
		}
		if strings.Contains(sc.Text(), "secret") || strings.Contains(sc.Text(), key.SecretAccessKey) {
			t.Errorf("serve logged %q", sc.Text())
		}
	}
	go io.Copy(io.Discard, r)
	creds := sigv4.Credentials{AccessKeyID: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey}
	if status, body := sendSigned(t, creds, "s3", "GET", endpoint+"/bucket/key", ""); status != 200 || !strings.Contains(body, creds.AccessKeyID) {
		t.Errorf("through serve on PostgreSQL: %d %s", status, body)
	}
}

// TestServeReplay: with --replay memory, the same signed request sent
// twice is refused the second time; --replay with an unknown cache is a
// usage error.
func TestServeReplay(t *testing.T) {
	endpoint, creds := startServe(t, "--replay", "memory")
	req := signedRequest(t, creds, "s3", "GET", endpoint+"/bucket/key", "")
	for i, want := range []int{200, http.StatusForbidden} {
		resp, err := testClient.Do(req.Clone(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("send %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := serveFlags(fs)
	fs.Parse([]string{"--listen", "127.0.0.1:0", "--admin", "", "--store", "sqlite:" + filepath.Join(t.TempDir(), "db"), "--replay", "memcached://x"})
	if err := o.run(context.Background(), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("--replay memcached: %v", err)
	}
}
