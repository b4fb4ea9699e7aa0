// Package v4a is the cryptographic core of SigV4a, AWS4-ECDSA-P256-SHA256:
// the key pair AWS derives from an access key, and the ECDSA signature over
// a string to sign. The canonical request and the string to sign themselves
// come from internal/canonical, as for SigV4.
//
// The root Verifier, the sigv4a package, the credential store and the
// aws-chunked code share it, so that there is one derivation and one
// signature format.
//
// # Keys
//
// DeriveKey turns an access key pair into a P-256 private key exactly as
// AWS does (see derive.go). A verifier needs only the public half:
// ParsePublicKey and PublicKeyHex read and write it as the hex X and Y
// coordinates that the official test suite's public-key.json holds.
//
// # Signatures
//
// Sign hashes the string to sign with SHA-256 and signs the digest with
// ECDSA; the signature is the lower-case hex of its ASN.1 DER encoding, and
// is randomized, as AWS's own signers' are: two signatures of the same string
// differ. Verify checks one strictly.
//
// ECDSA signatures are malleable: if (r, s) verifies, so does (r, n−s), and
// AWS's signers emit both high and low s. A signature is therefore not a
// unique name for a request; a replay cache must key on something else, such
// as the string to sign.
//
// # Chunk signatures
//
// In aws-chunked bodies (STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER])
// aws-c-auth pads every chunk and trailer signature on the wire with '*' to
// ChunkSignatureLen bytes, the hex length of the longest DER signature, so
// that a chunk's encoded length does not depend on its signature. The
// previous signature enters the next chunk's string to sign without that
// padding. PadChunkSignature and TrimChunkSignature convert between the two.
// The seed signature, in the Authorization header, is never padded.
package v4a

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Algorithm is the SigV4a algorithm name, as it appears in the Authorization
// header, in X-Amz-Algorithm and on the first line of the string to sign.
const Algorithm = "AWS4-ECDSA-P256-SHA256"

// Bounds on the hex signature: a DER ECDSA P-256 signature is 8 bytes
// (SEQUENCE of two one-byte INTEGERs) to 72 bytes (two 33-byte INTEGERs
// with their headers, in a SEQUENCE).
const (
	MinSignatureLen = 2 * 8
	MaxSignatureLen = 2 * 72
)

// ChunkSignatureLen is the length of a padded chunk or trailer signature.
const ChunkSignatureLen = MaxSignatureLen

// chunkPadding is the byte aws-c-auth pads chunk signatures with
// (AWS_SIGV4A_SIGNATURE_PADDING_BYTE).
const chunkPadding = '*'

// Sign returns the SigV4a signature of stringToSign: the lower-case hex of
// the ASN.1 DER ECDSA signature of its SHA-256, made with a fresh random
// nonce. key must be a P-256 key.
func Sign(key *ecdsa.PrivateKey, stringToSign []byte) ([]byte, error) {
	return AppendSign(nil, key, stringToSign)
}

// AppendSign is Sign, appending the signature to b.
func AppendSign(b []byte, key *ecdsa.PrivateKey, stringToSign []byte) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return b, errors.New("v4a: the signing key is not a P-256 key")
	}
	digest := sha256.Sum256(stringToSign)
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return b, err
	}
	return hex.AppendEncode(b, der), nil
}

// Verify reports whether sig is a valid SigV4a signature of stringToSign
// under pub, a P-256 public key.
//
// sig must be lower-case hex of MinSignatureLen to MaxSignatureLen digits
// encoding exactly one DER ECDSA-Sig-Value: no padding, no trailing bytes,
// minimal integers, r and s in [1, n−1]. A padded chunk signature must go
// through TrimChunkSignature first.
func Verify[S string | []byte](pub *ecdsa.PublicKey, stringToSign []byte, sig S) bool {
	if pub == nil || pub.Curve != elliptic.P256() || pub.X == nil || pub.Y == nil {
		return false
	}
	var der [MaxSignatureLen / 2]byte
	n, ok := decodeLowerHex(der[:], sig)
	if !ok {
		return false
	}
	digest := sha256.Sum256(stringToSign)
	// VerifyASN1 parses DER strictly (cryptobyte): one SEQUENCE with nothing
	// after it, holding two minimal, non-negative INTEGERs and nothing else.
	return ecdsa.VerifyASN1(pub, digest[:], der[:n])
}

// decodeLowerHex decodes s into dst, accepting only an even number of
// lower-case hex digits, between MinSignatureLen and MaxSignatureLen of them.
func decodeLowerHex[S string | []byte](dst []byte, s S) (int, bool) {
	if len(s) < MinSignatureLen || len(s) > MaxSignatureLen || len(s)%2 != 0 {
		return 0, false
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := lowerHexDigit(s[i])
		lo, ok2 := lowerHexDigit(s[i+1])
		if !ok1 || !ok2 {
			return 0, false
		}
		dst[i/2] = hi<<4 | lo
	}
	return len(s) / 2, true
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// PadChunkSignature appends sig, a hex signature, padded with '*' to
// ChunkSignatureLen bytes, as aws-c-auth writes chunk and trailer
// signatures. A sig longer than that is appended as it is.
func PadChunkSignature(b, sig []byte) []byte {
	b = append(b, sig...)
	for range ChunkSignatureLen - len(sig) {
		b = append(b, chunkPadding)
	}
	return b
}

// TrimChunkSignature returns the signature inside a padded chunk or trailer
// signature: s must be ChunkSignatureLen bytes, a signature followed by
// '*' padding. It does not check the signature itself (Verify does).
func TrimChunkSignature[S string | []byte](s S) (S, bool) {
	if len(s) != ChunkSignatureLen {
		return s[:0], false
	}
	n := len(s)
	for n > 0 && s[n-1] == chunkPadding {
		n--
	}
	if n == 0 {
		return s[:0], false
	}
	return s[:n], true
}

// coordLen is the length of a P-256 coordinate in hex.
const coordLen = 64

// ParsePublicKey parses a P-256 public key given as the hex of its X and Y
// coordinates, 64 digits each (either case), as in the test suite's
// public-key.json. It fails unless the point is on the curve.
func ParsePublicKey(x, y string) (*ecdsa.PublicKey, error) {
	if len(x) != coordLen || len(y) != coordLen {
		return nil, errors.New("v4a: a public key coordinate is not 64 hex digits")
	}
	var point [1 + coordLen]byte
	point[0] = 4 // SEC 1 uncompressed
	if _, err := hex.Decode(point[1:33], []byte(x)); err != nil {
		return nil, errors.New("v4a: a public key coordinate is not hex")
	}
	if _, err := hex.Decode(point[33:], []byte(y)); err != nil {
		return nil, errors.New("v4a: a public key coordinate is not hex")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point[:])
	if err != nil {
		return nil, errors.New("v4a: the public key is not a point of P-256")
	}
	return pub, nil
}

// PublicKeyHex returns the lower-case hex X and Y coordinates of pub, a
// P-256 public key, 64 digits each, as ParsePublicKey reads them.
func PublicKeyHex(pub *ecdsa.PublicKey) (x, y string, err error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", "", errors.New("v4a: not a P-256 public key")
	}
	point, err := pub.Bytes() // 0x04 || X || Y, each 32 bytes
	if err != nil {
		return "", "", err
	}
	return hex.EncodeToString(point[1:33]), hex.EncodeToString(point[33:]), nil
}
