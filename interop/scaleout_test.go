package interop

import (
	"context"
	"io"
	"net/http"
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
)

// privatePostgres is a PostgreSQL cluster of the test's own (initdb as
// the postgres user, in a directory under /tmp), to stop and start under
// load without touching the machine's.
type privatePostgres struct {
	dir, port string
	bin       string
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL binaries (/usr/lib/postgresql/*/bin) or not root")
		}
		t.Skip("needs PostgreSQL's binaries and root (to run them as postgres)")
	}
	dir, err := os.MkdirTemp("/tmp", "sigv4-pg-")
	if err != nil {
		t.Fatal(err)
	}
	exec.Command("chown", "postgres:postgres", dir).Run()
	p := &privatePostgres{dir: dir, port: freePorts(t, 1)[0], bin: filepath.Dir(bins[0])}
	t.Cleanup(func() { p.ctl("stop", "-m", "immediate"); os.RemoveAll(dir) })
	if out, err := p.asPostgres(filepath.Join(p.bin, "initdb"), "-D", dir+"/data", "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start(t)
	return p
}

func (p *privatePostgres) asPostgres(args ...string) ([]byte, error) {
	return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...).CombinedOutput()
}

func (p *privatePostgres) ctl(args ...string) ([]byte, error) {
	return p.asPostgres(append([]string{filepath.Join(p.bin, "pg_ctl"), "-D", p.dir + "/data", "-w"}, args...)...)
}

func (p *privatePostgres) start(t *testing.T) {
	t.Helper()
	if out, err := p.ctl("start", "-l", p.dir+"/log", "-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 -c fsync=off"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

func (p *privatePostgres) stop(t *testing.T) {
	t.Helper()
	if out, err := p.ctl("stop", "-m", "immediate"); err != nil { // as a crash: no clean shutdown
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (p *privatePostgres) url() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// privateRedis is a redis-server of the test's own.
type privateRedis struct {
	port string
	proc *process
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	requireCommand(t, "redis-server", "apt-get install -y redis-server")
	r := &privateRedis{port: freePorts(t, 1)[0]}
	r.proc = startProcess(t, nil, "redis-server", "--bind", "127.0.0.1", "--port", r.port, "--save", "", "--appendonly", "no")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if out, err := exec.Command("redis-cli", "-p", r.port, "ping").Output(); err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return r
		}
	}
	t.Fatal("redis-server did not start")
	return nil
}

// TestThreeGateways: three sigv4 serve processes on one PostgreSQL and
// one Redis, under load: the same signed bytes accepted by one are refused
// by another; a key disabled through sigv4 keys is refused by all three
// within 1 s; PostgreSQL stopped (as a crash) and started again: the keys
// the gateways had read keep serving, a key they had not gets 503
// ServiceUnavailable, then works, with no gateway restarted and no key
// lost; Redis stopped: the gateways refuse header-signed requests (the
// default), and say so in their metrics.
func TestThreeGateways(t *testing.T) {
	pg := startPrivatePostgres(t)
	redis := startPrivateRedis(t)
	bin := buildSigv4(t)
	keyFile := filepath.Join(t.TempDir(), "sealing.key")
	store := pg.url() + "&keyfile=" + keyFile
	keys := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"keys"}, append(args, "--store", store)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("sigv4 keys %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	alice, bob := newKey(t, keys("create", "--name", "alice")), newKey(t, keys("create", "--name", "bob"))

	var gws []string
	var admins []string
	for range 3 {
		ports := freePorts(t, 2)
		startProcess(t, nil, bin, "serve", "--listen", "127.0.0.1:"+ports[0], "--admin", "127.0.0.1:"+ports[1],
			"--store", store, "--replay", "redis://127.0.0.1:"+redis.port+"/0")
		gws, admins = append(gws, "http://127.0.0.1:"+ports[0]), append(admins, "http://127.0.0.1:"+ports[1])
	}
	var n atomic.Int64
	get := func(base string, c sigv4.Credentials) (int, string) {
		req, _ := http.NewRequest("GET", base+"/bucket/k-"+strconv.FormatInt(n.Add(1), 10), nil) // a new signature each time
		(&sigv4.Signer{Credentials: c, Region: region, Service: "s3"}).Sign(req)
		return do(req)
	}
	for _, gw := range gws {
		waitStatus(t, "alice at "+gw, func() (int, string) { return get(gw, alice) }, 200)
	}

	// A replay: the same bytes, accepted by the first, refused by the others.
	req, _ := http.NewRequest("GET", gws[0]+"/bucket/replayed", nil)
	(&sigv4.Signer{Credentials: alice, Region: region, Service: "s3"}).Sign(req)
	if status, _ := do(req.Clone(context.Background())); status != 200 {
		t.Fatalf("the original: %d", status)
	}
	for _, gw := range gws[1:] {
		again := req.Clone(context.Background())
		again.URL.Host = strings.TrimPrefix(gw, "http://")
		again.Host = req.Host // the host it was signed for
		if status, code := do(again); status != http.StatusForbidden || code != "AccessDenied" {
			t.Errorf("the replay at %s: %d %s, want 403 AccessDenied", gw, status, code)
		}
	}

	// Disabled through another process: refused by all three within 1 s.
	var delays []time.Duration
	for round := range 5 {
		keys("disable", alice.AccessKeyID)
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, gw := range gws {
			wg.Go(func() {
				for {
					if status, _ := get(gw, alice); status == http.StatusForbidden {
						break
					}
					if time.Since(start) > 2*time.Second {
						t.Errorf("round %d: %s still accepts the disabled key after 2 s", round, gw)
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
				mu.Lock()
				delays = append(delays, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		keys("enable", alice.AccessKeyID)
		for _, gw := range gws {
			waitStatus(t, "alice enabled again at "+gw, func() (int, string) { return get(gw, alice) }, 200)
		}
	}
	slices.Sort(delays)
	t.Logf("a key disabled through sigv4 keys: refused by the three gateways after p50 %v, max (p99 of %d) %v",
		delays[len(delays)/2].Round(time.Millisecond), len(delays), delays[len(delays)-1].Round(time.Millisecond))
	if delays[len(delays)-1] > time.Second {
		t.Errorf("the slowest gateway took %v", delays[len(delays)-1])
	}

	// PostgreSQL stopped under load.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var total, failed atomic.Int64
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	for _, gw := range gws {
		wg.Go(func() {
			for !stop.Load() {
				total.Add(1)
				if status, _ := get(gw, alice); status != 200 {
					failed.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	pg.stop(t)
	time.Sleep(6 * time.Second) // past the key cache's 5 s
	for _, gw := range gws {
		if status, code := get(gw, bob); status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
			t.Errorf("a key %s had not read, PostgreSQL down: %d %s, want 503 ServiceUnavailable", gw, status, code)
		}
	}
	if status, health := fetch(t, admins[1]+"/healthz"); status != 200 || !strings.HasPrefix(health, "degraded: the key store") {
		t.Errorf("/healthz with PostgreSQL down: %d %q, want 200 degraded", status, health)
	}
	pg.start(t)
	for _, gw := range gws {
		waitStatus(t, "bob at "+gw+" after PostgreSQL came back", func() (int, string) { return get(gw, bob) }, 200)
	}
	if status, health := fetch(t, admins[1]+"/healthz"); status != 200 || health != "ok\n" {
		t.Errorf("/healthz with PostgreSQL back: %d %q", status, health)
	}
	if _, m := fetch(t, admins[2]+"/metrics"); !strings.Contains(m, "sigv4_gateway_key_change_lag_seconds ") {
		t.Error("no key_change_lag_seconds in the metrics")
	} else {
		for line := range strings.SplitSeq(m, "\n") {
			if strings.HasPrefix(line, "sigv4_gateway_key_change_lag_seconds ") {
				t.Logf("the last key change reached a gateway after: %s s", strings.TrimPrefix(line, "sigv4_gateway_key_change_lag_seconds "))
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("alice: %d requests across PostgreSQL's stop and start, %d failed", total.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests of a key read before failed", failed.Load(), total.Load())
	}
	if list := keys("list"); !strings.Contains(list, alice.AccessKeyID) || !strings.Contains(list, bob.AccessKeyID) {
		t.Errorf("keys after the crash:\n%s", list)
	}

	// Redis stopped: refused, and counted.
	redis.proc.kill()
	for _, gw := range gws {
		if status, code := get(gw, alice); status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
			t.Errorf("Redis down, %s: %d %s, want 503 (the default: refuse)", gw, status, code)
		}
	}
	resp, err := http.Get(admins[0] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `sigv4_gateway_replay_checks_total{outcome="unavailable"}`) {
		t.Error("the metrics do not count the requests refused for Redis")
	}
	h, err := http.Get(admins[0] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health, _ := io.ReadAll(h.Body)
	h.Body.Close()
	if h.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(health), "down") {
		t.Errorf("/healthz with Redis down: %d %q", h.StatusCode, health)
	}
}

// newKey reads the credentials "sigv4 keys create" printed.
func newKey(t *testing.T, out string) sigv4.Credentials {
	t.Helper()
	var c sigv4.Credentials
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "AWS_ACCESS_KEY_ID="); ok {
			c.AccessKeyID = v
		}
		if v, ok := strings.CutPrefix(f, "AWS_SECRET_ACCESS_KEY="); ok {
			c.SecretAccessKey = v
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		t.Fatalf("no credentials in %q", out)
	}
	return c
}

// do sends req and returns the status and the error code of the answer.
func do(req *http.Request) (int, string) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	code, _, _ := strings.Cut(string(body), "</Code>")
	_, code, _ = strings.Cut(code, "<Code>")
	return resp.StatusCode, code
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
