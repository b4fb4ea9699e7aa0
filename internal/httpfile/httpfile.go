// Package httpfile reads and writes HTTP/1.1 requests as text files, in the
// format of the AWS signing test suite's request.txt: a request line,
// "Name:value" header lines (folded continuation lines allowed), an empty
// line and the body. The request target is kept exactly as written, even
// when it holds raw spaces or UTF-8, because the signature covers it as sent.
package httpfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxSize bounds a request file.
const MaxSize = 64 << 20

// File is a parsed request file.
type File struct {
	Method, Target, Proto string
	Headers               []Field // in file order, names as written
	Body                  []byte
}

// Field is one header line.
type Field struct{ Name, Value string }

// Read parses a request file.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, errors.New("httpfile: request file too large")
	}
	return Parse(data)
}

// Parse parses the bytes of a request file. Lines may end in LF or CRLF.
func Parse(data []byte) (*File, error) {
	head, body, found := cutHead(data)
	lines := strings.Split(head, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	f := &File{}
	if found {
		f.Body = body
	}
	first := lines[0]
	sp1, sp2 := strings.IndexByte(first, ' '), strings.LastIndexByte(first, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return nil, fmt.Errorf("httpfile: bad request line %q: want METHOD TARGET HTTP/1.1", first)
	}
	f.Method, f.Target, f.Proto = first[:sp1], first[sp1+1:sp2], first[sp2+1:]
	if !strings.HasPrefix(f.Proto, "HTTP/") {
		return nil, fmt.Errorf("httpfile: bad request line %q: want METHOD TARGET HTTP/1.1", first)
	}
	for _, line := range lines[1:] {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' { // obsolete line folding
			if len(f.Headers) == 0 {
				return nil, errors.New("httpfile: continuation line before any header")
			}
			f.Headers[len(f.Headers)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("httpfile: bad header line %q", line)
		}
		f.Headers = append(f.Headers, Field{name, strings.TrimLeft(value, " \t")})
	}
	return f, nil
}

// cutHead splits at the first empty line.
func cutHead(data []byte) (string, []byte, bool) {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(data, []byte(sep)); i >= 0 {
			return string(data[:i]), data[i+len(sep):], true
		}
	}
	return strings.TrimRight(string(data), "\r\n"), nil, false
}

// Request returns the request to send: the target's path is kept as
// written (in URL.Opaque), the host comes from the Host header, and scheme
// is "https" unless given.
func (f *File) Request(scheme string) (*http.Request, error) {
	if scheme == "" {
		scheme = "https"
	}
	path, query, _ := strings.Cut(f.Target, "?")
	u := &url.URL{Scheme: scheme, Opaque: path, RawQuery: query}
	if strings.HasPrefix(path, "//") {
		// Go reads an Opaque "//x" as an authority; a path it escapes the
		// same way round-trips through Path and RawPath instead.
		p, err := url.PathUnescape(path)
		if err != nil {
			return nil, fmt.Errorf("httpfile: bad path %q: %v", path, err)
		}
		u.Opaque, u.Path, u.RawPath = "", p, path
	}
	req := &http.Request{
		Method: f.Method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header), ContentLength: int64(len(f.Body)),
	}
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, "Host") {
			req.Host, u.Host = h.Value, h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	if u.Host == "" {
		return nil, errors.New("httpfile: the request has no Host header")
	}
	req.Body = http.NoBody
	if len(f.Body) > 0 {
		body := f.Body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req, nil
}

// ServerRequest returns the request as a server receives it: RequestURI is
// the target as written and Content-Length stays in the header map.
func (f *File) ServerRequest(scheme string) (*http.Request, error) {
	req, err := f.Request(scheme)
	if err != nil {
		return nil, err
	}
	req.RequestURI = f.Target
	req.URL.Opaque, req.URL.Path = "", f.Target
	if path, _, _ := strings.Cut(f.Target, "?"); path != "" {
		if p, err := url.PathUnescape(path); err == nil {
			req.URL.Path = p
		} else {
			req.URL.Path = path
		}
	}
	if cl := req.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			req.ContentLength = n
		}
	}
	return req, nil
}

// Write writes req in the request file format: the request line with
// target, then the headers of order first (in that order, as Name:value),
// then any other header sorted, then the body.
func Write(w io.Writer, req *http.Request, target string, order []Field, body []byte) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s HTTP/1.1\n", req.Method, target)
	done := make(map[string]int)
	for _, h := range order {
		key := http.CanonicalHeaderKey(h.Name)
		if strings.EqualFold(h.Name, "Host") {
			fmt.Fprintf(bw, "%s:%s\n", h.Name, req.Host)
			continue
		}
		vals := req.Header.Values(key)
		i := done[key]
		if i < len(vals) {
			fmt.Fprintf(bw, "%s:%s\n", h.Name, vals[i])
			done[key] = i + 1
		}
	}
	for _, key := range slices.Sorted(maps.Keys(req.Header)) {
		for _, v := range req.Header[key][done[key]:] {
			fmt.Fprintf(bw, "%s:%s\n", key, v)
		}
	}
	if len(body) > 0 {
		bw.WriteString("\n")
		bw.Write(body)
	}
	return bw.Flush()
}
