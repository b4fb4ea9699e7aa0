package main

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sigv4/sigv4/gateway"
)

// whoamiTarget is the --upstream target that names the built-in whoami
// service.
const whoamiTarget = "whoami"

// routes turns --upstream, --service and --websocket into the gateway's
// routes (see the usage text). STS goes to whoami unless a flag routes it:
// a key that signs for STS then reaches no other upstream, and "aws sts
// get-caller-identity" answers whatever the upstreams are.
func (o *serveOptions) routes() (map[string]gateway.Route, error) {
	routes, err := parseUpstreams(o.upstreams)
	if err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		routes["*"] = gateway.Route{}
	}
	accepted := splitList(o.services)
	if _, ok := routes["sts"]; !ok && accepts(accepted, "sts") {
		if all, ok := routes["*"]; !ok || all.Upstream != nil {
			routes["sts"] = gateway.Route{}
		}
	}
	for _, list := range o.websocket {
		if err := allowUpgrades(routes, splitList(list)); err != nil {
			return nil, err
		}
	}
	for service := range routes {
		if service != "*" && !accepts(accepted, service) {
			return nil, fmt.Errorf("%s has a route, but no signature for %s is accepted: add it to --service: %w", service, service, errUsage)
		}
	}
	return routes, nil
}

// whoamiAnswers reports whether the whoami service answers the requests
// signed for service.
func (o *serveOptions) whoamiAnswers(service string) bool {
	routes, err := o.routes()
	if err != nil {
		return false
	}
	r, ok := routes[service]
	if !ok {
		r, ok = routes["*"]
	}
	return ok && r.Upstream == nil
}

// accepts reports whether the --service list accepts signatures for
// service, as the Verifier does.
func accepts(list []string, service string) bool {
	return slices.Contains(list, service) || slices.Contains(list, "*")
}

// parseUpstreams reads --upstream flags: "URL" is the route "*" of every
// service without one of its own, "SERVICE=URL" the route of one service.
func parseUpstreams(flags []string) (map[string]gateway.Route, error) {
	routes := make(map[string]gateway.Route, len(flags)+1)
	for _, f := range flags {
		service, target := "*", f
		if name, rest, ok := strings.Cut(f, "="); ok && isServiceName(name) {
			service, target = name, rest
		}
		if _, dup := routes[service]; dup {
			return nil, fmt.Errorf("--upstream %q: a second route for %s: give one per service: %w", f, routeName(service), errUsage)
		}
		u, err := upstreamURL(target)
		if err != nil {
			return nil, fmt.Errorf("--upstream %q: %w", f, err)
		}
		routes[service] = gateway.Route{Upstream: u}
	}
	return routes, nil
}

// upstreamURL parses the target of a route: whoami (nil), or an absolute
// http or https URL with an optional path prefix.
func upstreamURL(s string) (*url.URL, error) {
	if s == whoamiTarget {
		return nil, nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("want http://host:port or https://host:port, with an optional path, or %s: %w", whoamiTarget, errUsage)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("an upstream has no query or fragment (the query is the client's): %w", errUsage)
	case u.User != nil:
		return nil, fmt.Errorf("an upstream has no user or password (they would not be sent): %w", errUsage)
	}
	return u, nil
}

// allowUpgrades lets the clients of services upgrade their connections. A
// service that takes the route "*" gets a route of its own to the same
// upstream, so that only the services named may upgrade.
func allowUpgrades(routes map[string]gateway.Route, services []string) error {
	for _, service := range services {
		r, ok := routes[service]
		if !ok {
			r, ok = routes["*"]
		}
		switch {
		case !isServiceName(service):
			return fmt.Errorf("--websocket %q: want service names, like execute-api: %w", service, errUsage)
		case !ok:
			return fmt.Errorf("--websocket %s: %s has no route: give it an --upstream: %w", service, service, errUsage)
		case r.Upstream == nil:
			return fmt.Errorf("--websocket %s: %s goes to the built-in whoami service, which has no WebSocket: give it an --upstream: %w", service, routeName(service), errUsage)
		}
		r.Upgrade = true
		routes[service] = r
	}
	return nil
}

// isServiceName reports whether s can be the service of a credential
// scope (s3, execute-api), or is "*".
func isServiceName(s string) bool {
	if s == "*" {
		return true
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return s != ""
}

func routeName(service string) string {
	if service == "*" {
		return "every service (a URL without SERVICE=)"
	}
	return service
}

// describeRoutes is the routes for the log: "sts=whoami *=http://...",
// with the services in order and "*" last, or one target for all.
func describeRoutes(routes map[string]gateway.Route) string {
	services := make([]string, 0, len(routes))
	for service := range routes {
		if service != "*" {
			services = append(services, service)
		}
	}
	slices.Sort(services)
	if _, ok := routes["*"]; ok {
		if len(services) == 0 {
			return routeTarget(routes["*"])
		}
		services = append(services, "*")
	}
	parts := make([]string, len(services))
	for i, service := range services {
		parts[i] = service + "=" + routeTarget(routes[service])
	}
	return strings.Join(parts, " ")
}

func routeTarget(r gateway.Route) string {
	target := whoamiTarget
	if r.Upstream != nil {
		target = r.Upstream.Redacted()
	}
	if r.Upgrade {
		target += "+websocket"
	}
	return target
}

// byteSize is a flag holding a number of bytes, written as 512MiB, 16GiB,
// 1GB or 4096.
type byteSize int64

func (b *byteSize) String() string { return formatSize(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// sizeUnits are the units of sizes, binary (IEC) and decimal (SI), in the
// order formatSize tries them.
var sizeUnits = []struct {
	suffix string
	n      int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// parseSize reads a positive whole number of bytes, with an optional unit
// (in any case): 512MiB is 512×2²⁰ bytes, 1GB is 10⁹.
func parseSize(s string) (int64, error) {
	num, unit := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if len(num) > len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, unit = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit || strings.HasPrefix(num, "+") {
		return 0, errors.New("want a positive whole number of bytes, like 512MiB, 16GiB, 1GB or 4096")
	}
	return n * unit, nil
}

// formatSize writes n with the first unit that divides it.
func formatSize(n int64) string {
	for _, u := range sizeUnits {
		if n != 0 && n%u.n == 0 && u.n > 1 {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
