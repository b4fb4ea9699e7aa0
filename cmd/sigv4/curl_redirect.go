package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigv4/sigv4"
)

// errRedirect is an answer that -L follows: to is its Location.
type errRedirect struct {
	to     *url.URL
	status int
}

func (e errRedirect) Error() string {
	return fmt.Sprintf("redirected (%d) to %s", e.status, e.to.Redacted())
}

// hop is one request of a chain of redirects: the unsigned request, and
// the signer for its host (nil: it goes unsigned, to another host).
type hop struct {
	req    *http.Request
	header http.Header
	signer *sigv4.Signer
	sent   bool
}

// next is the request to send: a fresh copy, with the body opened anew
// after the first time.
func (h *hop) next(ctx context.Context) (*http.Request, error) {
	r := h.req.Clone(ctx)
	r.Header = h.header.Clone()
	if h.sent && h.req.GetBody != nil {
		body, err := h.req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	h.sent = true
	return r, nil
}

// redirected reads a redirect that -L follows from resp: a 301, 302,
// 303, 307 or 308 with a Location.
func (o *curlOptions) redirected(resp *http.Response) (errRedirect, bool) {
	if !o.location {
		return errRedirect{}, false
	}
	switch resp.StatusCode {
	case 301, 302, 303, 307, 308:
	default:
		return errRedirect{}, false
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return errRedirect{}, false
	}
	return errRedirect{to: loc, status: resp.StatusCode}, true
}

// follow makes the hop after h for the redirect r, as curl does: a 303,
// or a 301 or 302 answering POST, becomes a GET without the body. The
// request is signed again when it goes to the same scheme, host and port;
// to another, only with --location-trusted (for the scope of the new
// host), and otherwise it goes unsigned, so the credentials' signature
// never reaches a host that was not named.
func (o *curlOptions) follow(h *hop, r errRedirect, stderr io.Writer) (*hop, error) {
	if r.to.Scheme != "http" && r.to.Scheme != "https" {
		return nil, exitErrorf(1, "redirected to %s: only http and https are followed", r.to.Redacted())
	}
	req := h.req.Clone(h.req.Context())
	req.URL, req.Host = r.to, ""
	header := h.header.Clone()
	if r.status == 303 && req.Method != http.MethodHead || (r.status == 301 || r.status == 302) && req.Method == http.MethodPost {
		req.Method = http.MethodGet
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
		if !o.userHeader("Content-Type") {
			header.Del("Content-Type")
		}
	}
	next := &hop{req: req, header: header, signer: h.signer, sent: true} // the body, opened anew
	if sameOrigin(h.req.URL, r.to) {
		return next, nil
	}
	header.Del("Host") // curl sends a custom Host only to the host named
	if o.locationTrusted && h.signer != nil {
		next.signer = o.retarget(h.signer, r.to)
		return next, nil
	}
	next.signer = nil
	if !o.silent || o.showError {
		fmt.Fprintf(stderr, "sigv4 curl: following the redirect to another host, %s, unsigned (--location-trusted signs for it)\n", r.to.Redacted())
	}
	return next, nil
}

// sameOrigin: the same scheme, host and port, as curl's rule for sending
// credentials again.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Hostname() + ":443"
	}
	return u.Hostname() + ":80"
}

// retarget is s for the scope of u's host, where its name tells (the
// flags still win).
func (o *curlOptions) retarget(s *sigv4.Signer, u *url.URL) *sigv4.Signer {
	n := &sigv4.Signer{Credentials: s.Credentials, Region: s.Region, Service: s.Service,
		S3: s.S3, ContentSHA256: s.ContentSHA256, UnsignedPayload: s.UnsignedPayload,
		OmitSessionToken: s.OmitSessionToken, Now: s.Now, Debug: s.Debug, RegionSet: s.RegionSet}
	service, region := inferScope(u.Host)
	if o.service == "" && service != "" {
		n.Service = service
	}
	if o.region == "" && region != "" {
		n.Region = region
	}
	return n
}

// userHeader says whether -H set the header.
func (o *curlOptions) userHeader(name string) bool {
	for _, h := range o.headers {
		k, _, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return true
		}
	}
	return false
}
