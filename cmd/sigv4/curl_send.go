package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

// errRetry is a transient failure to try again: why says what it was.
type errRetry struct{ why string }

func (e errRetry) Error() string { return e.why }

// transientStatus are the answers curl's --retry tries again.
var transientStatus = []int{408, 429, 500, 502, 503, 504}

// send sends req and writes the response; with retry, a transient
// failure is an errRetry instead, and nothing is written.
func (o *curlOptions) send(req *http.Request, stdout, stderr io.Writer, retry bool) error {
	if o.verbose {
		writeRequestHead(stderr, req)
	}
	progress := o.progressTo(stderr)
	if req.Body != nil && req.Body != http.NoBody && progress != nil {
		req.Body = progress.reader(req.Body, req.ContentLength, "sent")
	}
	start := time.Now()
	client, tap, err := o.client(req)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		var netErr net.Error
		if retry && errors.As(err, &netErr) && netErr.Timeout() && req.Context().Err() == nil {
			return errRetry{"timed out"}
		}
		if retry && o.retryConnRefused && errors.Is(err, syscall.ECONNREFUSED) {
			return errRetry{"the connection was refused"}
		}
		return transportError(err, req.Context().Err() != nil)
	}
	defer resp.Body.Close()
	if retry && slices.Contains(transientStatus, resp.StatusCode) {
		// As curl: standard output cannot take back the answer retried;
		// a file is written anew, and -f writes no body.
		sink := io.Discard
		if !o.fail && (o.output == "" || o.output == "-") && !o.remoteName {
			sink = stdout
		}
		io.Copy(sink, io.LimitReader(resp.Body, 1<<20))
		return errRetry{"the server answered " + resp.Status}
	}
	if o.verbose {
		writeResponseHead(stderr, "< ", resp, tap)
	}
	if moved, ok := o.redirected(resp); ok {
		if o.include && o.output == "" && !o.remoteName {
			writeResponseHead(stdout, "", resp, tap)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return moved
	}
	if o.fail && resp.StatusCode >= 400 {
		return exitErrorf(22, "the server answered %s", resp.Status)
	}
	out, closeOut, err := o.outputFile(stdout, req.URL)
	if err != nil {
		return err
	}
	defer closeOut()
	if o.include || o.head {
		writeResponseHead(out, "", resp, tap)
	}
	var src io.Reader = resp.Body
	if progress != nil {
		src = progress.reader(resp.Body, resp.ContentLength, "received")
	}
	n, err := io.Copy(out, src)
	if err == nil && o.writeOut != "" {
		_, err = io.WriteString(stdout, writeOut(o.writeOut, resp, n, time.Since(start)))
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return exitErrorf(28, "--max-time: timed out reading the response")
		}
		return exitErrorf(23, "writing the response: %v", err)
	}
	return nil
}

// client is the client for req: a new one each time, with the tap on its
// connections but where req goes through a TLS tunnel of a proxy.
func (o *curlOptions) client(req *http.Request) (*http.Client, *wireTap, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true // as curl without --compressed: no Accept-Encoding
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if o.connectTimeout > 0 {
		dialer.Timeout = o.connectTimeout
		t.TLSHandshakeTimeout = o.connectTimeout
	}
	redirect, err := o.dialRules()
	if err != nil {
		return nil, nil, err
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, redirect(addr))
	}
	if o.proxy != "" {
		p, err := parseURL(o.proxy)
		if err != nil {
			return nil, nil, fmt.Errorf("-x %q: %v: %w", o.proxy, err, errUsage)
		}
		t.Proxy = http.ProxyURL(p)
	}
	if o.insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	var tap *wireTap
	if p, _ := t.Proxy(req); p == nil || req.URL.Scheme != "https" {
		tap = &wireTap{}
		tap.tap(t, dial)
	} else {
		t.DialContext = dial
	}
	return &http.Client{
		Transport: t,
		// As curl without -L: a redirect is the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, tap, nil
}

// dialRules reads --resolve and --connect-to into where to connect for
// an address: the first rule that matches, as curl takes them.
func (o *curlOptions) dialRules() (func(addr string) string, error) {
	type rule struct{ host, port, toHost, toPort string }
	var rules []rule
	for _, r := range o.resolve {
		parts := strings.SplitN(r, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--resolve %q: want HOST:PORT:ADDRESS: %w", r, errUsage)
		}
		rules = append(rules, rule{parts[0], parts[1], strings.Trim(parts[2], "[]"), parts[1]})
	}
	for _, r := range o.connectTo {
		parts := strings.Split(r, ":")
		if len(parts) != 4 {
			return nil, fmt.Errorf("--connect-to %q: want HOST1:PORT1:HOST2:PORT2 (empty parts: any, or the same): %w", r, errUsage)
		}
		rules = append(rules, rule{parts[0], parts[1], parts[2], parts[3]})
	}
	return func(addr string) string {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return addr
		}
		for _, r := range rules {
			if (r.host == "" || strings.EqualFold(r.host, host)) && (r.port == "" || r.port == port) {
				return net.JoinHostPort(cmp.Or(r.toHost, host), cmp.Or(r.toPort, port))
			}
		}
		return addr
	}, nil
}

func (o *curlOptions) outputFile(stdout io.Writer, u *url.URL) (io.Writer, func(), error) {
	name := o.output
	if o.remoteName && name == "" {
		name = path.Base(u.Path)
		if name == "/" || name == "." || name == "" {
			return nil, nil, exitErrorf(23, "-O: the URL %s names no file", u.Redacted())
		}
	}
	if name == "" || name == "-" {
		return stdout, func() {}, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, exitErrorf(23, "cannot write %s: %v", name, err)
	}
	return f, func() { f.Close() }, nil
}

// transportError gives a failed request curl's exit code; expired says
// the request's own deadline (--max-time) passed.
func transportError(err error, expired bool) error {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	dial := errors.As(err, &opErr) && opErr.Op == "dial"
	switch {
	case expired:
		return exitErrorf(28, "timed out (--max-time): %v", err)
	case errors.As(err, &dnsErr):
		return exitErrorf(6, "could not resolve host %s", dnsErr.Name)
	case dial && opErr.Timeout():
		return exitErrorf(28, "timed out connecting to %s (--connect-timeout)", opErr.Addr)
	case errors.As(err, &netErr) && netErr.Timeout():
		return exitErrorf(28, "timed out: %v", err)
	case dial:
		return exitErrorf(7, "could not connect: %v", opErr.Err)
	}
	return exitErrorf(1, "%v", err)
}

// writeRequestHead writes the request line and headers as sent, "> " first.
func writeRequestHead(w io.Writer, req *http.Request) {
	fmt.Fprintf(w, "> %s %s HTTP/1.1\n> Host: %s\n", req.Method, req.URL.RequestURI(), req.Host)
	if req.ContentLength > 0 {
		fmt.Fprintf(w, "> Content-Length: %d\n", req.ContentLength)
	}
	writeHeader(w, "> ", req.Header)
	fmt.Fprintln(w, ">")
}

func writeResponseHead(w io.Writer, prefix string, resp *http.Response, tap *wireTap) {
	status, fields := responseHead(resp, tap)
	fmt.Fprintf(w, "%s%s\r\n", prefix, status)
	for _, f := range fields {
		fmt.Fprintf(w, "%s%s: %s\r\n", prefix, f[0], f[1])
	}
	fmt.Fprintf(w, "%s\r\n", prefix)
}

func writeHeader(w io.Writer, prefix string, h http.Header) {
	for _, f := range sortedFields(h) {
		fmt.Fprintf(w, "%s%s: %s\r\n", prefix, f[0], f[1])
	}
}
