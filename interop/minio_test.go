package interop

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// minioRoot is the root key of the MinIO the tests start.
var minioRoot = sigv4.Credentials{AccessKeyID: "minio-interop-root", SecretAccessKey: "minio/interop/root-Secret01"}

// minioBinary finds MinIO: $SIGV4_MINIO, then minio on the PATH, then
// where go install puts it.
func minioBinary() string {
	if p := os.Getenv("SIGV4_MINIO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		gobin = filepath.Join(gopath, "bin")
	}
	if p := filepath.Join(gobin, "minio"); fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startMinio starts a MinIO server, which checks the signature of every
// request, on 127.0.0.1 with its own root key and a data directory of the
// test's; it is killed at the test's end. Without MinIO the test is
// skipped (failed under CI=true).
func startMinio(t *testing.T) *s3Backend {
	t.Helper()
	bin := minioBinary()
	if bin == "" {
		missingClient(t, "MinIO is missing: go install github.com/minio/minio@latest (about 10 minutes), or set SIGV4_MINIO")
	}
	ports := freePorts(t, 2)
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--quiet",
		"--address", "127.0.0.1:"+ports[0], "--console-address", "127.0.0.1:"+ports[1])
	cmd.Env = append(clientEnv(t, secretKey), "MINIO_ROOT_USER="+minioRoot.AccessKeyID,
		"MINIO_ROOT_PASSWORD="+minioRoot.SecretAccessKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off",
		"HOME="+dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // our own child, by its pid
		<-exited
		logFile.Close()
	})
	m := &s3Backend{name: "minio", URL: "http://127.0.0.1:" + ports[0], root: minioRoot}
	m.client = &http.Client{Timeout: 30 * time.Second, Transport: &signingTransport{
		signer: &sigv4.Signer{Credentials: minioRoot, Region: region, Service: "s3"}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(m.URL + "/minio/health/ready") // live comes before the server is initialized
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m
			}
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logFile.Name())
			t.Fatalf("minio exited before answering: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logFile.Name())
			t.Fatalf("minio did not answer on %s within 60s: %v\n%s", m.URL, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePorts returns n ports free on 127.0.0.1 just now.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// signingTransport signs every request with signer, for the test's own
// requests to MinIO (bypassing the gateway).
type signingTransport struct{ signer *sigv4.Signer }

func (s *signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if err := s.signer.Sign(r); err != nil {
		return nil, err
	}
	return http.DefaultTransport.RoundTrip(r)
}
