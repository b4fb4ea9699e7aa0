package gateway_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"

	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

// The attacks of issue 11 on memory, connections and files before and
// around authentication: each holds connections open the way an attacker
// would, and checks what the gateway holds meanwhile.

// metric reads a gauge or counter of the gateway's /metrics.
func (e *env) metric(t *testing.T, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	e.gw.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// metricSettles waits for a metric to reach want (a handler's last steps
// run after its answer is out), and returns its last value.
func (e *env) metricSettles(t *testing.T, name string, want float64) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := e.metric(t, name)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heldConn is a request whose head, and the first bytes of its body, are
// sent, the rest held back.
type heldConn struct {
	net.Conn
	br *bufio.Reader
}

// hold sends the head of req, declaring its ContentLength, and the first
// sent bytes of its body.
func (e *env) hold(t *testing.T, req *http.Request, body []byte, sent int) *heldConn {
	t.Helper()
	conn, err := net.Dial("tcp", e.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.Host, len(body))
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body[:sent]); err != nil {
		t.Fatal(err)
	}
	return &heldConn{Conn: conn, br: bufio.NewReader(conn)}
}

// answer reads the answer of a held request within d, or reports that
// the connection closed (nil, nil) or timed out.
func (c *heldConn) answer(d time.Duration) (*response, error) {
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, err
		}
		return nil, nil // closed
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{resp, body}, nil
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// badSTSPost is a POST for STS (whose body the verifier must read to hash
// it: no x-amz-content-sha256) signed with the wrong secret: anyone who
// knows an access key ID can send it.
func badSTSPost(t *testing.T, e *env, body []byte) *http.Request {
	req := e.request(t, "POST", "/", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s := signer("sts")
	s.Credentials.SecretAccessKey = "not the secret"
	mustSign(t, s, req)
	req.Header.Del(sigv4.HeaderContentSHA256)
	return req
}

// TestUnauthenticatedMemory (item 7): 40 connections that know an access
// key ID, not its secret, each send 1 MiB of a body the verifier must read
// before it can check the signature, then trickle. What the gateway holds
// stays within MaxBuffered; the rest are answered SlowDown at once, and
// none holds its connection past VerdictTimeout.
func TestUnauthenticatedMemory(t *testing.T) {
	const budget = 4 << 20
	e := newEnv(t, gateway.Config{MaxBuffered: budget, VerdictTimeout: 2 * time.Second, IdleTimeout: time.Minute})
	body := testData(2 << 20)
	before := heapInUse()
	start := time.Now()
	var conns []*heldConn
	for range 40 {
		conns = append(conns, e.hold(t, badSTSPost(t, e, body), body, 1<<20))
	}
	time.Sleep(500 * time.Millisecond)
	held, grew := e.metric(t, "sigv4_gateway_buffered_bytes"), heapInUse()-before
	t.Logf("while held: the gateway counts %.0f bytes buffered, the heap grew by %d", held, grew)
	if held > budget {
		t.Errorf("%.0f bytes buffered, over MaxBuffered %d", held, budget)
	}
	if grew > 3*budget {
		t.Errorf("the heap grew by %d bytes, for a budget of %d (40 MiB were sent)", grew, budget)
	}
	slow, closed := 0, 0
	for _, c := range conns {
		resp, err := c.answer(5 * time.Second)
		switch {
		case err != nil:
			t.Fatalf("a connection is still held after %v: %v", time.Since(start), err)
		case resp == nil:
			closed++
		case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(resp.Body), "<Code>SlowDown</Code>"):
			slow++
		default:
			closed++ // answered (IncompleteBody) at the verdict deadline
		}
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the last connection was let go after %v, VerdictTimeout is 2s", took)
	}
	if slow < 30 {
		t.Errorf("%d SlowDown answers, want most of the 40", slow)
	}
	if got := e.metricSettles(t, "sigv4_gateway_buffered_bytes", 0); got != 0 {
		t.Errorf("%.0f bytes still counted as buffered", got)
	}
	if got := e.received(t); len(got) != 0 {
		t.Errorf("the upstream received %d requests", len(got))
	}
}

// TestUnknownKeyBodyUnread (items 7, 9): the body of a request from an
// unknown access key is not read, nor waited for: the answer comes at
// once, and a client that keeps trickling its body loses the connection.
func TestUnknownKeyBodyUnread(t *testing.T) {
	e := newEnv(t, gateway.Config{IdleTimeout: time.Minute})
	body := testData(1 << 20)
	req := e.request(t, "POST", "/", body)
	s := signer("sts")
	s.Credentials.AccessKeyID = "AKIDUNKNOWN"
	mustSign(t, s, req)
	req.Header.Del(sigv4.HeaderContentSHA256)
	start := time.Now()
	c := e.hold(t, req, body, 10)
	resp, err := c.answer(3 * time.Second)
	if err != nil || resp == nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(resp.Body), "InvalidAccessKeyId") {
		t.Fatalf("answer %d %s", resp.StatusCode, resp.Body)
	}
	// The gateway closes rather than wait for the rest.
	if _, err := c.answer(3 * time.Second); err != nil {
		t.Fatalf("the connection is still open %v after the answer", time.Since(start))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// TestHeadersOnlyPUTs (item 8): 100 signed PUTs that declare 4 MiB bodies
// and send none make the gateway hold what arrived, not what was
// declared.
func TestHeadersOnlyPUTs(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	body := testData(4 << 20)
	sum := sha256.Sum256(body)
	req := e.request(t, "PUT", "/bucket/key", body)
	req.Header.Set(sigv4.HeaderContentSHA256, hex.EncodeToString(sum[:]))
	mustSign(t, signer("s3"), req)
	before := heapInUse()
	for range 100 {
		e.hold(t, req, body, 1)
	}
	time.Sleep(300 * time.Millisecond)
	grew := heapInUse() - before
	t.Logf("100 signed PUTs declaring 4 MiB each: the heap grew by %d bytes", grew)
	if grew > 16<<20 {
		t.Errorf("the heap grew by %d bytes for 100 bytes sent", grew)
	}
	if got := e.metricSettles(t, "sigv4_gateway_buffered_bytes", 100); got != 100 {
		t.Errorf("%.0f bytes counted as buffered, want the 100 received", got)
	}
}

// TestMemoryBudget (items 7, 8): a signed upload that would take the
// bodies held in memory over MaxBuffered is answered SlowDown, and what
// it had held is given back; the others complete.
func TestMemoryBudget(t *testing.T) {
	e := newEnv(t, gateway.Config{MaxBuffered: 1 << 20})
	put := func(body []byte) *http.Request {
		req := e.request(t, "PUT", "/bucket/key", body)
		mustSign(t, signer("s3"), req)
		return req
	}
	a := testData(900 << 10)
	held := e.hold(t, put(a), a, 700<<10)
	if got := e.metricSettles(t, "sigv4_gateway_buffered_bytes", 700<<10); got != 700<<10 {
		t.Fatalf("%.0f bytes buffered, want the %d sent", got, 700<<10)
	}

	b := testData(700 << 10)
	resp := e.do(t, put(b))
	checkError(t, resp, http.StatusServiceUnavailable, "SlowDown")

	if _, err := held.Write(a[700<<10:]); err != nil {
		t.Fatal(err)
	}
	if resp, err := held.answer(5 * time.Second); err != nil || resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the held upload: %v %v", resp, err)
	}
	e.metricSettles(t, "sigv4_gateway_buffered_bytes", 0) // its handler ends after its answer
	if resp := e.do(t, put(b)); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the budget freed: answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 2 || string(got[0].Body) != string(a) || string(got[1].Body) != string(b) {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	if got := e.metricSettles(t, "sigv4_gateway_buffered_bytes", 0); got != 0 {
		t.Errorf("%.0f bytes still counted as buffered", got)
	}
}

// TestPendingPerIP (item 9): a client address with MaxPendingPerIP
// requests awaiting a verdict gets SlowDown for the next at once, and the
// connection closed; once they end, it is served again.
func TestPendingPerIP(t *testing.T) {
	e := newEnv(t, gateway.Config{MaxPendingPerIP: 3})
	body := testData(64 << 10)
	var held []*heldConn
	for range 3 {
		held = append(held, e.hold(t, badSTSPost(t, e, body), body, 10))
	}
	if n := e.metricSettles(t, "sigv4_gateway_requests_in_flight", 3); n != 3 {
		t.Fatalf("%.0f requests in flight, want the 3 held", n)
	}
	c := e.hold(t, badSTSPost(t, e, body), body, 10)
	resp, err := c.answer(2 * time.Second)
	if err != nil || resp == nil {
		t.Fatalf("the fourth request: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(resp.Body), "<Code>SlowDown</Code>") {
		t.Fatalf("the fourth request: answer %d %s, want SlowDown", resp.StatusCode, resp.Body)
	}
	if !resp.Close {
		t.Error("the fourth connection is kept open")
	}
	for _, h := range held {
		h.Close()
	}
	e.metricSettles(t, "sigv4_gateway_requests_in_flight", 0)
	req := e.request(t, "GET", "/bucket/key", nil)
	mustSign(t, signer("s3"), req)
	if resp := e.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the pending ended: answer %d: %s", resp.StatusCode, resp.Body)
	}
}

// TestVerdictTimeout (item 9): a client that knows an access key ID and
// sends the body the signature needs one byte every 100 ms, fast enough
// for the idle timeout, is cut off at VerdictTimeout.
func TestVerdictTimeout(t *testing.T) {
	e := newEnv(t, gateway.Config{VerdictTimeout: time.Second, IdleTimeout: time.Minute})
	body := testData(1000)
	c := e.hold(t, badSTSPost(t, e, body), body, 1)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 1; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := c.Write(body[i : i+1]); err != nil {
				return
			}
		}
	}()
	if _, err := c.answer(5 * time.Second); err != nil {
		t.Fatalf("still held after %v: %v", time.Since(start), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("let go after %v, VerdictTimeout is 1s", d)
	}
}

// TestSlowRejectedBody (item 9): a rejected upload whose client sends
// slowly is answered and its connection closed, not drained for minutes.
func TestSlowRejectedBody(t *testing.T) {
	e := newEnv(t, gateway.Config{IdleTimeout: time.Minute})
	body := testData(100 << 10)
	req := e.request(t, "PUT", "/bucket/key", body)
	s := signer("s3")
	s.Credentials.SecretAccessKey = "wrong"
	s.UnsignedPayload = true
	mustSign(t, s, req)
	c := e.hold(t, req, body, 1000)
	start := time.Now()
	go func() {
		for i := 1000; i < len(body); i += 100 {
			time.Sleep(20 * time.Millisecond)
			if _, err := c.Write(body[i : i+100]); err != nil {
				return
			}
		}
	}()
	resp, err := c.answer(3 * time.Second)
	if err != nil || resp == nil {
		t.Fatalf("no answer: %v", err)
	}
	checkError(t, *resp, http.StatusForbidden, "SignatureDoesNotMatch")
	if _, err := c.answer(3 * time.Second); err != nil {
		t.Fatal("the connection is still open")
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("closed after %v; the body takes 20 s to send", d)
	}
}

// limited serves e's gateway behind LimitListener(total, perClient) and
// opens n idle connections to it.
func limited(t *testing.T, e *env, total, perClient, n int) (addr string, idle []net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.NewServer("", e.gw)
	go srv.Serve(gateway.LimitListener(ln, total, perClient))
	t.Cleanup(func() { srv.Close() })
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		idle = append(idle, c)
	}
	return ln.Addr().String(), idle
}

// getAsync sends a signed GET to addr on a connection of its own; the
// channel gets its status, or 0 for no answer.
func getAsync(t *testing.T, addr string) <-chan int {
	req, _ := http.NewRequest("GET", "http://"+addr+"/bucket/key", nil)
	mustSign(t, signer("s3"), req)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	done := make(chan int, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

// TestLimitListener (item 9): past its limit, a LimitListener accepts no
// connection until one closes; the gateway's server then serves it.
func TestLimitListener(t *testing.T) {
	addr, idle := limited(t, newEnv(t, gateway.Config{}), 2, 0, 2)
	done := getAsync(t, addr)
	select {
	case code := <-done:
		t.Fatalf("a third connection was served (%d) while two were open", code)
	case <-time.After(300 * time.Millisecond):
	}
	idle[0].Close()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Fatalf("answer %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not served after one closed")
	}
}

// TestLimitListenerPerClient (item 9): past its per-client limit, a
// LimitListener closes a new connection from that address at once, and
// serves the next one after one of its connections closed.
func TestLimitListenerPerClient(t *testing.T) {
	addr, idle := limited(t, newEnv(t, gateway.Config{}), 100, 3, 3)
	time.Sleep(100 * time.Millisecond) // the three are accepted
	if code := <-getAsync(t, addr); code != 0 {
		t.Fatalf("a fourth connection from the same address was served (%d)", code)
	}
	idle[0].Close()
	time.Sleep(100 * time.Millisecond)
	if code := <-getAsync(t, addr); code != http.StatusOK {
		t.Fatalf("after one closed: answer %d", code)
	}
}

// TestTempBudget (item 10): bodies spilled to temporary files share
// MaxTempBytes: one that would go over it is answered SlowDown, and the
// space comes back when the held one is done.
func TestTempBudget(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, gateway.Config{MaxMemoryBody: 16 << 10, MaxTempBytes: 256 << 10, TempDir: dir})
	put := func(body []byte) *http.Request {
		req := e.request(t, "PUT", "/bucket/key", body)
		mustSign(t, signer("s3"), req)
		return req
	}
	a, b := testData(200<<10), testData(150<<10)
	held := e.hold(t, put(a), a, 150<<10)
	time.Sleep(200 * time.Millisecond)
	if got := e.metricSettles(t, "sigv4_gateway_temp_bytes", 150<<10); got != 150<<10 {
		t.Errorf("%.0f bytes in temporary files, want %d", got, 150<<10)
	}
	checkError(t, e.do(t, put(b)), http.StatusServiceUnavailable, "SlowDown")
	checkError(t, e.do(t, put(testData(300<<10))), http.StatusServiceUnavailable, "SlowDown")
	if _, err := held.Write(a[150<<10:]); err != nil {
		t.Fatal(err)
	}
	if resp, err := held.answer(5 * time.Second); err != nil || resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the held upload: %v %v", resp, err)
	}
	e.metricSettles(t, "sigv4_gateway_temp_bytes", 0) // its handler ends after its answer
	if resp := e.do(t, put(b)); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the held one: answer %d: %s", resp.StatusCode, resp.Body)
	}
	got := e.received(t)
	if len(got) != 2 || string(got[0].Body) != string(a) || string(got[1].Body) != string(b) {
		t.Fatalf("the upstream received %d requests", len(got))
	}
	if got := e.metricSettles(t, "sigv4_gateway_temp_bytes", 0); got != 0 {
		t.Errorf("%.0f bytes still counted in temporary files", got)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d temporary files left", len(left))
	}
}
