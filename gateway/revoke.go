package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/sigv2"
)

// A request is verified when it starts; a long upload or an upgraded
// connection may outlive its access key. The gateway asks the KeySource
// again before the last byte of a body goes upstream, and every
// tunnelRecheck while a tunnel is open.

// tunnelRecheck is how often an upgraded connection checks its key.
const tunnelRecheck = time.Second

// keyWorks asks the Verifier's KeySource again for the key of a verified
// request: it may have been disabled or deleted, or its session may have
// expired, since the request began. A KeySource that caches keys (as
// credstore's does) answers from its cache, with the delay it documents.
func (g *Gateway) keyWorks(ctx context.Context, res *sigv4.Result) *sigv4.Error {
	id := res.Identity
	var err error
	switch res.Algorithm {
	case canonical.AlgorithmECDSA:
		keys, _ := g.verifier.Keys.(sigv4.PublicKeySource) // the verifier had one
		_, id, err = keys.PublicKey(ctx, id.AccessKeyID)
	case sigv2.Algorithm:
		keys, _ := g.verifier.Keys.(sigv4.SigV2Source) // the verifier had one
		_, id, err = keys.SigV2Signature(ctx, id.AccessKeyID, nil)
	default:
		_, id, err = g.verifier.Keys.SigningKey(ctx, id.AccessKeyID, res.Scope)
	}
	now := time.Now()
	if g.verifier.Now != nil {
		now = g.verifier.Now()
	}
	switch {
	case err != nil && !errors.Is(err, sigv4.ErrInvalidAccessKeyID):
		return asError(err) // the key source failed (InternalError, ServiceUnavailable)
	case err != nil:
		return &sigv4.Error{Code: sigv4.ErrInvalidAccessKeyID.Code, Status: sigv4.ErrInvalidAccessKeyID.Status,
			Message: "The AWS Access Key Id you provided does not exist in our records.", Err: err}
	case !id.Expiration.IsZero() && !now.Before(id.Expiration):
		return &sigv4.Error{Code: sigv4.ErrExpiredToken.Code, Status: sigv4.ErrExpiredToken.Status,
			Message: "The provided token has expired."}
	}
	return nil
}

// tunnel returns the context of an upgraded connection: done after
// MaxTunnel, or as soon as the key of res stops working. ReverseProxy
// closes the upstream connection when the request's context is done, and
// with it the client's.
func (g *Gateway) tunnel(ctx context.Context, res *sigv4.Result) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, g.maxTunnel)
	go func() {
		t := time.NewTicker(min(tunnelRecheck, g.maxTunnel))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if g.keyWorks(ctx, res) != nil {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}
