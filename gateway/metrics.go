package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus metrics. Labels are bounded: the
// method is one of the standard methods or OTHER, the code one of the AWS
// error codes the gateway answers with or OK.
type metrics struct {
	gatherer prometheus.Gatherer
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  prometheus.Counter
	bytesOut prometheus.Counter
	inFlight prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry, keyCacheStats func() (hits, misses uint64), memory, disk *budget) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	const ns, sub = "sigv4", "gateway"
	m := &metrics{
		gatherer: reg, registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Requests by method and outcome: OK (verified and forwarded) or the AWS error code answered.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its answer, upstream included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1 ms to 4.4 min
		}, []string{"method"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "received_bytes_total",
			Help: "Bytes of request bodies read from clients, as sent (aws-chunked framing included).",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "sent_bytes_total",
			Help: "Bytes of response bodies written to clients.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_in_flight",
			Help: "Requests being served.",
		}),
	}
	cs := []prometheus.Collector{m.requests, m.duration, m.bytesIn, m.bytesOut, m.inFlight,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "buffered_bytes",
			Help: "Bytes of request bodies held in memory (bounded by MaxBuffered).",
		}, func() float64 { return float64(memory.used.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "temp_bytes",
			Help: "Bytes of request bodies held in temporary files (bounded by MaxTempBytes).",
		}, func() float64 { return float64(disk.used.Load()) }),
	}
	if keyCacheStats != nil {
		cs = append(cs,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "key_cache_hits_total",
				Help: "Signing keys found in the key cache.",
			}, func() float64 { h, _ := keyCacheStats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "key_cache_misses_total",
				Help: "Signing keys not found in the key cache (derived or fetched).",
			}, func() float64 { _, m := keyCacheStats(); return float64(m) }),
		)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// keysDown asks the keys' store whether it answers, within a second.
func (g *Gateway) keysDown(ctx context.Context) error {
	if g.keysHealth == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return g.keysHealth(ctx)
}

// register adds a collector to the gateway's registry.
func (m *metrics) register(c prometheus.Collector) error { return m.registry.Register(c) }

func (m *metrics) observe(method, code string, d time.Duration, in, out int64) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, code).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
	m.bytesIn.Add(float64(in))
	m.bytesOut.Add(float64(out))
}

// methodLabel bounds the method label.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// AdminHandler serves GET /healthz ("ok", or 503 "draining" after Drain)
// and GET /metrics (Prometheus). It is meant for a listener of its own,
// such as 127.0.0.1:9090: the gateway's listener forwards every path
// upstream, and answers only signed requests.
func (g *Gateway) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		g.replay.ping(r.Context())
		switch {
		case g.draining.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("draining\n"))
		case g.replay.down() && !g.replay.failOpen:
			// Header-signed requests are refused until the cache answers.
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("down: the replay cache does not answer\n"))
		case g.replay.down():
			w.Write([]byte("degraded: the replay cache does not answer; requests are accepted unchecked\n"))
		case g.keysDown(r.Context()) != nil:
			fmt.Fprintf(w, "degraded: the key store does not answer (%v); the keys read before serve, others get ServiceUnavailable\n", g.keysDown(r.Context()))
		default:
			w.Write([]byte("ok\n"))
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.gatherer, promhttp.HandlerOpts{}))
	if g.failures != nil {
		g.adminFailures(mux)
	}
	return mux
}

// responseWriter records the status and size of an answer.
type responseWriter struct {
	http.ResponseWriter
	status int
	n      int64
	idle   *idleDeadline // nil: no idle timeout
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.idle != nil {
		w.idle.write()
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
