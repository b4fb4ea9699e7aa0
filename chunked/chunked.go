// Package chunked sends request bodies as aws-chunked streams, the way AWS
// SDKs upload large objects to Amazon S3 without hashing the body first.
//
// [Sign] signs a request for one of the three streaming payload modes and
// replaces its body with the encoded stream:
//
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk is signed, each
//     signature chained to the previous one from the request's seed
//     signature.
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same, followed by a
//     trailing checksum and its own signature.
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: chunks are not signed; a trailing
//     checksum protects the data and the seed signature the headers.
//
// The other half, decoding, is [sigv4.Verifier.Verify]: for a streaming
// payload its Result.Body is the decoded data, released chunk by chunk once
// each chunk's signature matched, and ending only once the final chunk,
// the trailers and the checksum all checked out.
package chunked

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/chunk"
	"github.com/sigv4/sigv4/internal/v4a"
)

// The x-amz-content-sha256 values of the streaming payload modes. A
// Signer with a RegionSet (SigV4a) sends the ECDSA ones instead of the
// HMAC ones.
const (
	SignedPayload             = chunk.PayloadSigned
	SignedPayloadTrailer      = chunk.PayloadSignedTrailer
	UnsignedPayloadTrailer    = chunk.PayloadUnsignedTrailer
	SignedECDSAPayload        = chunk.PayloadSignedECDSA
	SignedECDSAPayloadTrailer = chunk.PayloadSignedECDSATrailer
)

// DefaultChunkSize is the chunk size of minio-go and the JS SDK.
const DefaultChunkSize = 64 << 10

// Options choose the payload mode and the framing.
type Options struct {
	// Unsigned sends STREAMING-UNSIGNED-PAYLOAD-TRAILER: the chunks are not
	// signed, so a trailing checksum is required (CRC32 if Checksum is
	// empty, as boto3 sends).
	Unsigned bool
	// Checksum adds a trailing checksum: "CRC32", "CRC32C", "CRC64NVME",
	// "SHA1" or "SHA256", in any case.
	Checksum string
	// ChunkSize is the data size of every chunk but the last: at least
	// 8 KiB, as Amazon S3 requires (default 64 KiB).
	ChunkSize int
}

// Sign signs req for an aws-chunked upload of its body and replaces the
// body with the encoded stream. req.ContentLength must be the length of
// the body; it becomes the length of the stream, and the body's length is
// sent in X-Amz-Decoded-Content-Length. Sign also sets Content-Encoding
// (aws-chunked first) and, with a checksum, X-Amz-Trailer. If req.GetBody
// is set, retries and redirects send a fresh stream with the same seed.
func Sign(s *sigv4.Signer, req *http.Request, opts Options) error {
	cfg, err := opts.config(req, len(s.RegionSet) > 0)
	if err != nil {
		return err
	}
	setHeaders(req, cfg)
	if err := s.SignPayload(req, cfg.Mode.String()); err != nil {
		return err
	}
	seed, err := seedOf(s, req)
	if err != nil {
		return err
	}
	body, getBody := req.Body, req.GetBody
	if body == nil {
		body = http.NoBody
	}
	req.Body = encoded(body, seed, cfg)
	if getBody != nil {
		req.GetBody = func() (io.ReadCloser, error) {
			b, err := getBody()
			if err != nil {
				return nil, err
			}
			return encoded(b, seed, cfg), nil
		}
	}
	return nil
}

func (o Options) config(req *http.Request, sigv4a bool) (chunk.EncoderConfig, error) {
	cfg := chunk.EncoderConfig{Mode: chunk.Signed, ChunkSize: o.ChunkSize, DecodedLength: req.ContentLength}
	if req.Body == nil || req.Body == http.NoBody {
		cfg.DecodedLength = 0
	}
	if cfg.DecodedLength < 0 {
		return cfg, errors.New("sigv4/chunked: the body's length is unknown: set req.ContentLength (x-amz-decoded-content-length is required)")
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ChunkSize < chunk.MinChunkSize {
		return cfg, fmt.Errorf("sigv4/chunked: chunk size %d is below the %d bytes Amazon S3 accepts", cfg.ChunkSize, chunk.MinChunkSize)
	}
	algorithm := o.Checksum
	if algorithm == "" && o.Unsigned {
		algorithm = "CRC32"
	}
	if algorithm != "" {
		if cfg.Trailer = chunk.ChecksumName(algorithm); cfg.Trailer == "" {
			return cfg, fmt.Errorf("sigv4/chunked: unknown checksum %q: use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256", o.Checksum)
		}
		cfg.Mode = chunk.SignedTrailer
	}
	switch {
	case o.Unsigned:
		cfg.Mode = chunk.UnsignedTrailer
	case sigv4a && cfg.Mode == chunk.Signed:
		cfg.Mode = chunk.SignedECDSA
	case sigv4a:
		cfg.Mode = chunk.SignedECDSATrailer
	}
	return cfg, nil
}

// setHeaders sets the headers of a streaming upload, to be signed.
func setHeaders(req *http.Request, cfg chunk.EncoderConfig) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	h := req.Header
	enc := "aws-chunked"
	if v := h.Get("Content-Encoding"); v != "" && !strings.HasPrefix(v, enc) {
		enc += "," + v
	}
	h.Set("Content-Encoding", enc)
	h.Set(sigv4.HeaderDecodedContentLength, fmt.Sprint(cfg.DecodedLength))
	h.Del(sigv4.HeaderTrailer)
	if cfg.Trailer != "" {
		h.Set(sigv4.HeaderTrailer, cfg.Trailer)
	}
	req.ContentLength = chunk.EncodedLength(cfg)
	req.TransferEncoding = nil
	if h.Get("Content-Length") != "" { // signed as given: keep it true
		h.Set("Content-Length", fmt.Sprint(req.ContentLength))
	}
}

// seed is what the chunk signatures chain from.
type seed struct {
	key                       sigv4.SigningKey  // SigV4
	priv                      *ecdsa.PrivateKey // SigV4a
	amzDate, scope, signature string
}

// seedOf reads the seed signature back from the request just signed.
func seedOf(s *sigv4.Signer, req *http.Request) (seed, error) {
	amzDate := req.Header.Get(sigv4.HeaderDate)
	auth := req.Header.Get(sigv4.HeaderAuthorization)
	_, sig, ok := strings.Cut(auth, "Signature=")
	if len(amzDate) < 8 || !ok {
		return seed{}, errors.New("sigv4/chunked: the signer left no seed signature")
	}
	if len(s.RegionSet) > 0 {
		priv, err := v4a.DeriveKey(s.Credentials.AccessKeyID, s.Credentials.SecretAccessKey)
		scope := sigv4.Scope{Date: amzDate[:8], Service: s.Service}
		return seed{priv: priv, amzDate: amzDate, scope: scope.String(), signature: sig}, err
	}
	scope := sigv4.Scope{Date: amzDate[:8], Region: s.Region, Service: s.Service}
	return seed{
		key:       sigv4.DeriveSigningKey(s.Credentials.SecretAccessKey, scope),
		amzDate:   amzDate,
		scope:     scope.String(),
		signature: sig,
	}, nil
}

func encoded(body io.ReadCloser, sd seed, cfg chunk.EncoderConfig) io.ReadCloser {
	switch {
	case cfg.Mode.ECDSA():
		cfg.Chain = chunk.NewECDSAChain(sd.priv, nil, sd.amzDate, sd.scope, sd.signature)
	case cfg.Mode != chunk.UnsignedTrailer:
		cfg.Chain = chunk.NewChain(sd.key, sd.amzDate, sd.scope, sd.signature)
	}
	return struct {
		io.Reader
		io.Closer
	}{chunk.NewEncoder(body, cfg), body}
}
