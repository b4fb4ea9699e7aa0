package chunk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/sigv4/sigv4/internal/canonical"
)

// Chain computes and checks the chunk signatures of one stream. Each
// signature signs the previous one, starting from the seed signature of
// the request, so that no chunk can be dropped, reordered or replayed.
type Chain struct {
	mac     hash.Hash
	amzDate string
	scope   string
	prev    []byte // hex signature of the previous link
	sts     []byte
	sum     []byte
}

// NewChain starts the chain of a request signed with key at amzDate in
// scope (date/region/service/aws4_request), whose seed signature is seed.
func NewChain(key [sha256.Size]byte, amzDate, scope, seed string) *Chain {
	return &Chain{
		mac:     hmac.New(sha256.New, key[:]),
		amzDate: amzDate,
		scope:   scope,
		prev:    append(make([]byte, 0, 2*sha256.Size), seed...),
		sts:     make([]byte, 0, 256),
		sum:     make([]byte, 0, sha256.Size),
	}
}

// The algorithms of the chunk and trailer strings to sign.
const (
	algorithmChunk   = canonical.AlgorithmHMAC + "-PAYLOAD"
	algorithmTrailer = canonical.AlgorithmHMAC + "-TRAILER"
)

// chunkStringToSign builds the string to sign of a chunk whose data
// hashes to dataHash.
func (c *Chain) chunkStringToSign(dataHash *[sha256.Size]byte) []byte {
	b := c.head(algorithmChunk)
	b = append(b, canonical.EmptySHA256...)
	b = append(b, '\n')
	c.sts = hex.AppendEncode(b, dataHash[:])
	return c.sts
}

// trailerStringToSign builds the string to sign of the trailers whose
// canonical form ("name:value\n" each) hashes to trailerHash.
func (c *Chain) trailerStringToSign(trailerHash *[sha256.Size]byte) []byte {
	c.sts = hex.AppendEncode(c.head(algorithmTrailer), trailerHash[:])
	return c.sts
}

func (c *Chain) head(algorithm string) []byte {
	b := append(c.sts[:0], algorithm...)
	b = append(b, '\n')
	b = append(b, c.amzDate...)
	b = append(b, '\n')
	b = append(b, c.scope...)
	b = append(b, '\n')
	b = append(b, c.prev...)
	return append(b, '\n')
}

// mac computes the HMAC of sts with the signing key.
func (c *Chain) hmac(sts []byte) []byte {
	c.mac.Reset()
	c.mac.Write(sts)
	c.sum = c.mac.Sum(c.sum[:0])
	return c.sum
}

// SignChunk returns the hex signature of the next chunk, whose data hashes
// to dataHash, and moves the chain on. The result is valid until the next
// call.
func (c *Chain) SignChunk(dataHash *[sha256.Size]byte) []byte {
	return c.advance(c.hmac(c.chunkStringToSign(dataHash)))
}

// SignTrailer is SignChunk for the trailers.
func (c *Chain) SignTrailer(trailerHash *[sha256.Size]byte) []byte {
	return c.advance(c.hmac(c.trailerStringToSign(trailerHash)))
}

func (c *Chain) advance(sum []byte) []byte {
	c.prev = hex.AppendEncode(c.prev[:0], sum)
	return c.prev
}

// VerifyChunk reports whether sig, in hex, is the signature of the next
// chunk, comparing in constant time, and moves the chain on.
func (c *Chain) VerifyChunk(dataHash *[sha256.Size]byte, sig []byte) bool {
	return c.check(c.hmac(c.chunkStringToSign(dataHash)), sig)
}

// VerifyTrailer is VerifyChunk for the trailers.
func (c *Chain) VerifyTrailer(trailerHash *[sha256.Size]byte, sig []byte) bool {
	return c.check(c.hmac(c.trailerStringToSign(trailerHash)), sig)
}

func (c *Chain) check(want, sig []byte) bool {
	var got [sha256.Size]byte
	ok := len(sig) == 2*sha256.Size && lowerHex(sig)
	if ok {
		_, err := hex.Decode(got[:], sig)
		ok = err == nil
	}
	ok = hmac.Equal(got[:], want) && ok
	c.advance(want)
	return ok
}

// StringToSign returns the last string to sign built, for error details.
func (c *Chain) StringToSign() string { return string(c.sts) }
