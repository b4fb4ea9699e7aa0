package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// authoritySetup makes an authority directory with the sigv4 binary:
// init (its certificate for hosts), a grant for an eu gateway, and keys.
func authoritySetup(t *testing.T, bin, hosts string, users ...string) (dir string, keys []sigv4.Credentials) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "authority")
	sigv4Run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("sigv4 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sigv4Run("authority", "init", "--dir", dir, "--host", hosts)
	sigv4Run("authority", "grant", "--dir", dir, "--name", "eu-gw", "--regions", "eu-west-1", "--services", "s3")
	for _, u := range users {
		var k struct{ AccessKeyId, SecretAccessKey string }
		out, err := exec.Command(bin, "keys", "create", "--store", "sqlite:"+filepath.Join(dir, "keys.db"), "--name", u, "--json").Output()
		if err != nil || json.Unmarshal(out, &k) != nil {
			t.Fatalf("keys create %s: %v %s", u, err, out)
		}
		keys = append(keys, sigv4.Credentials{AccessKeyID: k.AccessKeyId, SecretAccessKey: k.SecretAccessKey})
	}
	return dir, keys
}

// process is a child process, stopped at the test's end.
type process struct{ cmd *exec.Cmd }

func startProcess(t *testing.T, prefix []string, name string, args ...string) *process {
	t.Helper()
	argv := append(append(prefix, name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(p.kill)
	return p
}

func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// onAuthorityGateway starts sigv4 serve --authority (whoami upstream) and
// waits until it answers.
func onAuthorityGateway(t *testing.T, bin, dir, authorityURL string) string {
	t.Helper()
	gw := freePorts(t, 1)[0]
	startProcess(t, nil, bin, "serve", "--listen", "127.0.0.1:"+gw, "--admin", "", "--region", "eu-west-1", "--service", "s3",
		"--authority", authorityURL, "--cert", filepath.Join(dir, "clients", "eu-gw.crt"),
		"--key", filepath.Join(dir, "clients", "eu-gw.key"), "--ca", filepath.Join(dir, "ca.crt"))
	base := "http://127.0.0.1:" + gw
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return base
		}
	}
	t.Fatal("the gateway did not start")
	return ""
}

// euGet sends a GET signed by c for eu-west-1/s3 and returns the status
// and the error code of the answer.
func euGet(t *testing.T, base string, c sigv4.Credentials) (int, string) {
	req, _ := http.NewRequest("GET", base+"/bucket/key", nil)
	if err := (&sigv4.Signer{Credentials: c, Region: "eu-west-1", Service: "s3"}).Sign(req); err != nil {
		t.Fatal(err)
	}
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

// load sends c's requests until stop, and counts the failures.
func load(t *testing.T, base string, c sigv4.Credentials, stop *atomic.Bool, wg *sync.WaitGroup) (total, failed *atomic.Int64) {
	total, failed = &atomic.Int64{}, &atomic.Int64{}
	t.Cleanup(func() { stop.Store(true); wg.Wait() }) // also when the test fails first
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				total.Add(1)
				if status, _ := euGet(t, base, c); status != 200 {
					failed.Add(1)
				}
			}
		})
	}
	return total, failed
}

// TestAuthorityKilled: the authority process killed (-9) under load: the
// gateway keeps serving the keys it cached, a key it never saw gets 503
// ServiceUnavailable (never InvalidAccessKeyId); the authority restarted,
// the new key works, without a restart of the gateway.
func TestAuthorityKilled(t *testing.T) {
	bin := buildSigv4(t)
	dir, keys := authoritySetup(t, bin, "127.0.0.1", "alice", "bob")
	alice, bob := keys[0], keys[1]
	port := freePorts(t, 1)[0]
	serveAuthority := func() *process {
		return startProcess(t, nil, bin, "authority", "serve", "--dir", dir, "--listen", "127.0.0.1:"+port)
	}
	authority := serveAuthority()
	gw := onAuthorityGateway(t, bin, dir, "https://127.0.0.1:"+port)
	waitStatus(t, "alice through the gateway", func() (int, string) { return euGet(t, gw, alice) }, 200)

	var stop atomic.Bool
	var wg sync.WaitGroup
	total, failed := load(t, gw, alice, &stop, &wg)
	time.Sleep(200 * time.Millisecond)
	authority.kill()
	time.Sleep(500 * time.Millisecond)
	status, code := euGet(t, gw, bob)
	if status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
		t.Errorf("a new key with the authority killed: %d %s, want 503 ServiceUnavailable", status, code)
	}
	authority = serveAuthority()
	waitStatus(t, "bob after the restart", func() (int, string) { return euGet(t, gw, bob) }, 200)
	stop.Store(true)
	wg.Wait()
	t.Logf("alice: %d requests across the kill and restart, %d failed", total.Load(), failed.Load())
	if failed.Load() != 0 || total.Load() == 0 {
		t.Errorf("cached key: %d of %d requests failed", failed.Load(), total.Load())
	}
}

func waitStatus(t *testing.T, what string, do func() (int, string), want int) {
	t.Helper()
	var status int
	var code string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if status, code = do(); status == want {
			return
		}
	}
	t.Fatalf("%s: %d %s, want %d", what, status, code, want)
}

// netnsHost is a network namespace with a veth pair to this host: a
// separate host for fault tests, removed at the test's end.
type netnsHost struct{ name, hostIf, hostIP, nsIP string }

func newNetnsHost(t *testing.T, n int) *netnsHost {
	t.Helper()
	h := &netnsHost{name: fmt.Sprintf("sigv4-t%d-%d", os.Getpid()%10000, n), hostIf: fmt.Sprintf("sv4h%d%d", os.Getpid()%1000, n),
		hostIP: fmt.Sprintf("10.231.%d.1", n), nsIP: fmt.Sprintf("10.231.%d.2", n)}
	nsIf := h.hostIf + "n"
	ipCmd := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ipCmd("netns", "add", h.name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no network namespaces here (%v): run as root with iproute2", err)
	}
	t.Cleanup(func() { ipCmd("link", "del", h.hostIf); ipCmd("netns", "del", h.name) })
	for _, args := range [][]string{
		{"link", "add", h.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", h.name},
		{"addr", "add", h.hostIP + "/24", "dev", h.hostIf},
		{"link", "set", h.hostIf, "up"},
		{"netns", "exec", h.name, "ip", "addr", "add", h.nsIP + "/24", "dev", nsIf},
		{"netns", "exec", h.name, "ip", "link", "set", nsIf, "up"},
		{"netns", "exec", h.name, "ip", "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// partition cuts the network between the host and the namespace, or heals
// it: the namespace's address goes, so that nothing answers there, not even
// a refusal (the host's packets go unanswered, as in a real partition),
// and comes back.
func (h *netnsHost) partition(t *testing.T, on bool) {
	t.Helper()
	action := "del"
	if !on {
		action = "add"
	}
	if out, err := exec.Command("ip", "netns", "exec", h.name, "ip", "addr", action, h.nsIP+"/24", "dev", h.hostIf+"n").CombinedOutput(); err != nil {
		t.Fatalf("ip addr %s: %v: %s", action, err, out)
	}
}

// TestAuthorityPartition: the authority on another host (a network
// namespace); the network between it and the gateway cut (every packet
// dropped) under load: cached keys keep serving, a new key is 503 within
// the client's timeout; healed, the new key works and the revocation
// stream comes back, without a restart.
func TestAuthorityPartition(t *testing.T) {
	requireCommand(t, "ip", "apt-get install -y iproute2")
	bin := buildSigv4(t)
	h := newNetnsHost(t, 1)
	dir, keys := authoritySetup(t, bin, h.nsIP, "alice", "bob", "carol")
	alice, bob, carol := keys[0], keys[1], keys[2]
	startProcess(t, []string{"ip", "netns", "exec", h.name}, bin, "authority", "serve", "--dir", dir, "--listen", h.nsIP+":8443")
	gw := onAuthorityGateway(t, bin, dir, "https://"+h.nsIP+":8443")
	waitStatus(t, "alice through the gateway", func() (int, string) { return euGet(t, gw, alice) }, 200)
	waitStatus(t, "carol through the gateway", func() (int, string) { return euGet(t, gw, carol) }, 200) // cached

	var stop atomic.Bool
	var wg sync.WaitGroup
	total, failed := load(t, gw, alice, &stop, &wg)
	time.Sleep(200 * time.Millisecond)
	h.partition(t, true)
	start := time.Now()
	status, code := euGet(t, gw, bob)
	t.Logf("a new key during the partition: %d %s after %v", status, code, time.Since(start).Round(time.Millisecond))
	if status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
		t.Errorf("a new key during the partition: %d %s, want 503 ServiceUnavailable", status, code)
	}
	h.partition(t, false)
	waitStatus(t, "bob after the partition healed", func() (int, string) { return euGet(t, gw, bob) }, 200)
	stop.Store(true)
	wg.Wait()
	t.Logf("alice: %d requests across the partition, %d failed", total.Load(), failed.Load())
	if failed.Load() != 0 || total.Load() == 0 {
		t.Errorf("cached key: %d of %d requests failed", failed.Load(), total.Load())
	}
	// The revocation stream is back: a revocation made now reaches the
	// gateway, which had carol's key cached.
	out, err := exec.Command(bin, "authority", "revoke", "--dir", dir, "--authority", "https://"+h.nsIP+":8443", "--key", carol.AccessKeyID).CombinedOutput()
	if err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	start = time.Now()
	waitStatus(t, "carol, revoked", func() (int, string) { return euGet(t, gw, carol) }, http.StatusForbidden)
	t.Logf("the revocation reached the gateway %v after it was made", time.Since(start).Round(time.Millisecond))
}
