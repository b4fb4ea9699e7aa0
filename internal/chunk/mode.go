// Package chunk encodes and decodes aws-chunked payloads: the chunk
// signature chain of STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], the
// unsigned chunks of STREAMING-UNSIGNED-PAYLOAD-TRAILER, and their
// trailers and trailing checksums.
//
// The signature chain builds its strings to sign from the credential scope
// and date of the seed signature, which internal/canonical computed; this
// package adds only the chunk and trailer links.
package chunk

import "github.com/sigv4/sigv4/internal/v4a"

// Mode is a streaming payload mode, named by x-amz-content-sha256.
type Mode uint8

// The streaming payload modes.
const (
	Signed             Mode = iota + 1 // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	SignedTrailer                      // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	UnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
	SignedECDSA                        // STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD
	SignedECDSATrailer                 // STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER
)

// The x-amz-content-sha256 values of the modes.
const (
	PayloadSigned             = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	PayloadSignedTrailer      = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	PayloadUnsignedTrailer    = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	PayloadSignedECDSA        = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	PayloadSignedECDSATrailer = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
)

// ParseMode returns the mode named by an x-amz-content-sha256 value.
func ParseMode(payload string) (Mode, bool) {
	switch payload {
	case PayloadSigned:
		return Signed, true
	case PayloadSignedTrailer:
		return SignedTrailer, true
	case PayloadUnsignedTrailer:
		return UnsignedTrailer, true
	case PayloadSignedECDSA:
		return SignedECDSA, true
	case PayloadSignedECDSATrailer:
		return SignedECDSATrailer, true
	}
	return 0, false
}

// String returns the x-amz-content-sha256 value of m.
func (m Mode) String() string {
	switch m {
	case Signed:
		return PayloadSigned
	case SignedTrailer:
		return PayloadSignedTrailer
	case UnsignedTrailer:
		return PayloadUnsignedTrailer
	case SignedECDSA:
		return PayloadSignedECDSA
	case SignedECDSATrailer:
		return PayloadSignedECDSATrailer
	}
	return "invalid mode"
}

// signed reports whether chunks carry signatures.
func (m Mode) signed() bool { return m != UnsignedTrailer }

// ECDSA reports whether chunks carry SigV4a (ECDSA) signatures.
func (m Mode) ECDSA() bool { return m == SignedECDSA || m == SignedECDSATrailer }

// trailer reports whether trailers follow the final chunk.
func (m Mode) trailer() bool {
	return m == SignedTrailer || m == UnsignedTrailer || m == SignedECDSATrailer
}

// signatureLen is the length of a chunk signature on the wire.
func (m Mode) signatureLen() int {
	if m.ECDSA() {
		return v4a.ChunkSignatureLen
	}
	return 64
}

// Bounds of what a decoder reads.
const (
	// DefaultMaxChunkSize bounds a signed chunk, which is held in memory
	// until its signature is checked. Clients send 64 KiB (minio-go, the
	// CRT) or 128 KiB (the Java SDK).
	DefaultMaxChunkSize = 8 << 20
	// MaxChunkLine bounds a chunk header line: the size in hex and the
	// chunk-signature extension.
	MaxChunkLine = 256
	// MaxTrailerLine bounds one trailer line, and MaxTrailers their number.
	MaxTrailerLine = 1024
	MaxTrailers    = 16
)
