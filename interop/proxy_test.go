package interop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// buildSigv4 builds the sigv4 command into a directory of the test's.
func buildSigv4(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sigv4").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runningProxy is a sigv4 proxy process.
type runningProxy struct {
	URL string
	pid int
}

// startSigv4Proxy runs "sigv4 proxy" with the credentials of creds in its
// environment and args; it is stopped at the test's end.
func startSigv4Proxy(t *testing.T, bin string, creds sigv4.Credentials, args ...string) *runningProxy {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"proxy", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(clientEnv(t, creds.SecretAccessKey), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "sigv4 proxy: "); ok {
			go io.Copy(io.Discard, stderr)
			url, _, _ := strings.Cut(addr, " ")
			return &runningProxy{URL: url, pid: cmd.Process.Pid}
		}
		t.Log(sc.Text())
	}
	t.Fatal("sigv4 proxy did not start")
	return nil
}

// peakRSS is the most memory the process has held (VmHWM), in bytes.
func (p *runningProxy) peakRSS(t *testing.T) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestProxyMinIO: sigv4 proxy in front of MinIO, which checks every
// signature: plain curl puts, gets, lists and deletes without signing;
// python's http.client uploads 1 GiB through it, streamed as signed
// aws-chunked with bounded memory, and MinIO holds exactly those bytes; a
// request naming another Host still goes to MinIO; the same proxy with
// another secret is refused by MinIO.
func TestProxyMinIO(t *testing.T) {
	requireCommand(t, "curl", "apt-get install -y curl")
	m := startMinio(t)
	m.createBucket(t, "proxied")
	bin := buildSigv4(t)
	p := startSigv4Proxy(t, bin, m.root, "--upstream", m.URL, "--service", "s3", "--region", region)

	curl := func(args ...string) string {
		t.Helper()
		out, err := run(t, clientEnv(t, ""), "curl", append([]string{"-sS", "-f", "--noproxy", "*"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	file := filepath.Join(t.TempDir(), "small.txt")
	os.WriteFile(file, []byte("unsigned by curl, signed by the proxy\n"), 0o600)
	curl("-T", file, p.URL+"/proxied/small.txt")
	if got := curl(p.URL + "/proxied/small.txt"); got != "unsigned by curl, signed by the proxy\n" {
		t.Errorf("curl GET: %q", got)
	}
	if got := curl(p.URL + "/proxied?list-type=2"); !strings.Contains(got, "<Key>small.txt</Key>") {
		t.Errorf("curl list: %s", got)
	}
	if got := curl("-H", "Host: evil.example", p.URL+"/proxied/small.txt"); !strings.HasPrefix(got, "unsigned by curl") {
		t.Errorf("curl GET naming another Host: %q", got)
	}
	curl("-X", "DELETE", p.URL+"/proxied/small.txt")
	if status, _ := m.get(t, "proxied", "small.txt"); status != http.StatusNotFound {
		t.Errorf("after curl DELETE, MinIO answers %d", status)
	}

	// 1 GiB with python's http.client, which cannot sign.
	const size = 1 << 30
	script := fmt.Sprintf(`
import hashlib, http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
h, block, left = hashlib.sha256(), bytes(range(256)) * 4096, %d
def body():
    global left
    while left > 0:
        b = block[:min(left, len(block))]
        left -= len(b)
        h.update(b)
        yield b
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
c.request("PUT", "/proxied/big.bin", body=body(), headers={"Content-Length": str(%d)})
r = c.getresponse()
print(r.status, h.hexdigest())
`, size, size)
	start := time.Now()
	out, err := run(t, clientEnv(t, ""), "python3", "-c", script, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	status, sum, _ := strings.Cut(strings.TrimSpace(out), " ")
	if status != "200" {
		t.Fatalf("http.client PUT of 1 GiB: %s", out)
	}
	rss := p.peakRSS(t)
	t.Logf("1 GiB through sigv4 proxy to MinIO in %v (%.0f MiB/s); the proxy's peak RSS %d MiB", elapsed.Round(time.Millisecond),
		float64(size)/(1<<20)/elapsed.Seconds(), rss>>20)
	if rss > 128<<20 {
		t.Errorf("peak RSS %d MiB for a streamed upload: the body was held in memory", rss>>20)
	}
	if got := minioObjectSHA256(t, m, "proxied", "big.bin"); got != sum {
		t.Errorf("MinIO holds sha256 %s, the upload was %s", got, sum)
	}

	wrong := m.root
	wrong.SecretAccessKey = "not/the/minio/secret"
	bad := startSigv4Proxy(t, bin, wrong, "--upstream", m.URL, "--service", "s3", "--region", region)
	if _, err := run(t, clientEnv(t, ""), "curl", "-sS", "-f", "--noproxy", "*", bad.URL+"/proxied/"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a proxy with the wrong secret: %v", err)
	}
}

// minioObjectSHA256 streams an object from MinIO and hashes it.
func minioObjectSHA256(t *testing.T, m *s3Backend, bucket, key string) string {
	t.Helper()
	resp, err := m.client.Get(m.objectURL(bucket, key))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestProxyMotoAuth: sigv4 proxy in front of moto with its
// authentication on, for S3 and for STS (a service that wants the body's
// hash): plain HTTP requests, signed by the proxy, are answered.
func TestProxyMotoAuth(t *testing.T) {
	moto, creds := startMotoAuth(t)
	bin := buildSigv4(t)
	s3p := startSigv4Proxy(t, bin, creds, "--upstream", moto.URL, "--service", "s3", "--region", region)
	req, _ := http.NewRequest("PUT", s3p.URL+"/viaproxy", nil)
	mustOK(t, req)
	req, _ = http.NewRequest("PUT", s3p.URL+"/viaproxy/k", bytes.NewReader([]byte("by the proxy")))
	mustOK(t, req)
	if status, body := moto.get(t, "viaproxy", "k"); status != http.StatusOK || string(body) != "by the proxy" {
		t.Errorf("moto holds %d %q", status, body)
	}
	stsp := startSigv4Proxy(t, bin, creds, "--upstream", moto.URL, "--service", "sts", "--region", region)
	req, _ = http.NewRequest("POST", stsp.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if body := mustOK(t, req); !strings.Contains(body, ":user/gateway-upstream") {
		t.Errorf("GetCallerIdentity through the proxy: %s", body)
	}
}

func mustOK(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	return string(body)
}

// TestServeResignMinIO: the sigv4 serve binary, as a user runs it, in
// front of MinIO with --upstream-credentials env (MinIO's root key in the
// gateway's environment): the AWS CLI, with the key serve created, copies
// 10 MiB up (multipart) and back, lists and removes it; MinIO held the
// bytes uploaded.
func TestServeResignMinIO(t *testing.T) {
	requireCommand(t, "aws", "apt-get install -y awscli")
	m := startMinio(t)
	m.createBucket(t, "served")
	bin := buildSigv4(t)
	dir := t.TempDir()
	addr := freePorts(t, 1)[0]
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+addr, "--admin", "", "--store", "sqlite:"+filepath.Join(dir, "keys.db"),
		"--upstream", "s3="+m.URL, "--upstream-credentials", "env")
	cmd.Dir = dir
	cmd.Env = append(clientEnv(t, m.root.SecretAccessKey), "AWS_ACCESS_KEY_ID="+m.root.AccessKeyID)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var client sigv4.Credentials
	sc := bufio.NewScanner(stdout)
	for client.AccessKeyID == "" && sc.Scan() {
		for _, kv := range strings.Fields(sc.Text()) {
			if path, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
				client = sharedCredentials(t, path)
			}
		}
	}
	go io.Copy(io.Discard, stdout)
	if client.AccessKeyID == "" || client.AccessKeyID == m.root.AccessKeyID {
		t.Fatalf("serve gave the client %q", client.AccessKeyID)
	}
	endpoint := "http://127.0.0.1:" + addr
	aws := func(args ...string) string {
		t.Helper()
		out, err := run(t, gwEnv(t, client), "aws", append(args, "--endpoint-url", endpoint)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	data, file := randomFile(t, gwLarge)
	aws("s3", "cp", file, "s3://served/cli/data.bin")
	if got := minioObjectSHA256(t, m, "served", "cli/data.bin"); got != sha256Hex(data) {
		t.Errorf("MinIO holds sha256 %s, want %s", got, sha256Hex(data))
	}
	back := filepath.Join(t.TempDir(), "back.bin")
	aws("s3", "cp", "s3://served/cli/data.bin", back)
	expectDownloaded(t, "aws s3 cp back", fileSHA256(t, back), data)
	if out := aws("s3", "ls", "s3://served/cli/"); !strings.Contains(out, "data.bin") {
		t.Errorf("aws s3 ls: %s", out)
	}
	aws("s3", "rm", "s3://served/cli/data.bin")
	if status, _ := m.get(t, "served", "cli/data.bin"); status != http.StatusNotFound {
		t.Errorf("after aws s3 rm, MinIO answers %d", status)
	}
	wrong := client
	wrong.SecretAccessKey = "x" + client.SecretAccessKey[1:]
	if client.SecretAccessKey[0] == 'x' { // another secret, whatever the first byte
		wrong.SecretAccessKey = "y" + client.SecretAccessKey[1:]
	}
	if _, err := run(t, gwEnv(t, wrong), "aws", "s3", "cp", file, "s3://served/cli/wrong.bin", "--endpoint-url", endpoint); err == nil {
		t.Error("a wrong secret was accepted")
	}
	if status, _ := m.get(t, "served", "cli/wrong.bin"); status != http.StatusNotFound {
		t.Errorf("MinIO holds the refused upload (%d)", status)
	}
}

func sharedCredentials(t *testing.T, path string) sigv4.Credentials {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c sigv4.Credentials
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	return c
}
