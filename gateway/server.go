package gateway

import (
	"net/http"
	"time"
)

// Recommended limits of the http.Server in front of a Gateway.
const (
	// ReadHeaderTimeout bounds the time a client takes to send its
	// headers (a slow client holds a connection, not a request).
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout bounds a keep-alive connection between requests.
	IdleTimeout = 2 * time.Minute
	// DefaultIdleTimeout is the Config.IdleTimeout serve uses: the
	// longest a transfer may stall.
	DefaultIdleTimeout = time.Minute
	// MaxHeaderBytes bounds the request line and headers: room for a
	// presigned URL and S3 metadata; the verifier refuses a canonical
	// request over 64 KiB anyway.
	MaxHeaderBytes = 128 << 10
)

// NewServer returns an http.Server serving h on addr with the recommended
// limits. It sets no ReadTimeout or WriteTimeout: an upload or a download
// of gigabytes takes what it takes; Config.MaxBody bounds the size instead.
//
// To stop gracefully, call Gateway.Drain, wait for load balancers to notice
// /healthz failing, then call the server's Shutdown with a deadline: it
// stops accepting connections and waits for the requests in flight.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}
