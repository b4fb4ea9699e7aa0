package chunk

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"strconv"

	"github.com/sigv4/sigv4/internal/v4a"
)

// MinChunkSize is the smallest chunk Amazon S3 accepts but for the last.
const MinChunkSize = 8 << 10

// EncoderConfig describes the stream an Encoder writes.
type EncoderConfig struct {
	Mode Mode
	// Chain signs the chunks; nil for UnsignedTrailer.
	Chain *Chain
	// DecodedLength is the number of bytes the body must hold.
	DecodedLength int64
	// ChunkSize is the data size of every chunk but the last.
	ChunkSize int
	// Trailer is the checksum sent as a trailer ("" for none; required
	// for UnsignedTrailer).
	Trailer string
}

// Encoder reads a body and returns it as an aws-chunked stream.
type Encoder struct {
	cfg  EncoderConfig
	body io.Reader
	sum  hash.Hash // the trailing checksum, or nil
	buf  []byte    // header room, then a chunk's data and its CRLF
	out  []byte    // encoded bytes not yet returned
	n    int64     // data bytes read so far
	done bool
	err  error
	hash hash.Hash
	dh   [sha256.Size]byte
}

// headerRoom is the largest chunk header: 15 hex digits, the
// chunk-signature extension and CRLF.
const headerRoom = 15 + len(";chunk-signature=") + v4a.ChunkSignatureLen + 2

// NewEncoder returns an encoder of body.
func NewEncoder(body io.Reader, cfg EncoderConfig) *Encoder {
	e := &Encoder{cfg: cfg, body: body, hash: sha256.New()}
	if cfg.Trailer != "" {
		e.sum = NewChecksum(cfg.Trailer)
	}
	size := min(int64(cfg.ChunkSize), max(cfg.DecodedLength, 0))
	e.buf = make([]byte, headerRoom+int(size)+2)
	return e
}

// Read returns the next bytes of the stream.
func (e *Encoder) Read(p []byte) (int, error) {
	for len(e.out) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		e.err = e.fill()
	}
	n := copy(p, e.out)
	e.out = e.out[n:]
	return n, nil
}

// fill encodes the next chunk, or the final chunk and trailers.
func (e *Encoder) fill() error {
	want := min(int64(e.cfg.ChunkSize), e.cfg.DecodedLength-e.n)
	data := e.buf[headerRoom : headerRoom+int(want)]
	n, err := io.ReadFull(e.body, data)
	e.n += int64(n)
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("sigv4/chunked: the body ended after " + strconv.FormatInt(e.n, 10) +
			" bytes; x-amz-decoded-content-length says " + strconv.FormatInt(e.cfg.DecodedLength, 10))
	case err != nil:
		return err
	}
	if n == 0 {
		return e.final()
	}
	data = data[:n]
	if e.sum != nil {
		e.sum.Write(data)
	}
	head, err := e.appendHeader(e.buf[:0:headerRoom], data)
	if err != nil {
		return err
	}
	start := headerRoom - len(head)
	copy(e.buf[start:], head)
	end := headerRoom + n
	e.buf[end], e.buf[end+1] = '\r', '\n'
	e.out = e.buf[start : end+2]
	return nil
}

// appendHeader appends the header line of a chunk holding data.
func (e *Encoder) appendHeader(b, data []byte) ([]byte, error) {
	b = strconv.AppendUint(b, uint64(len(data)), 16)
	if e.cfg.Mode.signed() {
		e.hash.Reset()
		e.hash.Write(data)
		e.hash.Sum(e.dh[:0])
		sig, err := e.cfg.Chain.SignChunk(&e.dh)
		if err != nil {
			return nil, err
		}
		b = append(b, ";chunk-signature="...)
		b = append(b, sig...)
	}
	return append(b, '\r', '\n'), nil
}

// final writes the final chunk and the trailers, once the body has given
// all its bytes; a body longer than announced is an error.
func (e *Encoder) final() error {
	var one [1]byte
	if n, _ := io.ReadFull(e.body, one[:]); n > 0 {
		return errors.New("sigv4/chunked: the body is longer than x-amz-decoded-content-length (" +
			strconv.FormatInt(e.cfg.DecodedLength, 10) + " bytes)")
	}
	b, err := e.appendHeader(e.buf[:0], nil)
	if err != nil {
		return err
	}
	if e.cfg.Mode.trailer() {
		start := len(b)
		if e.sum != nil {
			b = append(b, e.cfg.Trailer...)
			b = append(b, ':')
			b = AppendChecksum(b, e.sum)
			b = append(b, '\n')
		}
		if e.cfg.Mode.signed() {
			h := sha256.Sum256(b[start:]) // "name:value\n": the canonical trailers
			sig, err := e.cfg.Chain.SignTrailer(&h)
			if err != nil {
				return err
			}
			b = append(b, "x-amz-trailer-signature:"...)
			b = append(b, sig...)
			b = append(b, '\n')
		}
		b = crlfLines(b, start)
	}
	e.out = append(b, '\r', '\n')
	e.done = true
	return nil
}

// crlfLines turns the "\n" line ends of b[start:] into "\r\n".
func crlfLines(b []byte, start int) []byte {
	lines := append([]byte(nil), b[start:]...)
	b = b[:start]
	for _, c := range lines {
		if c == '\n' {
			b = append(b, '\r')
		}
		b = append(b, c)
	}
	return b
}

// EncodedLength returns the length of the stream an Encoder writes for
// cfg: the Content-Length of the request.
func EncodedLength(cfg EncoderConfig) int64 {
	ext := 0
	if cfg.Mode.signed() {
		ext = len(";chunk-signature=") + cfg.Mode.signatureLen()
	}
	chunk := func(n int64) int64 {
		return int64(len(strconv.FormatInt(n, 16))+ext+2) + n + 2
	}
	size := int64(cfg.ChunkSize)
	full, rest := cfg.DecodedLength/size, cfg.DecodedLength%size
	total := full * chunk(size)
	if rest > 0 {
		total += chunk(rest)
	}
	total += chunk(0) // "0" ext CRLF, then CRLF (or trailers)
	if cfg.Mode.trailer() {
		if cfg.Trailer != "" {
			total += int64(len(cfg.Trailer) + 1 + checksumLen(cfg.Trailer) + 2)
		}
		if cfg.Mode.signed() {
			total += int64(len("x-amz-trailer-signature:") + cfg.Mode.signatureLen() + 2)
		}
	}
	return total
}
