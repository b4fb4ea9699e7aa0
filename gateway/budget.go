package gateway

import (
	"net"
	"net/http"
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

// give returns up to n bytes of what the request holds.
func (s *share) give(n int64) {
	for {
		held := s.held.Load()
		m := min(n, held)
		if m <= 0 {
			return
		}
		if s.held.CompareAndSwap(held, held-m) {
			s.b.give(m)
			return
		}
	}
}

// release returns all the request holds.
func (s *share) release() { s.give(s.held.Load()) }

// pending counts, per client address, the requests that have no verdict
// yet: those whose signature has not been checked. Unauthenticated clients
// cannot hold more of the gateway than that.
type pending struct {
	limit int
	mu    sync.Mutex
	n     map[string]int
}

func newPending(limit int) *pending { return &pending{limit: limit, n: make(map[string]int)} }

// enter reserves a slot for the client at remoteAddr, or reports none left.
func (p *pending) enter(remoteAddr string) (ip string, ok bool) {
	ip, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		ip = remoteAddr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[ip] >= p.limit {
		return ip, false
	}
	p.n[ip]++
	return ip, true
}

func (p *pending) leave(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[ip]--; p.n[ip] <= 0 {
		delete(p.n, ip)
	}
}

// LimitListener returns a listener that holds at most n connections open
// at once: past that, Accept waits for one to close, and new connections
// wait in the kernel's backlog. A Gateway bounds what each connection may
// hold; this bounds how many there are.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
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
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
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
