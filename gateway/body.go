package gateway

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigv4/sigv4"
)

// errEntityTooLarge answers a body over Config.MaxBody, as Amazon S3 does.
var errEntityTooLarge = &sigv4.Error{Code: "EntityTooLarge", Status: http.StatusBadRequest,
	Message: "Your proposed upload exceeds the maximum allowed size"}

// verifiedBody returns what the upstream may read of a verified request and
// its length (-1 if unknown), or the error that ends the request:
//
//   - a declared (or computed) SHA-256: the whole body, once it matched;
//     with Config.StreamHashedBodies, a declared one as it arrives, its
//     last byte held back until it matched;
//   - a streaming payload: the decoded body, its last byte held back
//     until the decoder reached a clean end;
//   - UNSIGNED-PAYLOAD: the body as it arrives, bounded by MaxBody, its
//     last byte held back until the key is checked again.
//
// Whatever the mode, the access key is checked again before the last byte
// is released: a key revoked during a long upload does not complete it.
func (g *Gateway) verifiedBody(x *exchange) (io.Reader, int64, *sigv4.Error) {
	res := x.res
	recheck := func() *sigv4.Error { return g.keyWorks(x.req.Context(), res) }
	switch {
	case res.Body == nil || res.Body == http.NoBody:
		return nil, 0, nil // the key was looked up just now
	case streaming(res.PayloadHash):
		x.passThrough()
		if res.ContentLength > g.maxBody {
			return nil, 0, errEntityTooLarge
		}
		if res.ContentLength == 0 {
			// Nothing to hold back: check the whole stream first.
			if _, err := io.Copy(io.Discard, res.Body); err != nil {
				return nil, 0, bodyError(err)
			}
			return nil, 0, recheck()
		}
		return &holdback{r: res.Body, left: res.ContentLength, check: recheck}, res.ContentLength, nil
	case res.PayloadHash == sigv4.UnsignedPayload:
		x.passThrough()
		if x.req.ContentLength > g.maxBody {
			return nil, 0, errEntityTooLarge
		}
		if x.req.ContentLength == 0 {
			return nil, 0, nil
		}
		return &lastByte{r: bufio.NewReaderSize(&maxReader{r: res.Body, left: g.maxBody}, 512), check: recheck}, x.req.ContentLength, nil
	}
	if x.req.ContentLength > g.maxBody {
		return nil, 0, errEntityTooLarge
	}
	if x.raw.eof {
		return g.holdBuffered(x, res.Body, x.raw.n)
	}
	if g.streamHash {
		return g.streamHashed(x, recheck)
	}
	body, n, clean, err := g.hold(x, res.Body)
	x.clean = clean
	if err == nil {
		err = recheck()
	}
	if err != nil || n == 0 {
		return nil, 0, err
	}
	return body, n, nil
}

// streamHashed forwards a body whose end checks its hash as it arrives,
// its last byte held back until that end passed and the key was checked
// again (Config.StreamHashedBodies).
func (g *Gateway) streamHashed(x *exchange, recheck func() *sigv4.Error) (io.Reader, int64, *sigv4.Error) {
	x.passThrough()
	body := x.res.Body
	switch n := x.req.ContentLength; {
	case n > 0:
		return &holdback{r: body, left: n, check: recheck}, n, nil
	case n == 0:
		// Nothing to hold back: the hash of nothing is checked first.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, 0, bodyError(err)
		}
		return nil, 0, recheck()
	}
	return &lastByte{r: bufio.NewReaderSize(&maxReader{r: body, left: g.maxBody}, 512), check: recheck}, -1, nil
}

// holdBuffered forwards a body the verifier read to hash it: it is in
// memory, charged to the budget, and what the signature covers.
func (g *Gateway) holdBuffered(x *exchange, body io.Reader, n int64) (io.Reader, int64, *sigv4.Error) {
	if n > g.maxBody {
		return nil, 0, errEntityTooLarge
	}
	if e := g.keyWorks(x.req.Context(), x.res); e != nil || n == 0 {
		return nil, 0, e
	}
	return body, n, nil
}

// passThrough stops charging the client's body to the memory budget: it
// streams to the upstream as it arrives, through buffers of fixed size.
func (x *exchange) passThrough() {
	x.raw.charge = nil
	x.memory.release()
}

// hold reads a body whose end checks its hash, in memory up to maxMemory
// and then in a temporary file, and returns it once it verified. clean, if
// not nil, removes the file. The memory grows as bytes arrive, charged to
// the gateway's memory budget; a temporary file is charged to its disk
// budget instead.
func (g *Gateway) hold(x *exchange, body io.Reader) (r io.Reader, n int64, clean func(), e *sigv4.Error) {
	mem := &blocks{}
	clean = mem.release
	if err := mem.readFrom(body, g.maxMemory+1); err != nil {
		return nil, 0, clean, bodyError(err)
	}
	if n = mem.n; n <= g.maxMemory {
		br := mem.reader()
		return &br, n, clean, nil
	}
	if !x.disk.take(n) {
		x.raw.over = true
		return nil, 0, clean, errSlowDown
	}
	x.raw.charge = &x.disk
	f, err := os.CreateTemp(g.tempDir, "sigv4-gateway-*")
	if err != nil {
		return nil, 0, clean, asError(err)
	}
	// Unlinked at once where the system allows it, so that a crash leaves
	// nothing behind; removed again when done where it does not.
	os.Remove(f.Name())
	clean = func() { mem.release(); f.Close(); os.Remove(f.Name()) }
	if err := mem.writeTo(fileWriter{f}); err != nil {
		return nil, 0, clean, asError(err)
	}
	mem.release()
	x.memory.release()
	m, err := io.Copy(fileWriter{f}, io.LimitReader(body, g.maxBody-n+1))
	n += m
	switch {
	case err != nil:
		return nil, 0, clean, bodyError(err) // the body's, or fileWriter's
	case n > g.maxBody:
		return nil, 0, clean, errEntityTooLarge
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, clean, asError(err)
	}
	return f, n, clean, nil
}

// fileWriter hides the file's ReadFrom, so that a read error of the body
// (a mismatch, the client's) stays apart from a write error of the file.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &sigv4.Error{Code: sigv4.ErrInternalError.Code, Status: sigv4.ErrInternalError.Status,
			Message: "We encountered an internal error. Please try again.", Err: err}
	}
	return n, err
}

// holdback releases a decoded stream of a known length but its last byte,
// which it releases only together with the end of the stream: the decoder
// checks the final chunk, the trailers, their checksum and the length only
// at the end, and an HTTP client that wrote Content-Length bytes may
// consider the request complete.
type holdback struct {
	r     io.Reader
	left  int64               // bytes not yet released
	check func() *sigv4.Error // if set, passes before the last byte goes
}

func (h *holdback) Read(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return 0, nil
	case h.left == 0:
		return 0, io.EOF
	case h.left > 1:
		n, err := h.r.Read(p[:min(int64(len(p)), h.left-1)])
		h.left -= int64(n)
		return n, noEOF(err)
	}
	var last, more [1]byte
	if _, err := io.ReadFull(h.r, last[:]); err != nil {
		return 0, noEOF(err)
	}
	switch n, err := io.ReadFull(h.r, more[:]); {
	case n > 0:
		return 0, errLonger
	case err != io.EOF:
		return 0, err
	}
	if h.check != nil {
		if e := h.check(); e != nil {
			return 0, e
		}
	}
	p[0], h.left = last[0], 0
	return 1, io.EOF
}

// lastByte releases a body but its last byte, which it releases only once
// check passed. It reads ahead to know which byte is the last.
type lastByte struct {
	r     *bufio.Reader
	check func() *sigv4.Error
	done  bool
}

func (l *lastByte) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := l.r.Read(p)
	if err == nil {
		_, err = l.r.Peek(1)
	}
	switch {
	case err == nil:
		return n, nil
	case err != io.EOF:
		return 0, err
	}
	l.done = true
	if e := l.check(); e != nil {
		return 0, e
	}
	return n, io.EOF
}

// errLonger reports a decoder that returned more than its declared length,
// which it never does.
var errLonger = errors.New("gateway: the decoded body is longer than declared")

// noEOF turns an early end into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// maxReader fails a body that goes past its bound.
type maxReader struct {
	r    io.Reader
	left int64
}

func (m *maxReader) Read(p []byte) (int, error) {
	if m.left < 0 {
		return 0, errEntityTooLarge
	}
	p = p[:min(int64(len(p)), m.left+1)]
	n, err := m.r.Read(p)
	m.left -= int64(n)
	if m.left < 0 {
		return 0, errEntityTooLarge
	}
	return n, err
}

// guardedBody is the body the upstream reads. It records the first failure
// as the error the client gets, and once the handler is done (stop), it
// reads no more: the transport may still be reading when the handler
// returns, and the client's body is not the transport's after that.
type guardedBody struct {
	mu      sync.Mutex // held during a read
	r       io.Reader
	stopped bool
	failed  atomic.Pointer[sigv4.Error]
}

// errStopped is what the upstream reads after the handler stopped.
var errStopped = errors.New("gateway: the request is over")

func (b *guardedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.failed.Load(); e != nil {
		return 0, e
	}
	if b.stopped {
		return 0, errStopped
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		e := bodyError(err)
		b.failed.Store(e)
		return 0, e // bytes that came with a failure are not released
	}
	return n, err
}

// Close does nothing: the client's body is the server's to close.
func (b *guardedBody) Close() error { return nil }

// stop ends the upstream's reads, once a read in progress returned, and
// returns the failure of the body, if any. b may be nil.
func (b *guardedBody) stop() *sigv4.Error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	return b.failed.Load()
}

// failure returns the failure of the body so far, if any, without waiting
// for a read in progress.
func (b *guardedBody) failure() *sigv4.Error { return b.failed.Load() }

// bodyError is the error a client gets for its body: the verifier's or
// the gateway's *sigv4.Error, or IncompleteBody for a body that could not
// be read.
func bodyError(err error) *sigv4.Error {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e
	}
	return &sigv4.Error{Code: sigv4.ErrIncompleteBody.Code, Status: sigv4.ErrIncompleteBody.Status,
		Message: "The request body ended before its declared length.", Err: err}
}

// countingBody counts the bytes of the client's body, and charges them to
// a budget while the gateway holds what it reads.
type countingBody struct {
	r      io.ReadCloser
	n      int64
	eof    bool
	idle   *idleDeadline
	charge *share // nil: what is read is not held
	over   bool   // the budget was exhausted
	failed bool   // a read failed: a timeout, a reset
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	c.failed = c.failed || err != nil && err != io.EOF
	if n > 0 {
		c.idle.read()
		if c.charge != nil && !c.charge.take(int64(n)) {
			c.over = true
			return 0, errSlowDown
		}
	}
	return n, err
}

func (c *countingBody) Close() error { return c.r.Close() }

// idleDeadline moves a connection's deadlines on while bytes flow: a
// client that stops sending its body, or stops reading the answer, for
// longer than the idle timeout loses the connection, however long the
// transfer as a whole. The deadlines move at most once a second. A limit
// caps the read deadline, however fast the bytes flow: the time to a
// verdict, or to drain a rejected body.
type idleDeadline struct {
	rc                  http.ResponseController
	timeout             time.Duration // 0: none
	cap                 time.Time     // zero: none
	lastRead, lastWrite time.Time
}

// init starts d on w's connection.
func (d *idleDeadline) init(w http.ResponseWriter, timeout time.Duration) {
	*d = idleDeadline{rc: *http.NewResponseController(w), timeout: max(timeout, 0)}
	if d.timeout > 0 {
		d.read()
	}
}

func (d *idleDeadline) read() {
	if now := time.Now(); d.timeout > 0 && now.Sub(d.lastRead) >= time.Second {
		d.lastRead = now
		d.setRead(now)
	}
}

// setRead sets the read deadline (unsupported writers: none).
func (d *idleDeadline) setRead(now time.Time) {
	var t time.Time
	if d.timeout > 0 {
		t = now.Add(d.timeout)
	}
	if !d.cap.IsZero() && (t.IsZero() || t.After(d.cap)) {
		t = d.cap
	}
	d.rc.SetReadDeadline(t)
}

// limit caps the read deadline at t.
func (d *idleDeadline) limit(t time.Time) {
	d.cap = t
	d.setRead(time.Now())
}

// unlimit lifts the cap of limit, if any.
func (d *idleDeadline) unlimit() {
	if !d.cap.IsZero() {
		d.cap = time.Time{}
		d.setRead(time.Now())
	}
}

func (d *idleDeadline) write() {
	if now := time.Now(); d.timeout > 0 && now.Sub(d.lastWrite) >= time.Second {
		d.lastWrite = now
		d.rc.SetWriteDeadline(now.Add(d.timeout))
	}
}

// done clears the write deadline for the next request on the connection
// (the server resets the read deadline itself).
func (d *idleDeadline) done() {
	if d.timeout > 0 {
		d.rc.SetWriteDeadline(time.Time{})
	}
}
