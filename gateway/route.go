package gateway

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/sigv4/sigv4"
)

// newRoutes checks the routes of a Config and fills in the defaults: with
// no routes, every service goes to upstream (the whoami service if nil).
func newRoutes(routes map[string]Route, upstream *url.URL, signing *Signing) (map[string]route, error) {
	out := make(map[string]route, len(routes)+1)
	if _, ok := routes["*"]; !ok && (routes == nil || upstream != nil) {
		routes = withRoute(routes, "*", Route{Upstream: upstream, Signing: signing})
	}
	for service, r := range routes {
		target := whoamiURL
		if u := r.Upstream; u != nil {
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("gateway: the upstream %q of %q must be an absolute http or https URL", u.Redacted(), service)
			}
			if u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("gateway: the upstream %q of %q must have no query or fragment", u.Redacted(), service)
			}
			target = u
		}
		signer, err := newResigner(r.Signing)
		switch {
		case err != nil:
			return nil, err
		case signer != nil && r.Upstream == nil:
			return nil, fmt.Errorf("gateway: the route of %q has Signing but no Upstream: the whoami service checks no signature", service)
		}
		out[service] = route{target: target, upgrade: r.Upgrade, signer: signer}
	}
	return out, nil
}

func withRoute(routes map[string]Route, service string, r Route) map[string]Route {
	m := make(map[string]Route, len(routes)+1)
	for k, v := range routes {
		m[k] = v
	}
	m[service] = r
	return m
}

// routeFor returns the route of a service, or AccessDenied.
func (g *Gateway) routeFor(service string) (route, *sigv4.Error) {
	if r, ok := g.routes[service]; ok {
		return r, nil
	}
	if r, ok := g.routes["*"]; ok {
		return r, nil
	}
	return route{}, &sigv4.Error{Code: sigv4.ErrAccessDenied.Code, Status: sigv4.ErrAccessDenied.Status,
		Message: "This endpoint does not serve the service '" + service + "' your request is signed for."}
}

// routeTransport carries a request to its upstream, or to the whoami
// service in process.
type routeTransport struct{ upstream http.RoundTripper }

func (t routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == whoamiURL.Host {
		return whoami{}.RoundTrip(req)
	}
	if x := exchangeOf(req.Context()); x.route.signer != nil && !x.rawForm {
		if err := x.route.signer.sign(req, x.res, x.req.Header); err != nil {
			return nil, err
		}
	}
	return t.upstream.RoundTrip(req)
}
