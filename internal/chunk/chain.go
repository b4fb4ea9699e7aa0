package chunk

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/v4a"
)

// Chain computes and checks the chunk signatures of one stream. Each
// signature signs the previous one, starting from the seed signature of
// the request, so that no chunk can be dropped, reordered or replayed.
//
// A chain is HMAC (SigV4: NewChain) or ECDSA (SigV4a: NewECDSAChain). An
// ECDSA signature is randomized, so the verifier chains from the signature
// it received, once it verified; on the wire an ECDSA signature is padded
// with '*' to v4a.ChunkSignatureLen bytes.
type Chain struct {
	mac       hash.Hash         // HMAC
	priv      *ecdsa.PrivateKey // ECDSA, signing
	pub       *ecdsa.PublicKey  // ECDSA, verifying
	algorithm string
	amzDate   string
	scope     string
	prev      []byte // hex signature of the previous link, unpadded
	sts       []byte
	sum       []byte
	wire      []byte // the last signature as sent
}

// NewChain starts the chain of a request signed with key at amzDate in
// scope (date/region/service/aws4_request), whose seed signature is seed.
func NewChain(key [sha256.Size]byte, amzDate, scope, seed string) *Chain {
	c := newChain(canonical.AlgorithmHMAC, amzDate, scope, seed)
	c.mac = hmac.New(sha256.New, key[:])
	return c
}

// NewECDSAChain starts the chain of a SigV4a request: priv signs (nil to
// verify only), pub verifies (nil to sign only). scope has no region.
func NewECDSAChain(priv *ecdsa.PrivateKey, pub *ecdsa.PublicKey, amzDate, scope, seed string) *Chain {
	c := newChain(canonical.AlgorithmECDSA, amzDate, scope, seed)
	c.priv, c.pub = priv, pub
	return c
}

func newChain(algorithm, amzDate, scope, seed string) *Chain {
	return &Chain{
		algorithm: algorithm,
		amzDate:   amzDate,
		scope:     scope,
		prev:      append(make([]byte, 0, v4a.MaxSignatureLen), seed...),
		sts:       make([]byte, 0, 256),
		sum:       make([]byte, 0, sha256.Size),
		wire:      make([]byte, 0, v4a.ChunkSignatureLen),
	}
}

// ecdsa reports whether the chain is SigV4a's.
func (c *Chain) ecdsa() bool { return c.mac == nil }

// chunkStringToSign builds the string to sign of a chunk whose data
// hashes to dataHash.
func (c *Chain) chunkStringToSign(dataHash *[sha256.Size]byte) []byte {
	b := c.head("-PAYLOAD")
	b = append(b, canonical.EmptySHA256...)
	b = append(b, '\n')
	c.sts = canonical.AppendHex(b, dataHash[:])
	return c.sts
}

// trailerStringToSign builds the string to sign of the trailers whose
// canonical form ("name:value\n" each) hashes to trailerHash.
func (c *Chain) trailerStringToSign(trailerHash *[sha256.Size]byte) []byte {
	c.sts = canonical.AppendHex(c.head("-TRAILER"), trailerHash[:])
	return c.sts
}

func (c *Chain) head(kind string) []byte {
	b := append(c.sts[:0], c.algorithm...)
	b = append(b, kind...)
	b = append(b, '\n')
	b = append(b, c.amzDate...)
	b = append(b, '\n')
	b = append(b, c.scope...)
	b = append(b, '\n')
	b = append(b, c.prev...)
	return append(b, '\n')
}

// hmac computes the HMAC of sts with the signing key.
func (c *Chain) hmac(sts []byte) []byte {
	c.mac.Reset()
	c.mac.Write(sts)
	c.sum = c.mac.Sum(c.sum[:0])
	return c.sum
}

// SignChunk returns the signature of the next chunk, whose data hashes to
// dataHash, as it goes on the wire, and moves the chain on. The result is
// valid until the next call.
func (c *Chain) SignChunk(dataHash *[sha256.Size]byte) ([]byte, error) {
	return c.sign(c.chunkStringToSign(dataHash))
}

// SignTrailer is SignChunk for the trailers.
func (c *Chain) SignTrailer(trailerHash *[sha256.Size]byte) ([]byte, error) {
	return c.sign(c.trailerStringToSign(trailerHash))
}

func (c *Chain) sign(sts []byte) ([]byte, error) {
	if !c.ecdsa() {
		c.prev = canonical.AppendHex(c.prev[:0], c.hmac(sts))
		return c.prev, nil
	}
	sig, err := v4a.AppendSign(c.prev[:0], c.priv, sts)
	if err != nil {
		return nil, err
	}
	c.prev = sig
	c.wire = v4a.PadChunkSignature(c.wire[:0], sig)
	return c.wire, nil
}

// VerifyChunk reports whether sig, as it came on the wire, is the
// signature of the next chunk, and moves the chain on. HMAC signatures
// are compared in constant time.
func (c *Chain) VerifyChunk(dataHash *[sha256.Size]byte, sig []byte) bool {
	return c.check(c.chunkStringToSign(dataHash), sig)
}

// VerifyTrailer is VerifyChunk for the trailers.
func (c *Chain) VerifyTrailer(trailerHash *[sha256.Size]byte, sig []byte) bool {
	return c.check(c.trailerStringToSign(trailerHash), sig)
}

func (c *Chain) check(sts, sig []byte) bool {
	if c.ecdsa() {
		inner, ok := v4a.TrimChunkSignature(sig)
		ok = ok && v4a.Verify(c.pub, sts, inner)
		if ok {
			c.prev = append(c.prev[:0], inner...)
		} else {
			c.prev = append(c.prev[:0], "invalid"...) // nothing after a bad link verifies
		}
		return ok
	}
	want := c.hmac(sts)
	var got [sha256.Size]byte
	ok := len(sig) == 2*sha256.Size && lowerHex(sig)
	if ok {
		_, err := hex.Decode(got[:], sig)
		ok = err == nil
	}
	ok = hmac.Equal(got[:], want) && ok
	c.prev = canonical.AppendHex(c.prev[:0], want)
	return ok
}

// StringToSign returns the last string to sign built, for error details.
func (c *Chain) StringToSign() string { return string(c.sts) }
