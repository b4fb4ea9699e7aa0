package chunk

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/sigv4/sigv4/internal/v4a"
)

var (
	fuzzECDSA, _ = v4a.DeriveKey("AKIDFUZZ", "fuzz/secret")
	fuzzKey      = sha256.Sum256([]byte("fuzz key"))
	fuzzSeed     = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

const (
	fuzzChunk = 13
	fuzzDate  = "20130524T000000Z"
	fuzzScope = "20130524/us-east-1/s3/aws4_request"
)

func fuzzData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// fuzzStream encodes data with the Encoder, for seeds. Small chunks keep
// the seeds small, which the fuzzer mutates and minimizes much faster.
func fuzzStream(mode Mode, data []byte, trailer string) []byte {
	cfg := EncoderConfig{Mode: mode, DecodedLength: int64(len(data)), ChunkSize: fuzzChunk, Trailer: trailer}
	switch {
	case mode.ECDSA():
		cfg.Chain = NewECDSAChain(fuzzECDSA, nil, fuzzDate, fuzzScope, fuzzSeed)
	case mode.signed():
		cfg.Chain = NewChain(fuzzKey, fuzzDate, fuzzScope, fuzzSeed)
	}
	out, err := io.ReadAll(NewEncoder(bytes.NewReader(data), cfg))
	if err != nil {
		panic(err)
	}
	return out
}

// FuzzDecoder feeds arbitrary bytes to the decoder of each mode. Whatever
// the bytes: no panic; every error is one of the decoder's codes; and in
// the signed modes, whatever the decoder released is a prefix of the
// signed data, and a stream it accepts is the signed data exactly (the
// fuzzer cannot forge a chunk signature).
func FuzzDecoder(f *testing.F) {
	lengths := []int{0, 1, fuzzChunk, fuzzChunk + 5, 2*fuzzChunk + 1}
	for _, n := range lengths {
		data := fuzzData(n)
		f.Add(uint8(Signed), uint16(n), fuzzStream(Signed, data, ""))
		f.Add(uint8(SignedTrailer), uint16(n), fuzzStream(SignedTrailer, data, ChecksumCRC32C))
		f.Add(uint8(UnsignedTrailer), uint16(n), fuzzStream(UnsignedTrailer, data, ChecksumCRC32C))
		f.Add(uint8(SignedECDSA), uint16(n), fuzzStream(SignedECDSA, data, ""))
		f.Add(uint8(SignedECDSATrailer), uint16(n), fuzzStream(SignedECDSATrailer, data, ChecksumCRC32C))
	}
	f.Add(uint8(UnsignedTrailer), uint16(3), []byte("3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\n\r\n\r\n"))
	f.Fuzz(func(t *testing.T, m uint8, n uint16, wire []byte) {
		mode := Mode(m%5 + 1)
		data := fuzzData(int(n))
		cfg := Config{Mode: mode, DecodedLength: int64(n), MaxChunkSize: 4 * fuzzChunk,
			Err: func(code, msg string) error { return &codeError{code} }}
		if mode.trailer() {
			cfg.Trailers = []string{ChecksumCRC32C}
		}
		switch {
		case mode.ECDSA():
			cfg.Chain = NewECDSAChain(nil, &fuzzECDSA.PublicKey, fuzzDate, fuzzScope, fuzzSeed)
		case mode.signed():
			cfg.Chain = NewChain(fuzzKey, fuzzDate, fuzzScope, fuzzSeed)
		}
		got, err := io.ReadAll(NewDecoder(bytes.NewReader(wire), cfg))
		var ce *codeError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error %v is not a decoder code", err)
		}
		if !mode.signed() {
			return
		}
		if !bytes.HasPrefix(data, got) {
			t.Fatalf("released %d bytes that are not the signed data", len(got))
		}
		if err == nil && len(got) != len(data) {
			t.Fatalf("accepted a stream of %d bytes; %d were signed", len(got), len(data))
		}
	})
}

type codeError struct{ code string }

func (e *codeError) Error() string { return e.code }

// TestDecoderSeedsAccepted keeps the fuzz seeds honest: each valid seed
// stream decodes to its data.
func TestDecoderSeedsAccepted(t *testing.T) {
	for _, mode := range []Mode{Signed, SignedTrailer, UnsignedTrailer, SignedECDSA, SignedECDSATrailer} {
		for _, n := range []int{0, 1, fuzzChunk, 2*fuzzChunk + 1, 3 * MinChunkSize} {
			trailer := ""
			var trailers []string
			if mode.trailer() {
				trailer, trailers = ChecksumCRC32C, []string{ChecksumCRC32C}
			}
			data := fuzzData(n)
			cfg := Config{Mode: mode, DecodedLength: int64(n), Trailers: trailers}
			switch {
			case mode.ECDSA():
				cfg.Chain = NewECDSAChain(nil, &fuzzECDSA.PublicKey, fuzzDate, fuzzScope, fuzzSeed)
			case mode.signed():
				cfg.Chain = NewChain(fuzzKey, fuzzDate, fuzzScope, fuzzSeed)
			}
			got, err := io.ReadAll(NewDecoder(bytes.NewReader(fuzzStream(mode, data, trailer)), cfg))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%v, %d bytes: %v, %d bytes back", mode, n, err, len(got))
			}
		}
	}
}
