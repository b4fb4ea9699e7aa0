package gateway

import (
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/sigv2"
)

// What the upstream receives must be what was signed. The checks here
// refuse the requests that net/http's ReverseProxy, or an upstream's own
// parsing, would turn into something else after verification.

// hopByHop are the headers that concern one connection only (RFC 9110,
// section 7.6.1). ReverseProxy removes them, and every header that
// Connection names, before forwarding.
var hopByHop = map[string]bool{
	"connection": true, "proxy-connection": true, "keep-alive": true,
	"proxy-authenticate": true, "proxy-authorization": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true,
	"http2-settings": true, // curl --http2 over http: (RFC 7540, section 3.2.1)
	"close":          true, // not a header: Connection's option to close
}

// checkConnection refuses a Connection header that names an end-to-end
// header, or a signed one: the proxy would remove it after the signature
// vouched for it (a signed Content-MD5 or x-amz-checksum-* dropped, and
// another body sent with no integrity header). signed is the request's
// SignedHeaders, or "" before verification.
func checkConnection(h http.Header, signed string) *sigv4.Error {
	for _, v := range h["Connection"] {
		for token := range strings.SplitSeq(v, ",") {
			name := strings.ToLower(strings.TrimSpace(token))
			switch {
			case name == "":
			case !hopByHop[name]:
				return errConnection(name, "is not a hop-by-hop header")
			case signed != "" && hasName(signed, name):
				return errConnection(name, "is signed")
			}
		}
	}
	return nil
}

func errConnection(name, why string) *sigv4.Error {
	return &sigv4.Error{Code: sigv4.ErrInvalidRequest.Code, Status: sigv4.ErrInvalidRequest.Status,
		Message: "The Connection header names " + name + ", which " + why +
			": the gateway would remove it after verifying the signature."}
}

// hasName reports whether a SignedHeaders list (a;b;c) holds name.
func hasName(list, name string) bool {
	for n := range strings.SplitSeq(list, ";") {
		if n == name {
			return true
		}
	}
	return false
}

// errInvalidURI answers a path the gateway will not forward, as Amazon S3
// answers a path it cannot parse.
var errInvalidURI = &sigv4.Error{Code: "InvalidURI", Status: http.StatusBadRequest,
	Message: "Couldn't parse the specified URI."}

// checkPath refuses a path whose dot segments climb above its root: with
// an upstream path prefix (/tenant-a/), /../admin would leave it. Every
// spelling an upstream might resolve counts: "." and ".." raw or
// %2e-escaped, between "/", "\", %2F or %5C.
func checkPath(path string) *sigv4.Error {
	depth := 0
	for seg := range splitSegments(path) {
		switch strings.ToLower(seg) {
		case ".", "%2e":
		case "..", ".%2e", "%2e.", "%2e%2e":
			if depth--; depth < 0 {
				return errInvalidURI
			}
		default:
			depth++
		}
	}
	return nil
}

// splitSegments yields the segments of a raw path, split at every byte
// sequence that some server reads as a slash.
func splitSegments(path string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := 0
		for i := 0; i < len(path); {
			w := separatorAt(path, i)
			if w == 0 {
				i++
				continue
			}
			if i > start && !yield(path[start:i]) {
				return
			}
			i += w
			start = i
		}
		if start < len(path) {
			yield(path[start:])
		}
	}
}

// separatorAt returns the length of the separator at path[i:], or 0.
func separatorAt(path string, i int) int {
	switch path[i] {
	case '/', '\\':
		return 1
	case '%':
		if i+2 < len(path) && path[i+1] == '2' && (path[i+2] == 'f' || path[i+2] == 'F') ||
			i+2 < len(path) && path[i+1] == '5' && (path[i+2] == 'c' || path[i+2] == 'C') {
			return 3
		}
	}
	return 0
}

// errBadQuery answers a query with a malformed escape, which the
// canonical query reads one way (a literal %) and an upstream another.
var errBadQuery = &sigv4.Error{Code: sigv4.ErrInvalidArgument.Code, Status: sigv4.ErrInvalidArgument.Status,
	Message: "The query string has a '%' that does not start an escape (%XX)."}

// checkQuery refuses a raw query that does not decode cleanly.
func checkQuery(raw string) *sigv4.Error {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && (i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2])) {
			return errBadQuery
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// forwardedQuery is the raw query as verified, less the signature's
// parameters: those of SigV4, or of a SigV2 presigned URL. The canonical
// query reads ";" as a byte of a value, like %3B; it is sent as %3B so
// that no upstream splits a field there.
func forwardedQuery(raw string, res *sigv4.Result) string {
	if res.Algorithm == sigv2.Algorithm && res.Presigned {
		raw = sigv2.WithoutAuthParams(raw)
	}
	return strings.ReplaceAll(authz.WithoutAuthParams(raw), ";", "%3B")
}

// overrideHeaders are headers that frameworks and proxies read as a
// different method, path or client address than the request's own. They
// are removed, whatever their case or spelling with underscores, unless
// Config.ForwardOverrides names them. X-Forwarded-For, -Host and -Proto
// are then set by the gateway.
var overrideHeaders = []string{
	"x-http-method-override", "x-http-method", "x-method-override",
	"x-original-url", "x-original-method", "x-rewrite-url", "x-original-uri",
	"x-real-ip", "x-client-ip", "true-client-ip", "x-cluster-client-ip",
	"x-forwarded-prefix", "x-forwarded-port", "x-forwarded-server",
	"x-forwarded-host", "x-forwarded-for", "x-forwarded-proto", "forwarded",
}

// normalName is a header name as a server reading "_" as "-" sees it.
func normalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// isOverride reports whether name is an override header, in any case or
// with "_" for "-", without allocating: it runs on every header.
func isOverride(name string) bool {
	for _, o := range overrideHeaders {
		if len(o) == len(name) && sameNormal(name, o) {
			return true
		}
	}
	return false
}

// sameNormal reports whether name, read as normalName reads it, is o.
func sameNormal(name, o string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != o[i] {
			return false
		}
	}
	return true
}

// setXForwarded is ProxyRequest.SetXForwarded with the three values in
// one backing array: the client's address after any X-Forwarded-For
// already set, the client's Host, and the scheme it used.
func setXForwarded(pr *httputil.ProxyRequest) {
	out := pr.Out.Header
	v := make([]string, 3)
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := out["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		v[0] = ip
		out["X-Forwarded-For"] = v[0:1:1]
	} else {
		delete(out, "X-Forwarded-For")
	}
	v[1], v[2] = pr.In.Host, "http"
	if pr.In.TLS != nil {
		v[2] = "https"
	}
	out["X-Forwarded-Host"], out["X-Forwarded-Proto"] = v[1:2:2], v[2:3:3]
}

// setForwarded sets X-Forwarded-For, -Host and -Proto, as
// ReverseProxy.SetXForwarded does: after the client's address, in
// X-Forwarded-For, come only the addresses of a proxy in front whose
// headers the gateway is configured to forward (keep); the proxy had
// removed them, and Forwarded, from the request.
func setForwarded(pr *httputil.ProxyRequest, keep map[string]bool) {
	in, out := pr.In.Header, pr.Out.Header
	kept := func(name string) bool { return len(in[name]) > 0 && len(keep) > 0 && keep[strings.ToLower(name)] }
	for _, name := range []string{"Forwarded", "X-Forwarded-For"} {
		if kept(name) {
			out[name] = slices.Clone(in[name])
		}
	}
	setXForwarded(pr)
	for _, name := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
		if kept(name) {
			out[name] = slices.Clone(in[name])
		}
	}
}
