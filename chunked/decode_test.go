package chunked_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/internal/chunk"
)

var (
	streamCreds = sigv4.Credentials{AccessKeyID: "AKIDSTREAM", SecretAccessKey: "stream/secret+key"}
	streamTime  = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

// spec describes a stream to build by hand, right or wrong on purpose.
type spec struct {
	mode      chunk.Mode
	data      []byte
	sizes     []int  // chunk sizes; they must add up to len(data)
	declared  int64  // x-amz-decoded-content-length (-1: len(data))
	trailer   string // the checksum announced and sent
	checksum  string // its value ("": the right one)
	lineEnd   string // of trailer lines ("": CRLF)
	noFinal   bool   // leave out the final chunk and what follows
	editWire  func([]byte) []byte
	maxChunk  int
	chunkSigs map[int]string // chunk index -> signature to send instead
}

// build signs a request for s and writes its stream, computing the chunk
// signatures with the chain (checked link by link against the S3 examples).
func (s spec) build(t *testing.T) (*http.Request, []int) {
	t.Helper()
	declared := s.declared
	if declared < 0 {
		declared = int64(len(s.data))
	}
	req, err := http.NewRequest("PUT", "https://bucket.s3.amazonaws.com/object", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(declared, 10))
	if s.trailer != "" {
		req.Header.Set("X-Amz-Trailer", s.trailer)
	}
	signer := &sigv4.Signer{Credentials: streamCreds, Region: "us-east-1", Service: "s3", Now: func() time.Time { return streamTime }}
	if err := signer.SignPayload(req, s.mode.String()); err != nil {
		t.Fatal(err)
	}
	_, seed, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	scope := sigv4.Scope{Date: "20261124", Region: "us-east-1", Service: "s3"}
	chain := chunk.NewChain(sigv4.DeriveSigningKey(streamCreds.SecretAccessKey, scope), req.Header.Get("X-Amz-Date"), scope.String(), seed)

	var wire []byte
	var starts []int // offset in the decoded data of each chunk
	off := 0
	line := func(size int, data []byte, i int) {
		wire = strconv.AppendInt(wire, int64(size), 16)
		if s.mode != chunk.UnsignedTrailer {
			h := sha256.Sum256(data)
			raw, err := chain.SignChunk(&h)
			if err != nil {
				t.Fatal(err)
			}
			sig := string(raw)
			if alt, ok := s.chunkSigs[i]; ok {
				sig = alt
			}
			wire = append(wire, ";chunk-signature="+sig...)
		}
		wire = append(wire, "\r\n"...)
	}
	for i, n := range s.sizes {
		starts = append(starts, off)
		line(n, s.data[off:off+n], i)
		wire = append(append(wire, s.data[off:off+n]...), "\r\n"...)
		off += n
	}
	if !s.noFinal {
		line(0, nil, len(s.sizes))
		wire = s.appendTrailers(wire, chain)
	}
	if s.editWire != nil {
		wire = s.editWire(wire)
	}
	req.Body = readCloser{bytes.NewReader(wire)}
	req.ContentLength = int64(len(wire))
	return req, starts
}

func (s spec) appendTrailers(wire []byte, chain *chunk.Chain) []byte {
	if s.mode == chunk.Signed {
		return append(wire, "\r\n"...)
	}
	end := s.lineEnd
	if end == "" {
		end = "\r\n"
	}
	var canonical string
	if s.trailer != "" {
		value := s.checksum
		if value == "" {
			h := chunk.NewChecksum(s.trailer)
			h.Write(s.data)
			value = string(chunk.AppendChecksum(nil, h))
		}
		canonical = s.trailer + ":" + value + "\n"
		wire = append(wire, s.trailer+":"+value+end...)
	}
	if s.mode == chunk.SignedTrailer {
		h := sha256.Sum256([]byte(canonical))
		sig, err := chain.SignTrailer(&h)
		if err != nil {
			panic(err)
		}
		wire = append(wire, "x-amz-trailer-signature:"+string(sig)+"\r\n"...)
	}
	return append(wire, "\r\n"...)
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// outcome verifies the request as a server receives it and reads the body:
// what the handler received, and the code that ended it ("" for a clean
// end).
func (s spec) outcome(t *testing.T, req *http.Request) ([]byte, string) {
	t.Helper()
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(streamCreds), Regions: []string{"us-east-1"}, Services: []string{"s3"},
		Now: func() time.Time { return streamTime }, MaxChunkSize: s.maxChunk}
	res, err := v.Verify(onTheWire(t, req))
	if err != nil {
		return nil, codeOf(err)
	}
	got, err := readAll(res.Body)
	if err != nil {
		return got, codeOf(err)
	}
	return got, ""
}

func codeOf(err error) string {
	if e, ok := err.(*sigv4.Error); ok {
		return e.Code
	}
	return "not an *Error: " + err.Error()
}

func onTheWire(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := http.ReadRequest(bufioReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestDecoderTampering: every signed element and every bound of a stream,
// broken on purpose, is rejected with its AWS code, and the handler never
// receives a byte of the chunk that broke; the untouched stream is accepted.
func TestDecoderTampering(t *testing.T) {
	data := testData(3 * 16 << 10)
	sizes := []int{16 << 10, 16 << 10, 16 << 10}
	const bad = 1 // the chunk broken in the cases that break one
	flip := func(at func([]byte) int) func([]byte) []byte {
		return func(w []byte) []byte { w = bytes.Clone(w); w[at(w)] ^= 1; return w }
	}
	// nthLine returns the offset of the n-th chunk header line.
	nthLine := func(w []byte, n int) int {
		off := 0
		for range n {
			end := bytes.Index(w[off:], []byte("\r\n"))
			size, _ := strconv.ParseInt(strings.SplitN(string(w[off:off+end]), ";", 2)[0], 16, 64)
			off += end + 2 + int(size) + 2
		}
		return off
	}
	sigDigit := func(w []byte) int { return nthLine(w, bad) + len("4000;chunk-signature=") + 5 }
	dataByte := func(w []byte) int {
		return bytes.Index(w[nthLine(w, bad):], []byte("\r\n")) + nthLine(w, bad) + 2 + 100
	}
	trailerValue := func(w []byte) int {
		return bytes.Index(w, []byte("x-amz-checksum-crc32c:")) + len("x-amz-checksum-crc32c:") + 1
	}
	trailerSig := func(w []byte) int {
		return bytes.Index(w, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:") + 3
	}

	signed := spec{mode: chunk.Signed, data: data, sizes: sizes, declared: -1}
	trailer := spec{mode: chunk.SignedTrailer, data: data, sizes: sizes, declared: -1, trailer: "x-amz-checksum-crc32c"}
	unsigned := spec{mode: chunk.UnsignedTrailer, data: data, sizes: sizes, declared: -1, trailer: "x-amz-checksum-crc32c"}
	with := func(s spec, edit func(*spec)) spec { edit(&s); return s }

	for _, tc := range []struct {
		name string
		s    spec
		code string
		// released bounds what the handler may receive: the data before
		// the broken chunk (-1: all of it; -2: all of it, altered).
		released int
	}{
		{"signed, untouched", signed, "", -1},
		{"signed trailer, untouched", trailer, "", -1},
		{"unsigned trailer, untouched", unsigned, "", -1},
		{"unsigned trailer, minio-go line ends", with(unsigned, func(s *spec) { s.lineEnd = "\n\r\n" }), "", -1},
		{"signed trailer, minio-go line ends", with(trailer, func(s *spec) { s.lineEnd = "\n\r\n" }), "", -1},
		{"chunk signature", with(signed, func(s *spec) { s.editWire = flip(sigDigit) }), "SignatureDoesNotMatch", bad * 16 << 10},
		{"first chunk signature", with(signed, func(s *spec) { s.chunkSigs = map[int]string{0: strings.Repeat("0", 64)} }), "SignatureDoesNotMatch", 0},
		{"final chunk signature", with(signed, func(s *spec) { s.chunkSigs = map[int]string{3: strings.Repeat("a", 64)} }), "SignatureDoesNotMatch", -1},
		{"chunk signature in upper case", with(signed, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				w = bytes.Clone(w)
				i := nthLine(w, bad) + len("4000;chunk-signature=")
				copy(w[i:i+64], strings.ToUpper(string(w[i:i+64])))
				return w
			}
		}), "SignatureDoesNotMatch", bad * 16 << 10},
		{"chunk data byte", with(signed, func(s *spec) { s.editWire = flip(dataByte) }), "SignatureDoesNotMatch", bad * 16 << 10},
		{"chunk data byte, signed trailer", with(trailer, func(s *spec) { s.editWire = flip(dataByte) }), "SignatureDoesNotMatch", bad * 16 << 10},
		{"chunk length", with(signed, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				w = bytes.Clone(w)
				i := nthLine(w, bad)
				copy(w[i:], "3fff") // one byte less: the CRLF moves into the data
				return w
			}
		}), "SignatureDoesNotMatch", bad * 16 << 10},
		{"trailer value", with(trailer, func(s *spec) { s.editWire = flip(trailerValue) }), "SignatureDoesNotMatch", -1},
		{"trailer signature", with(trailer, func(s *spec) { s.editWire = flip(trailerSig) }), "SignatureDoesNotMatch", -1},
		{"checksum, signed trailer", with(trailer, func(s *spec) { s.checksum = "AAAAAA==" }), "BadDigest", -1},
		{"checksum, unsigned trailer", with(unsigned, func(s *spec) { s.checksum = "AAAAAA==" }), "BadDigest", -1},
		// Unsigned chunks are released as they arrive: a byte changed in
		// flight reaches the handler, and the end of the body says so.
		{"checksum of other data, unsigned trailer", with(unsigned, func(s *spec) { s.editWire = flip(dataByte) }), "BadDigest", -2},
		{"trailer missing", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				i := bytes.Index(w, []byte("x-amz-checksum"))
				return append(bytes.Clone(w[:i]), "\r\n"...)
			}
		}), "MalformedTrailerError", -1},
		{"trailer signature missing", with(trailer, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				i := bytes.Index(w, []byte("x-amz-trailer-signature"))
				return append(bytes.Clone(w[:i]), "\r\n"...)
			}
		}), "SignatureDoesNotMatch", -1},
		{"trailer not announced", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				return bytes.Replace(w, []byte("x-amz-checksum-crc32c:"), []byte("x-amz-checksum-crc32:"), 1)
			}
		}), "MalformedTrailerError", -1},
		{"final chunk missing", with(signed, func(s *spec) { s.noFinal = true }), "IncompleteBody", -1},
		{"stream truncated in a chunk", with(signed, func(s *spec) {
			s.editWire = func(w []byte) []byte { return w[:nthLine(w, bad)+1000] }
		}), "IncompleteBody", bad * 16 << 10},
		{"stream truncated in the trailers", with(trailer, func(s *spec) {
			s.editWire = func(w []byte) []byte { return w[:len(w)-10] }
		}), "IncompleteBody", -1},
		{"data after the final chunk", with(signed, func(s *spec) {
			s.editWire = func(w []byte) []byte { return append(bytes.Clone(w), "0\r\n"...) }
		}), "InvalidRequest", -1},
		{"over-long line", with(signed, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				i := nthLine(w, bad)
				return append(append(bytes.Clone(w[:i]), "4000;"+strings.Repeat("x", 300)+"\r\n"...), w[i:]...)
			}
		}), "InvalidRequest", bad * 16 << 10},
		{"over-long trailer line", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte {
				return bytes.Replace(w, []byte("x-amz-checksum-crc32c:"), []byte("x-amz-checksum-crc32c:"+strings.Repeat(" ", 2000)), 1)
			}
		}), "InvalidRequest", -1},
		{"over-size signed chunk", with(signed, func(s *spec) { s.maxChunk = 16<<10 - 1 }), "InvalidRequest", 0},
		{"decoded length too small", with(signed, func(s *spec) { s.declared = int64(len(data)) - 1 }), "IncompleteBody", 2 * 16 << 10},
		{"decoded length too large", with(signed, func(s *spec) { s.declared = int64(len(data)) + 1 }), "IncompleteBody", -1},
		{"decoded length too small, unsigned", with(unsigned, func(s *spec) { s.declared = int64(len(data)) - 1 }), "IncompleteBody", 2 * 16 << 10},
		{"decoded length too large, unsigned", with(unsigned, func(s *spec) { s.declared = int64(len(data)) + 1 }), "IncompleteBody", -1},
		{"chunk size not hex", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte { w = bytes.Clone(w); w[0] = 'g'; return w }
		}), "InvalidRequest", 0},
		{"extension on an unsigned chunk", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte { return bytes.Replace(w, []byte("4000\r\n"), []byte("4000;x=y\r\n"), 1) }
		}), "InvalidRequest", 0},
		{"no CRLF after chunk data", with(unsigned, func(s *spec) {
			s.editWire = func(w []byte) []byte { w = bytes.Clone(w); w[nthLine(w, 1)-2] = 'x'; return w }
		}), "InvalidRequest", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, starts := tc.s.build(t)
			got, code := tc.s.outcome(t, req)
			if code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
			limit := len(data)
			if tc.released >= 0 {
				limit = tc.released
			}
			if tc.released == -2 { // altered in flight
				got = data[:len(got)]
			}
			if len(got) > limit || !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("the handler received %d bytes (want at most %d, all of them the data sent)", len(got), limit)
			}
			if tc.code == "" && !bytes.Equal(got, data) {
				t.Errorf("accepted, but the handler received %d bytes, not the %d sent", len(got), len(data))
			}
			_ = starts
		})
	}
}

// TestEncoderDecoderRoundTrip: every mode and checksum, at lengths around
// the chunk size, encodes to the length announced and decodes to the data.
func TestEncoderDecoderRoundTrip(t *testing.T) {
	const size = 8 << 10
	for _, opts := range []struct {
		unsigned bool
		checksum string
	}{{false, ""}, {false, "crc32"}, {false, "CRC32C"}, {false, "crc64nvme"}, {false, "sha1"}, {false, "sha256"},
		{true, ""}, {true, "crc32c"}, {true, "sha256"}} {
		for _, n := range []int{0, 1, size - 1, size, size + 1, 3 * size, 5*size + 17} {
			name := strconv.Itoa(n) + "/" + strconv.FormatBool(opts.unsigned) + "/" + opts.checksum
			t.Run(name, func(t *testing.T) {
				data := testData(n)
				req, err := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/key", bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				signer := &sigv4.Signer{Credentials: streamCreds, Region: "us-east-1", Service: "s3", Now: func() time.Time { return streamTime }}
				if err := chunkedSign(signer, req, opts.unsigned, opts.checksum, size); err != nil {
					t.Fatal(err)
				}
				got, code := spec{}.outcome(t, req)
				if code != "" || !bytes.Equal(got, data) {
					t.Fatalf("code %q, %d of %d bytes back", code, len(got), n)
				}
			})
		}
	}
}

// TestCRC32CFromScratch checks the CRC32C trailer against a checksum
// computed here without the package.
func TestCRC32CFromScratch(t *testing.T) {
	data := testData(100000)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	h := chunk.NewChecksum("x-amz-checksum-crc32c")
	h.Write(data)
	if got, want := string(chunk.AppendChecksum(nil, h)), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

// TestSigV4aStreaming: a SigV4a signer streams ECDSA-signed chunks (and
// trailer), padded as aws-c-auth pads them; Verify decodes them with the
// public key, and a byte changed in the second chunk is refused before
// that chunk reaches the handler.
func TestSigV4aStreaming(t *testing.T) {
	const size = 8 << 10
	data := testData(3*size + 100)
	for _, tc := range []struct {
		unsigned bool
		checksum string
		mode     string
	}{
		{false, "", chunked.SignedECDSAPayload},
		{false, "crc32c", chunked.SignedECDSAPayloadTrailer},
		{true, "", chunked.UnsignedPayloadTrailer},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			sign := func() *http.Request {
				req, err := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/key", bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				signer := &sigv4.Signer{Credentials: streamCreds, Service: "s3", RegionSet: []string{"us-*"}, Now: func() time.Time { return streamTime }}
				if err := chunkedSign(signer, req, tc.unsigned, tc.checksum, size); err != nil {
					t.Fatal(err)
				}
				if got := req.Header.Get("X-Amz-Content-Sha256"); got != tc.mode {
					t.Fatalf("mode %s, want %s", got, tc.mode)
				}
				return req
			}
			got, code := spec{}.outcome(t, sign())
			if code != "" || !bytes.Equal(got, data) {
				t.Fatalf("code %q, %d of %d bytes back", code, len(got), len(data))
			}
			req := sign()
			wire, _ := io.ReadAll(req.Body)
			i := bytes.Index(wire, data[size+10:size+30]) // in the second chunk
			wire[i] ^= 1
			req.Body = readCloser{bytes.NewReader(wire)}
			got, code = spec{}.outcome(t, req)
			want := "SignatureDoesNotMatch"
			if tc.unsigned {
				want = "BadDigest"
			}
			if code != want || !tc.unsigned && len(got) > size {
				t.Fatalf("tampered: code %q with %d bytes released, want %s and at most %d", code, len(got), want, size)
			}
		})
	}
}
