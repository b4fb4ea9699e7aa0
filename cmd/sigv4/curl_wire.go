package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// maxTappedHead bounds what a tap keeps of a response head.
const maxTappedHead = 64 << 10

// wireTap keeps the first response head a connection reads, as it came,
// so that -i and -v show the headers in the server's order and case, as
// curl does (http.Header is a map). Interim 1xx heads are passed over.
type wireTap struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	head []byte
}

type tapConn struct {
	net.Conn
	tap *wireTap
}

func (c tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tap.write(p[:n])
	return n, err
}

func (t *wireTap) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.head == nil && len(p) > 0 && t.buf.Len() < maxTappedHead {
		t.buf.Write(p)
		p = nil
		b := t.buf.Bytes()
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return
		}
		head := b[:end+2]
		if len(head) >= 10 && bytes.HasPrefix(head, []byte("HTTP/1.")) && head[9] == '1' {
			p = append([]byte(nil), b[end+4:]...) // an interim answer: the next head follows
			t.buf.Reset()
			continue
		}
		t.head = append([]byte(nil), head...)
	}
}

// head is the tapped head: its status line and header lines, name and
// value, in order; "" if nothing was tapped (TLS through a proxy).
func (t *wireTap) headLines() (status string, fields [][2]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(string(t.head), "\r\n"), "\r\n")
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if ok {
			fields = append(fields, [2]string{name, strings.Trim(value, " \t")})
		}
	}
	return lines[0], fields
}

// tap has the transport's connections read through the wire tap: plain
// ones, and TLS ones it makes itself (offering HTTP/1.1, as S3 speaks).
func (t *wireTap) tap(tr *http.Transport, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return tapConn{c, t}, nil
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if tr.TLSClientConfig != nil {
			cfg = tr.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		cfg.NextProtos = []string{"http/1.1"}
		if tr.TLSHandshakeTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tr.TLSHandshakeTimeout)
			defer cancel()
		}
		c := tls.Client(raw, cfg)
		if err := c.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tapConn{c, t}, nil
	}
}

// responseHead is resp's status line and headers as the server sent
// them, when the tap saw them; else as Go read them, sorted.
func responseHead(resp *http.Response, t *wireTap) (string, [][2]string) {
	if t != nil {
		status, fields := t.headLines()
		if _, code, _ := strings.Cut(status, " "); strings.HasPrefix(code, strconv.Itoa(resp.StatusCode)+" ") || code == strconv.Itoa(resp.StatusCode) {
			return status, fields
		}
	}
	return resp.Proto + " " + resp.Status, sortedFields(resp.Header)
}

func sortedFields(h http.Header) [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}
