package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/sigv4/sigv4"
)

// errSlowDown answers a request the gateway has no room for right now, as
// Amazon S3 answers when it needs clients to slow down; SDKs retry it.
var errSlowDown = &sigv4.Error{Code: "SlowDown", Status: http.StatusServiceUnavailable,
	Message: "Please reduce your request rate."}

// budget is a number of bytes shared by every request: the memory that
// holds bodies not yet released upstream, or the disk of their temporary
// files. A request takes what it holds and gives it back when it is done.
type budget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports that they would go over the limit.
func (b *budget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// share is one request's part of a budget.
type share struct {
	b    *budget
	held atomic.Int64
}

func (s *share) take(n int64) bool {
	if n <= 0 || s.b.take(n) {
		s.held.Add(n)
		return true
	}
	return false
}

// release returns all the request holds.
func (s *share) release() { s.b.give(s.held.Swap(0)) }

// clientKey is the client a per-client limit counts: the IP address of
// remoteAddr, or for IPv6 its /64 network, which a single host may own.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip = ip.Unmap(); ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// counter counts something per client, up to a limit (0: none).
type counter struct {
	limit int
	mu    sync.Mutex
	n     map[string]int
}

func newCounter(limit int) *counter { return &counter{limit: limit, n: make(map[string]int)} }

// enter counts one more for the client, or reports that it has its limit.
func (c *counter) enter(client string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit > 0 && c.n[client] >= c.limit {
		return false
	}
	c.n[client]++
	return true
}

func (c *counter) leave(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[client]--; c.n[client] <= 0 {
		delete(c.n, client)
	}
}

// LimitListener returns a listener that holds at most total connections
// open at once, and at most perClient (if not 0) from one client address
// (for IPv6, one /64 network). Past total, Accept waits for a connection
// to close, and new ones wait in the kernel's backlog; past perClient, a
// new connection is closed at once. A Gateway bounds what each connection
// may hold; this bounds how many there are. Behind a load balancer, every
// client has the balancer's address.
func LimitListener(ln net.Listener, total, perClient int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, total),
		clients: newCounter(perClient), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots   chan struct{}
	clients *counter
	closed  chan struct{}
	once    sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		client := clientKey(c.RemoteAddr().String())
		if !l.clients.enter(client) {
			c.Close()
			<-l.slots
			continue
		}
		return &limitConn{Conn: c, release: func() { l.clients.leave(client); <-l.slots }}, nil
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
