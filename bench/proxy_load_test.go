package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestProxyLoad puts sigv4 proxy (the built binary) and awslabs'
// aws-sigv4-proxy (if $AWS_SIGV4_PROXY names a build of it: it is not go
// installable; build it from its repository with go build
// ./cmd/aws-sigv4-proxy) side by side, in front of the same upstream, with
// a bare ReverseProxy for reference: unsigned small GETs and 1 MiB PUTs
// from loadWorkers connections. A measurement: run with -args -load.
func TestProxyLoad(t *testing.T) {
	if !*loadFlag {
		t.Skip("a load test: run with -args -load")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodGet {
			w.Write([]byte("hello, small object\n"))
		}
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	bare := httptest.NewServer(bareProxy(u))
	defer bare.Close()
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIAPROXYLOAD0000001", "AWS_SECRET_ACCESS_KEY=proxy/load/secret",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sigv4").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	arms := []struct{ name, base string }{{"bare ReverseProxy (unsigned)", bare.URL}}
	addr := freeAddr(t)
	arms = append(arms, struct{ name, base string }{"sigv4 proxy", startProcess(t, env, addr, bin, "proxy", "--listen", addr,
		"--upstream", upstream.URL, "--service", "s3", "--region", "us-east-1")})
	if asp := os.Getenv("AWS_SIGV4_PROXY"); asp != "" {
		addr := freeAddr(t)
		arms = append(arms, struct{ name, base string }{"aws-sigv4-proxy", startProcess(t, env, addr, asp, "--port", addr,
			"--host", u.Host, "--upstream-url-scheme", "http", "--name", "s3", "--region", "us-east-1")})
	} else {
		t.Log("aws-sigv4-proxy: skipped, $AWS_SIGV4_PROXY is not set (it is not go installable: go build ./cmd/aws-sigv4-proxy in a clone of awslabs/aws-sigv4-proxy)")
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	fmt.Printf("\n| request | proxy | workers | req/s | ÷ bare | p50 / p99 |\n|---|---|--:|--:|--:|--:|\n")
	for _, c := range []struct {
		name string
		req  func(base string) *http.Request
	}{
		{"GET small", func(base string) *http.Request {
			r, _ := http.NewRequest("GET", base+"/bucket/small.txt", nil)
			return r
		}},
		{"PUT 1 MiB", func(base string) *http.Request {
			r, _ := http.NewRequest("PUT", base+"/bucket/big.bin", nil)
			r.ContentLength = int64(len(body))
			return r
		}},
	} {
		var bareRPS float64
		for i, arm := range arms {
			res := runLoad(t, c.req(arm.base), body)
			if res.errors > 0 {
				t.Errorf("%s through %s: %d errors (first: %v)", c.name, arm.name, res.errors, res.firstErr)
			}
			if i == 0 {
				bareRPS = res.rps
			}
			fmt.Printf("| %s | %s | %d | %.0f | %.2f | %v / %v |\n", c.name, arm.name, *loadWorkers, res.rps, res.rps/bareRPS, res.p50, res.p99)
		}
	}
}

// startProcess runs a proxy and waits until addr answers.
func startProcess(t *testing.T, env []string, addr, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return "http://" + addr
		}
	}
	t.Fatalf("%s did not start on %s", bin, addr)
	return ""
}

// bareProxy is a ReverseProxy to u whose transport keeps as many idle
// connections as the gateway's (http.DefaultTransport keeps two per host,
// which would make the reference, not the gateway, open connections).
func bareProxy(u *url.URL) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(u)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
	p.Transport = t
	return p
}
