package gateway

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/replay"
)

// errReplayed answers a request whose signature was accepted before.
var errReplayed = &sigv4.Error{Code: sigv4.ErrAccessDenied.Code, Status: sigv4.ErrAccessDenied.Status,
	Message: "This request was received before: a signed request is accepted once."}

// errReplayUnavailable answers a request the replay cache could not judge,
// when the gateway is configured to refuse then (the default).
var errReplayUnavailable = &sigv4.Error{Code: sigv4.ErrServiceUnavailable.Code, Status: sigv4.ErrServiceUnavailable.Status,
	Message: "The gateway cannot check this request for a replay just now. Please try again."}

// replayGuard is the gateway's use of a replay cache.
type replayGuard struct {
	cache     replay.Cache
	presigned bool
	failOpen  bool
	outcomes  *prometheus.CounterVec
	lastErr   atomic.Int64 // unix nanoseconds of the last cache failure
	lastOK    atomic.Int64
}

// check refuses x if what it signed was accepted before.
func (g *Gateway) checkReplay(x *exchange) *sigv4.Error {
	r := g.replay
	if r == nil || (x.res.Presigned && !r.presigned) {
		return nil
	}
	seen, err := r.cache.Seen(x.req.Context(), replay.KeyOf(x.res), x.res.Expires)
	switch {
	case err != nil && r.failOpen:
		r.lastErr.Store(time.Now().UnixNano())
		r.outcomes.WithLabelValues("unchecked").Inc()
		g.log.Warn("replay cache failed: request accepted unchecked", "request_id", x.id, "err", err)
		return nil
	case err != nil:
		r.lastErr.Store(time.Now().UnixNano())
		r.outcomes.WithLabelValues("unavailable").Inc()
		e := *errReplayUnavailable
		e.Err = err
		return &e
	case seen:
		r.lastOK.Store(time.Now().UnixNano())
		r.outcomes.WithLabelValues("replayed").Inc()
		return errReplayed
	}
	r.lastOK.Store(time.Now().UnixNano())
	r.outcomes.WithLabelValues("first").Inc()
	return nil
}

// down reports whether the replay cache's last answer was a failure.
func (r *replayGuard) down() bool { return r != nil && r.lastErr.Load() > r.lastOK.Load() }

// ping asks a cache that can be asked (replay.Redis) whether it answers,
// for /healthz.
func (r *replayGuard) ping(ctx context.Context) {
	p, ok := r.pinger()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if p.Ping(ctx) != nil {
		r.lastErr.Store(time.Now().UnixNano())
	} else {
		r.lastOK.Store(time.Now().UnixNano())
	}
}

func (r *replayGuard) pinger() (interface{ Ping(context.Context) error }, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.cache.(interface{ Ping(context.Context) error })
	return p, ok
}
