package bench

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"

	miniosigner "github.com/minio/minio-go/v7/pkg/signer"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/internal/chunk"
)

// Streaming (aws-chunked) benchmarks: the decoder behind Verifier.Verify,
// the encoder behind chunked.Sign and minio-go's streaming signer, against
// the hashing they cannot avoid, on a 64 MiB object in 64 KiB chunks.
//
//	go test -run '^$' -bench 'Chunked' -benchmem -cpu 1 -count 3 ./bench/
//
// ChunkedDecode and ChunkedEncode process the whole object per op (MB/s is
// of decoded data); ChunkedPerChunk processes one 64 KiB chunk per op, so
// that allocs/op is the steady-state allocation count per chunk (and
// allocs/chunk the same count unrounded). Each mode has three hashing
// floors; see hashFloor. Note that `go test -bench .` (bench/run.sh) now
// runs these too: about 110 s per -count at -cpu 1.
// TestChunkedStreamMemory (below) checks that memory does not grow with
// the stream: its 1 GiB case runs only with SIGV4_STREAM_1GIB=1.

const (
	streamSize  = 64 << 20
	streamChunk = chunked.DefaultChunkSize // 64 KiB, as minio-go sends
	streamURL   = "https://examplebucket.s3.amazonaws.com/uploads/stream.bin"
)

// streamData is n bytes of deterministic noise (xorshift64).
func streamData(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// patternReader endlessly repeats p, with no allocation: the body of a
// stream generated lazily.
type patternReader struct {
	p   []byte
	off int
}

func (r *patternReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], r.p[r.off:])
		n += c
		r.off = (r.off + c) % len(r.p)
	}
	return n, nil
}

// streamSigner is the S3 signer with its clock fixed to fixedTime, as the
// verifier's (newVerifier(fixedNow)).
func streamSigner() *sigv4.Signer {
	s := ourS3Signer()
	s.Now = fixedNow
	return s
}

// newUploadRequest is a PutObject of n bytes read from body.
func newUploadRequest(tb testing.TB, body io.Reader, n int64) *http.Request {
	req, err := http.NewRequest(http.MethodPut, streamURL, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	return req
}

// signedUpload is newUploadRequest signed by chunked.Sign: its Body is
// the encoder.
func signedUpload(tb testing.TB, s *sigv4.Signer, body io.Reader, n int64, opts chunked.Options) *http.Request {
	req := newUploadRequest(tb, body, n)
	if err := chunked.Sign(s, req, opts); err != nil {
		tb.Fatal(err)
	}
	return req
}

// minioHasher is the md5simd.Hasher minio-go hands its streaming signer
// (minio-go's newSHA256Hasher: a sha256.New in a wrapper).
type minioHasher struct{ hash.Hash }

func (minioHasher) Close() {}

func minioUpload(tb testing.TB, body io.Reader, n int64) *http.Request {
	req := newUploadRequest(tb, body, n)
	return miniosigner.StreamingSignV4(req, accessKeyID, secretAccessKey, "", region, n, fixedTime, minioHasher{sha256.New()})
}

// streamFixture is a signed stream captured off the wire and the server
// request that carries it, its body rewound before each Verify.
type streamFixture struct {
	data   []byte // the decoded object
	wire   []byte // the aws-chunked body
	client *http.Request
	req    *http.Request // server side
	body   *rewindBody
	v      *sigv4.Verifier
}

func newStreamFixture(tb testing.TB, data []byte, sign func(body io.Reader, n int64) *http.Request) *streamFixture {
	tb.Helper()
	creq := sign(bytes.NewReader(data), int64(len(data)))
	wire, err := io.ReadAll(creq.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(len(wire)) != creq.ContentLength {
		tb.Fatalf("stream of %d bytes, Content-Length %d", len(wire), creq.ContentLength)
	}
	f := &streamFixture{data: data, wire: wire, client: creq, body: new(rewindBody), v: newVerifier(fixedNow)}
	f.req = serverRequest(tb, creq, wire)
	return f
}

func oursSigned(tb testing.TB, opts chunked.Options) func(io.Reader, int64) *http.Request {
	s := streamSigner()
	return func(body io.Reader, n int64) *http.Request { return signedUpload(tb, s, body, n, opts) }
}

// verify rewinds the wire and verifies the request: Result.Body is the
// decoder.
func (f *streamFixture) verify() (io.ReadCloser, error) {
	f.body.Reset(f.wire)
	f.req.Body = f.body
	res, err := f.v.Verify(f.req)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// decode is one op of the Verify benchmarks: Verify, then read the
// decoded body to its end, as a handler copying it somewhere.
func (f *streamFixture) decode() error {
	body, err := f.verify()
	if err != nil {
		return err
	}
	return copyAll(body, int64(len(f.data)))
}

func copyAll(r io.Reader, want int64) error {
	n, err := io.Copy(io.Discard, r)
	if err == nil && n != want {
		err = fmt.Errorf("read %d bytes, want %d", n, want)
	}
	return err
}

// decoderOnly is decode without Verify: chunk.NewDecoder over the wire,
// with the chain seeded as Verify would.
func (f *streamFixture) decoderOnly(tb testing.TB, cfg chunk.Config) func() error {
	amzDate := f.client.Header.Get(sigv4.HeaderDate)
	scope := sigv4.Scope{Date: amzDate[:8], Region: region, Service: "s3"}
	key := sigv4.DeriveSigningKey(secretAccessKey, scope)
	_, seed, ok := strings.Cut(f.client.Header.Get(sigv4.HeaderAuthorization), "Signature=")
	if !ok {
		tb.Fatal("no seed signature")
	}
	cfg.DecodedLength = int64(len(f.data))
	rd := bytes.NewReader(f.wire)
	return func() error {
		rd.Reset(f.wire)
		c := cfg
		if c.Mode != chunk.UnsignedTrailer {
			c.Chain = chunk.NewChain([sha256.Size]byte(key), amzDate, scope.String(), seed)
		}
		return copyAll(chunk.NewDecoder(rd, c), c.DecodedLength)
	}
}

// hashFloor is the least any decoder or encoder of the stream must do:
// hash the data, in 64 KiB writes (h is SHA-256 for the signed modes, the
// trailing checksum for the unsigned one). Three variants:
//
//   - inPlace hashes the 64 MiB object where it lies, as the brief's floor
//     says. On this machine (a VM) that is bound by memory latency: the
//     hash reads straight from DRAM with little prefetch, and comes out
//     slower than the next one, which does more work;
//   - copied copies each 64 KiB into a buffer, then hashes it there: what
//     a reader of an io.Reader does at the least (the decoder and the
//     encoder copy the chunk into their buffer, then hash it);
//   - cached hashes one 64 KiB buffer, already in cache, as many times:
//     the hash function's own speed, no memory traffic at all.
func hashFloor(b *testing.B, data []byte, h hash.Hash, variant string) {
	b.SetBytes(int64(len(data)))
	var sum [sha256.Size]byte
	buf := make([]byte, streamChunk)
	run(b, func() error {
		h.Reset()
		for off := 0; off < len(data); off += streamChunk {
			p := data[off:min(off+streamChunk, len(data))]
			switch variant {
			case "copied":
				p = buf[:copy(buf, p)]
			case "cached":
				p = buf[:len(p)]
			}
			h.Write(p)
		}
		h.Sum(sum[:0])
		return nil
	})
}

// hashFloors runs the three variants of hashFloor as name, name-copied
// and name-cached.
func hashFloors(b *testing.B, data []byte, name string, h func() hash.Hash) {
	b.Run(name, func(b *testing.B) { hashFloor(b, data, h(), "inPlace") })
	b.Run(name+"-copied", func(b *testing.B) { hashFloor(b, data, h(), "copied") })
	b.Run(name+"-cached", func(b *testing.B) { hashFloor(b, data, h(), "cached") })
}

func BenchmarkChunkedDecode(b *testing.B) {
	data := streamData(streamSize)
	hashFloors(b, data, "Signed/floor-sha256", sha256.New)
	b.Run("Signed/sigv4-Verify", func(b *testing.B) {
		f := newStreamFixture(b, data, oursSigned(b, chunked.Options{}))
		b.SetBytes(int64(len(data)))
		run(b, f.decode)
	})
	b.Run("Signed/chunk.Decoder", func(b *testing.B) {
		f := newStreamFixture(b, data, oursSigned(b, chunked.Options{}))
		b.SetBytes(int64(len(data)))
		run(b, f.decoderOnly(b, chunk.Config{Mode: chunk.Signed}))
	})
	// minio-go's stream, decoded by Verify: the same bytes but for the
	// signatures, so the same work.
	b.Run("Signed/sigv4-Verify-minio-stream", func(b *testing.B) {
		f := newStreamFixture(b, data, func(body io.Reader, n int64) *http.Request { return minioUpload(b, body, n) })
		b.SetBytes(int64(len(data)))
		run(b, f.decode)
	})
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	hashFloors(b, data, "UnsignedTrailer/floor-crc32c", func() hash.Hash { return crc32.New(castagnoli) })
	hashFloors(b, data, "UnsignedTrailer/floor-crc32", func() hash.Hash { return crc32.NewIEEE() })
	hashFloors(b, data, "UnsignedTrailer/floor-crc64nvme", func() hash.Hash { return chunk.NewChecksum(chunk.ChecksumCRC64NVME) })
	for _, sum := range []string{"CRC32C", "CRC32", "CRC64NVME"} {
		b.Run("UnsignedTrailer/sigv4-Verify-"+sum, func(b *testing.B) {
			f := newStreamFixture(b, data, oursSigned(b, chunked.Options{Unsigned: true, Checksum: sum}))
			b.SetBytes(int64(len(data)))
			run(b, f.decode)
		})
	}
}

func BenchmarkChunkedEncode(b *testing.B) {
	data := streamData(streamSize)
	n := int64(len(data))
	hashFloors(b, data, "Signed/floor-sha256", sha256.New)
	// Each op signs a fresh request (a few µs) and reads its whole body.
	b.Run("Signed/sigv4", func(b *testing.B) {
		s, body := streamSigner(), new(rewindBody)
		b.SetBytes(n)
		run(b, func() error {
			body.Reset(data)
			req := signedUpload(b, s, body, n, chunked.Options{})
			return copyAll(req.Body, req.ContentLength)
		})
	})
	b.Run("Signed/minio", func(b *testing.B) {
		body := new(rewindBody)
		b.SetBytes(n)
		run(b, func() error {
			body.Reset(data)
			req := minioUpload(b, body, n)
			return copyAll(req.Body, req.ContentLength)
		})
	})
	b.Run("UnsignedTrailer-CRC32C/sigv4", func(b *testing.B) {
		s, body := streamSigner(), new(rewindBody)
		b.SetBytes(n)
		run(b, func() error {
			body.Reset(data)
			req := signedUpload(b, s, body, n, chunked.Options{Unsigned: true, Checksum: "CRC32C"})
			return copyAll(req.Body, req.ContentLength)
		})
	})
}

// mallocCounter counts the heap allocations of the timed part of a
// benchmark that pauses its timer, exactly (testing's allocs/op is
// rounded down to an integer).
type mallocCounter struct {
	ms     runtime.MemStats
	start  uint64
	paused uint64
}

func (c *mallocCounter) mallocs() uint64 { runtime.ReadMemStats(&c.ms); return c.ms.Mallocs }
func (c *mallocCounter) begin(b *testing.B) {
	b.ResetTimer() // allocates b's metrics map now, not in b.Loop
	c.start = c.mallocs()
}
func (c *mallocCounter) pause(b *testing.B, f func()) {
	b.StopTimer()
	m := c.mallocs()
	f()
	c.paused += c.mallocs() - m
	b.StartTimer()
}
func (c *mallocCounter) report(b *testing.B) {
	b.ReportMetric(float64(c.mallocs()-c.start-c.paused)/float64(b.N), "allocs/chunk")
}

// decodePerChunk reads one 64 KiB chunk of decoded data per op. When a
// stream runs out, with the timer stopped, its end is read (the final
// chunk and trailers are checked), the next stream is verified and its
// first chunk read (the decoder's buffers are allocated then): only
// chunks of a stream in its steady state are timed.
func decodePerChunk(b *testing.B, f *streamFixture) {
	b.ReportAllocs()
	b.SetBytes(streamChunk)
	buf := make([]byte, streamChunk)
	var body io.ReadCloser
	left := 0
	start := func() {
		if body != nil {
			if n, err := body.Read(buf); n != 0 || err != io.EOF {
				b.Fatalf("end of stream: %d, %v", n, err)
			}
		}
		var err error
		if body, err = f.verify(); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(body, buf); err != nil {
			b.Fatal(err)
		}
		left = len(f.data)/streamChunk - 1
	}
	start()
	var c mallocCounter
	c.begin(b)
	for b.Loop() {
		if left == 0 {
			c.pause(b, start)
		}
		if _, err := io.ReadFull(body, buf); err != nil {
			b.Fatal(err)
		}
		left--
	}
	c.report(b)
}

// encodePerChunk reads one encoded chunk per op from the encoder of an
// endless (1 TiB) upload.
// Each chunk is its header line (prefix, then headerLen bytes in all),
// the data and CRLF.
func encodePerChunk(b *testing.B, body io.Reader, prefix string, headerLen int) {
	b.ReportAllocs()
	b.SetBytes(streamChunk)
	size := headerLen + streamChunk + 2
	buf := make([]byte, size)
	for range 2 { // warm: the first chunk, and the signer's buffers
		if _, err := io.ReadFull(body, buf); err != nil {
			b.Fatal(err)
		}
	}
	var c mallocCounter
	c.begin(b)
	for b.Loop() {
		if _, err := io.ReadFull(body, buf); err != nil {
			b.Fatal(err)
		}
	}
	c.report(b)
	if !bytes.HasPrefix(buf, []byte(prefix)) || string(buf[headerLen-2:headerLen]) != "\r\n" || string(buf[size-2:]) != "\r\n" {
		b.Fatalf("not a chunk: %q...%q", buf[:headerLen], buf[size-2:])
	}
}

const endless = 1 << 40

func BenchmarkChunkedPerChunk(b *testing.B) {
	data := streamData(streamSize)
	b.Run("Decode-Signed/sigv4", func(b *testing.B) {
		decodePerChunk(b, newStreamFixture(b, data, oursSigned(b, chunked.Options{})))
	})
	b.Run("Decode-UnsignedTrailer-CRC32C/sigv4", func(b *testing.B) {
		decodePerChunk(b, newStreamFixture(b, data, oursSigned(b, chunked.Options{Unsigned: true, Checksum: "CRC32C"})))
	})
	// "10000;chunk-signature=<64 hex>\r\n", and "10000\r\n" unsigned.
	const signedPrefix = "10000;chunk-signature="
	signedLen := len(signedPrefix) + 2*sha256.Size + 2
	b.Run("Encode-Signed/sigv4", func(b *testing.B) {
		req := signedUpload(b, streamSigner(), &patternReader{p: data[:1<<20]}, endless, chunked.Options{})
		encodePerChunk(b, req.Body, signedPrefix, signedLen)
	})
	b.Run("Encode-Signed/minio", func(b *testing.B) {
		req := minioUpload(b, &patternReader{p: data[:1<<20]}, endless)
		encodePerChunk(b, req.Body, signedPrefix, signedLen)
	})
	b.Run("Encode-UnsignedTrailer-CRC32C/sigv4", func(b *testing.B) {
		req := signedUpload(b, streamSigner(), &patternReader{p: data[:1<<20]}, endless, chunked.Options{Unsigned: true, Checksum: "CRC32C"})
		encodePerChunk(b, req.Body, "10000\r\n", len("10000\r\n"))
	})
}

// TestChunkedBenchStreams checks that every stream the benchmarks decode or
// encode, ours and minio-go's, verifies and decodes to the object, so that
// they compare the same work.
func TestChunkedBenchStreams(t *testing.T) {
	data := streamData(3*streamChunk + 1000)
	cases := map[string]func(io.Reader, int64) *http.Request{
		"Signed/sigv4":                 oursSigned(t, chunked.Options{}),
		"Signed/minio":                 func(body io.Reader, n int64) *http.Request { return minioUpload(t, body, n) },
		"UnsignedTrailer-CRC32C/sigv4": oursSigned(t, chunked.Options{Unsigned: true, Checksum: "CRC32C"}),
		"UnsignedTrailer-CRC32/sigv4":  oursSigned(t, chunked.Options{Unsigned: true, Checksum: "CRC32"}),
		"UnsignedTrailer-CRC64/sigv4":  oursSigned(t, chunked.Options{Unsigned: true, Checksum: "CRC64NVME"}),
	}
	for name, sign := range cases {
		t.Run(name, func(t *testing.T) {
			f := newStreamFixture(t, data, sign)
			for range 2 { // the rewind works
				body, err := f.verify()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(body)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("decoded %d bytes (want %d), %v", len(got), len(data), err)
				}
			}
			mode := chunk.Signed
			if strings.HasPrefix(name, "Unsigned") {
				mode = chunk.UnsignedTrailer
			}
			cfg := chunk.Config{Mode: mode, Trailers: []string{strings.ToLower(f.client.Header.Get(sigv4.HeaderTrailer))}}
			if mode == chunk.Signed {
				cfg.Trailers = nil
			}
			if err := f.decoderOnly(t, cfg)(); err != nil {
				t.Fatal(err)
			}
			// A flipped data byte fails.
			f.wire = bytes.Clone(f.wire)
			f.wire[len(f.wire)/2] ^= 1
			body, err := f.verify()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, body); err == nil {
				t.Fatal("a corrupted stream decoded")
			}
		})
	}
}

// streamMem is what the heap did while a stream was decoded.
type streamMem struct {
	size            int64
	peakHeapInuse   uint64 // the largest HeapInuse sampled, less the one before
	peakHeapAlloc   uint64 // likewise for HeapAlloc
	totalAlloc      uint64 // bytes allocated from start to end
	mallocs, frees  uint64
	numGC, samples  uint32
	heapInuseBefore uint64
}

// memSampler is the handler's sink: it samples the heap every 8 MiB.
type memSampler struct {
	n, next int64
	ms      runtime.MemStats
	peak    streamMem
}

func (s *memSampler) sample() {
	runtime.ReadMemStats(&s.ms)
	s.peak.peakHeapInuse = max(s.peak.peakHeapInuse, s.ms.HeapInuse)
	s.peak.peakHeapAlloc = max(s.peak.peakHeapAlloc, s.ms.HeapAlloc)
	s.peak.samples++
}

func (s *memSampler) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.n >= s.next {
		s.sample()
		s.next += 8 << 20
	}
	return len(p), nil
}

// decodeLazyStream uploads size bytes through a real HTTP/1.1 exchange
// over an io.Pipe: the client writes the request, whose body is the
// encoder of chunked.Sign over an endless pattern; the server side parses
// it with http.ReadRequest, verifies it and reads Result.Body to its end.
// Nothing holds more than a chunk: the stream exists only as it passes.
func decodeLazyStream(t *testing.T, size int64) streamMem {
	t.Helper()
	pattern := streamData(1 << 20)
	creq := signedUpload(t, streamSigner(), io.LimitReader(&patternReader{p: pattern}, size), size, chunked.Options{})
	v := newVerifier(fixedNow)
	pr, pw := io.Pipe()
	defer pr.Close()

	runtime.GC()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	go func() { pw.CloseWithError(creq.Write(pw)) }()
	sreq, err := http.ReadRequest(bufio.NewReader(pr))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(sreq)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSampler{}
	n, err := io.Copy(sink, res.Body)
	if err != nil || n != size {
		t.Fatalf("decoded %d bytes of %d: %v", n, size, err)
	}
	sink.sample()
	after := sink.ms
	m := sink.peak
	m.size = size
	m.heapInuseBefore = before.HeapInuse
	m.peakHeapInuse -= min(m.peakHeapInuse, before.HeapInuse)
	m.peakHeapAlloc -= min(m.peakHeapAlloc, before.HeapAlloc)
	m.totalAlloc = after.TotalAlloc - before.TotalAlloc
	m.mallocs, m.frees = after.Mallocs-before.Mallocs, after.Frees-before.Frees
	m.numGC = after.NumGC - before.NumGC
	return m
}

// TestChunkedStreamMemory decodes a signed stream generated on the fly and
// reports the heap it took: it must not grow with the stream. The 64 MiB
// case runs with the other tests (skipped under -short); the 1 GiB case,
// compared with it, only on request:
//
//	SIGV4_STREAM_1GIB=1 go test -run '^TestChunkedStreamMemory$' -v ./bench/
func TestChunkedStreamMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: streams 64 MiB")
	}
	sizes := []int64{64 << 20}
	if os.Getenv("SIGV4_STREAM_1GIB") != "" {
		sizes = append(sizes, 1<<30)
	}
	decodeLazyStream(t, 4<<20) // warm: pools, the verifier's key cache
	var got []streamMem
	for _, size := range sizes {
		m := decodeLazyStream(t, size)
		t.Logf("%5d MiB: peak heap in use +%d KiB, peak heap alloc +%d KiB (before: %d KiB in use), allocated %d KiB in %d objects (%d freed), %d GCs, %d samples",
			size>>20, m.peakHeapInuse>>10, m.peakHeapAlloc>>10, m.heapInuseBefore>>10, m.totalAlloc>>10, m.mallocs, m.frees, m.numGC, m.samples)
		got = append(got, m)
	}
	if len(got) < 2 {
		t.Log("set SIGV4_STREAM_1GIB=1 to compare with a 1 GiB stream")
		return
	}
	small, big := got[0], got[1]
	// Allowances for the runtime's own noise (a GC cycle, a span).
	if big.peakHeapInuse > small.peakHeapInuse+1<<20 || big.peakHeapAlloc > small.peakHeapAlloc+1<<20 {
		t.Errorf("peak heap grows with the stream: %d KiB at 64 MiB, %d KiB at 1 GiB", small.peakHeapInuse>>10, big.peakHeapInuse>>10)
	}
	if big.totalAlloc > small.totalAlloc+256<<10 {
		t.Errorf("allocation grows with the stream: %d KiB at 64 MiB, %d KiB at 1 GiB", small.totalAlloc>>10, big.totalAlloc>>10)
	}
}
