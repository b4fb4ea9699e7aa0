package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
)

// The gateway under load, against a bare httputil.ReverseProxy to the same
// upstream: requests per second and the latency each adds, from a load
// generator on loopback. A measurement, not a pass/fail test, so not part
// of go test ./...; run
//
//	go test -run '^TestGatewayLoad$' -v ./bench/ -args -load -load.duration 10s
//
// Requests are signed once and replayed (the verifier does not refuse
// replays), so the load generator spends the same on both arms.
var (
	loadFlag     = flag.Bool("load", false, "run the gateway load test")
	loadDuration = flag.Duration("load.duration", 10*time.Second, "duration of each load run")
	loadWorkers  = flag.Int("load.workers", 32, "concurrent client connections")
	// 125 MB/s is a 1 Gbit/s link.
	loadLinkRate    = flag.Float64("load.link-rate", 125e6, "bytes a second of each link in the link run")
	loadLinkWorkers = flag.Int("load.link-workers", 4, "concurrent client connections in the link run")
)

func TestGatewayLoad(t *testing.T) {
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
	creds, gw := loadGateway(t, u, nil, nil)
	bare := httptest.NewServer(bareProxy(u))
	defer bare.Close()
	// The bare proxy with pooled copy buffers, as the gateway's: the stock
	// one allocates 32 KiB a request.
	pooledProxy := bareProxy(u)
	pooledProxy.BufferPool = &benchBuffers{}
	pooled := httptest.NewServer(pooledProxy)
	defer pooled.Close()
	// The practical floor of a gateway that checks a hashed body: the bare
	// proxy hashing each body on its way (SHA-256, nothing else).
	hashing := httptest.NewServer(hashingProxy(bareProxy(u)))
	defer hashing.Close()
	via := httptest.NewServer(gw)
	defer via.Close()
	// The same gateway signing again for an upstream with credentials of
	// its own (the upstream here checks nothing, as for the other arms).
	upCreds := sigv4.Credentials{AccessKeyID: "AKIAUPSTREAMLOAD0001", SecretAccessKey: "upstream/load/secret"}
	resignCreds, rgw := loadGateway(t, u, &gateway.Signing{Credentials: gateway.StaticCredentials(upCreds)}, nil)
	resign := httptest.NewServer(rgw)
	defer resign.Close()
	// The gateway streaming hashed bodies (Config.StreamHashedBodies).
	streamCreds, sgw := loadGateway(t, u, nil, nil, streamHashed)
	stream := httptest.NewServer(sgw)
	defer stream.Close()

	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	cases := []loadCase{
		{"GET, signed headers", func(c sigv4.Credentials, base string) *http.Request { return signedGET(t, c, base) }, creds},
		{"GET, presigned URL", func(c sigv4.Credentials, base string) *http.Request { return presignedGET(t, c, base) }, creds},
		{"PUT 1 MiB, hashed", func(c sigv4.Credentials, base string) *http.Request { return signedPUT(t, c, base, body) }, creds},
	}
	fmt.Printf("\n| request | workers | bare proxy req/s | gateway req/s | gateway/bare | pooled bare/bare | gateway/pooled bare | streamed/bare | hashing bare/bare | re-signing req/s | re-signing/bare | bare p50 / p99 | gateway added p50 / p99 | re-signing added p50 / p99 |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range cases {
		b := runLoad(t, c.req(bare.URL), body)
		g := runLoad(t, c.req(via.URL), body)
		r := runLoad(t, c.reqAs(resignCreds, resign.URL), body)
		pb := runLoad(t, c.req(pooled.URL), body)
		streamed, floor := "—", "—" // no body: the same as the gateway's, the bare proxy's
		if c.name == "PUT 1 MiB, hashed" {
			s := runLoad(t, c.reqAs(streamCreds, stream.URL), body)
			h := runLoad(t, c.req(hashing.URL), body)
			if s.errors > 0 || h.errors > 0 {
				t.Errorf("%s: %d streaming gateway and %d hashing proxy errors (first: %v / %v)", c.name, s.errors, h.errors, s.firstErr, h.firstErr)
			}
			streamed, floor = fmt.Sprintf("%.2f", s.rps/b.rps), fmt.Sprintf("%.2f", h.rps/b.rps)
		}
		if g.errors > 0 || b.errors > 0 || r.errors > 0 || pb.errors > 0 {
			t.Errorf("%s: %d gateway, %d re-signing and %d bare errors (first: %v / %v / %v)", c.name, g.errors, r.errors, b.errors,
				g.firstErr, r.firstErr, b.firstErr)
		}
		fmt.Printf("| %s | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %s | %s | %.0f | %.2f | %v / %v | %v / %v | %v / %v |\n", c.name, *loadWorkers,
			b.rps, g.rps, g.rps/b.rps, pb.rps/b.rps, g.rps/pb.rps, streamed, floor, r.rps, r.rps/b.rps, b.p50, b.p99, g.p50-b.p50, g.p99-b.p99, r.p50-b.p50, r.p99-b.p99)
	}
	linkLoad(t, body)
}

// linkLoad sends 1 MiB hashed PUTs where each hop is a link of
// loadLinkRate (client to proxy, proxy to upstream, each connection its
// own link), through a bare proxy, the gateway holding hashed bodies (the
// default) and the gateway streaming them: on a link slower than the
// machine hashes, holding a body makes its two hops take turns, streaming
// lets them overlap.
func linkLoad(t *testing.T, body []byte) {
	rate := *loadLinkRate
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	upstream.Listener = &linkListener{Listener: upstream.Listener, rate: rate}
	upstream.Start()
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	serve := func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.Listener = &linkListener{Listener: s.Listener, rate: rate}
		s.Start()
		return s
	}
	bare := serve(bareProxy(u))
	defer bare.Close()
	creds, gw := loadGateway(t, u, nil, nil)
	held := serve(gw)
	defer held.Close()
	screds, sgw := loadGateway(t, u, nil, nil, streamHashed)
	streamed := serve(sgw)
	defer streamed.Close()
	n := *loadLinkWorkers
	b := runLoadN(t, signedPUT(t, creds, bare.URL, body), body, n)
	h := runLoadN(t, signedPUT(t, creds, held.URL, body), body, n)
	st := runLoadN(t, signedPUT(t, screds, streamed.URL, body), body, n)
	for _, r := range []loadResult{b, h, st} {
		if r.errors > 0 {
			t.Errorf("links: %d errors (first: %v)", r.errors, r.firstErr)
		}
	}
	fmt.Printf("\n| PUT 1 MiB, hashed, each hop a %.0f MB/s link | workers | bare proxy req/s | held req/s | held/bare | streamed req/s | streamed/bare | bare p50 | held p50 | streamed p50 |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", rate/1e6)
	fmt.Printf("| | %d | %.0f | %.0f | %.2f | %.0f | %.2f | %v | %v | %v |\n", n,
		b.rps, h.rps, h.rps/b.rps, st.rps, st.rps/b.rps, b.p50, h.p50, st.p50)
}

// linkListener's connections read at most rate bytes a second each: a
// link of that speed into the server.
type linkListener struct {
	net.Listener
	rate float64
}

func (l *linkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &linkConn{Conn: c, rate: l.rate}, nil
}

// linkConn delays reads until a link of its rate would have carried the
// bytes read. A sleep here lasts a millisecond at least, so the reads wait
// only once 2 ms behind, and a link idle for a while has 1 ms of credit
// (125 KB at 1 Gbit/s): its rate holds on average over a transfer.
type linkConn struct {
	net.Conn
	rate float64
	free time.Time // when the bytes read so far have crossed the link
}

func (c *linkConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p[:min(len(p), 64<<10)])
	if n > 0 {
		if credit := time.Now().Add(-time.Millisecond); c.free.Before(credit) {
			c.free = credit
		}
		c.free = c.free.Add(time.Duration(float64(n) / c.rate * float64(time.Second)))
		if wait := time.Until(c.free); wait > 2*time.Millisecond {
			time.Sleep(wait)
		}
	}
	return n, err
}

type loadCase struct {
	name  string
	make  func(creds sigv4.Credentials, base string) *http.Request
	creds sigv4.Credentials
}

func (c loadCase) req(base string) *http.Request { return c.make(c.creds, base) }

func (c loadCase) reqAs(creds sigv4.Credentials, base string) *http.Request {
	return c.make(creds, base)
}

// loadGateway is the gateway as serve builds it, over a warm credential
// store with one key, signing again with signing if set; opts change its
// configuration.
func loadGateway(t testing.TB, upstream *url.URL, signing *gateway.Signing, transport http.RoundTripper, opts ...func(*gateway.Config)) (sigv4.Credentials, *gateway.Gateway) {
	store, err := credstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "keys.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, creds, err := store.Create(context.Background(), "load", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: store, Regions: []string{"us-east-1"}, Services: []string{"s3"}}
	cfg := gateway.Config{Verifier: v, Upstream: upstream, Signing: signing, Transport: transport, Logger: slog.New(slog.DiscardHandler),
		KeyCacheStats: store.CacheStats}
	for _, o := range opts {
		o(&cfg)
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return creds, gw
}

// hashingProxy is next hashing every request body as it streams through:
// the SHA-256 a verifying gateway cannot skip, and nothing else.
func hashingProxy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &hashingBody{ReadCloser: r.Body, h: sha256.New()}
		}
		next.ServeHTTP(w, r)
	})
}

type hashingBody struct {
	io.ReadCloser
	h hash.Hash
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	return n, err
}

// benchBuffers pools a ReverseProxy's copy buffers.
type benchBuffers struct{ p sync.Pool }

func (b *benchBuffers) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *benchBuffers) Put(buf []byte) { b.p.Put(&buf) }

// streamHashed sets Config.StreamHashedBodies.
func streamHashed(c *gateway.Config) { c.StreamHashedBodies = true }

func loadSigner(creds sigv4.Credentials) *sigv4.Signer {
	return &sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: "s3"}
}

func signedGET(t testing.TB, creds sigv4.Credentials, base string) *http.Request {
	req, _ := http.NewRequest("GET", base+"/bucket/small.txt", nil)
	if err := loadSigner(creds).Sign(req); err != nil {
		t.Fatal(err)
	}
	return req
}

func presignedGET(t testing.TB, creds sigv4.Credentials, base string) *http.Request {
	req, _ := http.NewRequest("GET", base+"/bucket/small.txt", nil)
	if err := loadSigner(creds).Presign(req, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	return req
}

func signedPUT(t testing.TB, creds sigv4.Credentials, base string, body []byte) *http.Request {
	req, _ := http.NewRequest("PUT", base+"/bucket/big.bin", nil)
	sum := sha256.Sum256(body)
	req.ContentLength = int64(len(body))
	if err := loadSigner(creds).SignPayload(req, hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	return req
}

type loadResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
	firstErr error
}

// runLoad replays tmpl from loadWorkers connections for loadDuration.
func runLoad(t *testing.T, tmpl *http.Request, body []byte) loadResult {
	return runLoadN(t, tmpl, body, *loadWorkers)
}

// runLoadN is runLoad from workers connections.
func runLoadN(t *testing.T, tmpl *http.Request, body []byte, workers int) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		firstErr error // the first failure, under mu: errors of any type
	)
	deadline := time.Now().Add(*loadDuration)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				req := tmpl.Clone(context.Background())
				if tmpl.Method == http.MethodPut {
					req.Body = io.NopCloser(bytes.NewReader(body))
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	r := loadResult{errors: errs.Load(), firstErr: firstErr}
	if len(lat) == 0 {
		t.Fatalf("no request succeeded: %v", r.firstErr)
	}
	r.rps = float64(len(lat)) / loadDuration.Seconds()
	r.p50 = lat[len(lat)/2].Round(time.Microsecond)
	r.p99 = lat[len(lat)*99/100].Round(time.Microsecond)
	return r
}

// TestGatewayStreamRSS streams a 1 GiB upload in signed chunks through
// "sigv4 serve" (the built binary, its own process) to an upstream that
// discards it, and reports the gateway's peak resident memory (VmHWM).
//
// It runs with go test ./... (about 3 s), and fails above 64 MiB.
func TestGatewayStreamRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB: not under -short")
	}
	const size = 1 << 30
	var received atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received.Add(n)
	}))
	defer upstream.Close()

	dir := t.TempDir()
	bin := filepath.Join(dir, "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sigv4").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr, creds, cmd := startServe(t, bin, dir, upstream.URL)

	req, _ := http.NewRequest("PUT", "http://"+addr+"/bucket/1gib.bin", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	if err := chunked.Sign(loadSigner(creds), req, chunked.Options{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	hwm := vmHWM(t, cmd.Process.Pid)
	if resp.StatusCode != 200 || received.Load() != size {
		t.Fatalf("status %s, upstream received %d bytes", resp.Status, received.Load())
	}
	t.Logf("1 GiB in signed 64 KiB chunks through sigv4 serve: %v (%.0f MB/s); gateway peak RSS (VmHWM) %d KiB",
		elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6, hwm)
	if hwm > 64<<10 {
		t.Errorf("the gateway's peak RSS was %d KiB streaming 1 GiB; the bound is 64 MiB", hwm)
	}
}

// startServe runs "sigv4 serve" (bin) in dir, on a new store, in front of
// upstream, with args; it returns its address, its first key and its
// process, killed when the test ends.
func startServe(t *testing.T, bin, dir, upstream string, args ...string) (string, sigv4.Credentials, *exec.Cmd) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--admin", "", "--upstream", upstream,
		"--store", "sqlite:" + filepath.Join(dir, "keys.db")}, args...)...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return addr, readKey(t, stdout), cmd
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// readKey reads the first key of a new store from the credentials file
// whose name serve prints (its output is not a terminal: the secret is
// not printed); the listener is up by then.
func readKey(t *testing.T, stdout io.Reader) sigv4.Credentials {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		for _, kv := range strings.Fields(sc.Text()) {
			if path, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
				go io.Copy(io.Discard, stdout)
				return readCredentialsFile(t, path)
			}
		}
	}
	t.Fatal("serve printed no credentials file")
	return sigv4.Credentials{}
}

// readCredentialsFile reads the one profile of a shared credentials file.
func readCredentialsFile(t *testing.T, path string) sigv4.Credentials {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c sigv4.Credentials
	for _, line := range strings.Split(string(data), "\n") {
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

// vmHWM is the peak resident memory of a process, in KiB.
func vmHWM(t *testing.T, pid int) int {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc on this system: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmHWM %q", v)
			}
			return kib
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
