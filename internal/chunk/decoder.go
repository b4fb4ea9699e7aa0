package chunk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"github.com/sigv4/sigv4/internal/canonical"
	"hash"
	"io"
	"strconv"
)

// Error codes of the decoder, as Amazon S3 names them.
const (
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeIncompleteBody        = "IncompleteBody"
	CodeBadDigest             = "BadDigest"
	CodeMalformedTrailer      = "MalformedTrailerError"
	CodeInvalidRequest        = "InvalidRequest"
)

// Config describes the stream a Decoder reads.
type Config struct {
	Mode Mode
	// Chain checks the chunk signatures; nil for UnsignedTrailer.
	Chain *Chain
	// DecodedLength is x-amz-decoded-content-length: the stream must hold
	// exactly this many bytes of data.
	DecodedLength int64
	// Trailers are the names announced by x-amz-trailer, in lower case:
	// each must be a checksum (see NewChecksum) and must arrive.
	Trailers []string
	// MaxChunkSize bounds a signed chunk (default DefaultMaxChunkSize).
	MaxChunkSize int
	// Err makes the errors the decoder returns, from an AWS error code
	// and a message.
	Err func(code, message string) error
}

// Decoder reads an aws-chunked stream and returns its data. A signed
// chunk's data is returned only after its signature matched; the end of
// the stream (io.EOF) is returned only after the final chunk, the trailers,
// their signature, the decoded length and the checksums all checked out.
// Any failure is sticky.
type Decoder struct {
	cfg   Config
	r     *bufio.Reader
	sums  []hash.Hash // one per announced trailer
	chunk []byte      // a signed chunk being read
	data  []byte      // verified data not yet returned
	left  int64       // bytes left in the current unsigned chunk
	n     int64       // data bytes accepted so far
	crlf  bool        // a CRLF ends the data just read
	err   error
	hash  hash.Hash
	sum   [sha256.Size]byte
}

// NewDecoder returns a decoder of the stream r. The trailers announced
// must already be known to be checksums.
func NewDecoder(r io.Reader, cfg Config) *Decoder {
	if cfg.MaxChunkSize <= 0 {
		cfg.MaxChunkSize = DefaultMaxChunkSize
	}
	d := &Decoder{cfg: cfg, r: bufio.NewReaderSize(r, 4096), hash: sha256.New()}
	for _, name := range cfg.Trailers {
		d.sums = append(d.sums, NewChecksum(name))
	}
	return d
}

// Read returns verified data.
func (d *Decoder) Read(p []byte) (int, error) {
	for len(p) > 0 {
		switch {
		case d.err != nil:
			return 0, d.err
		case len(d.data) > 0:
			n := copy(p, d.data)
			d.data = d.data[n:]
			return n, nil
		case d.left > 0:
			return d.readUnsigned(p)
		}
		d.err = d.next()
	}
	return 0, nil
}

// readUnsigned returns data of an unsigned chunk as it arrives.
func (d *Decoder) readUnsigned(p []byte) (int, error) {
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= int64(n)
	d.n += int64(n)
	d.addToChecksums(p[:n])
	if err != nil && d.left > 0 {
		d.err = d.readError(err)
		return n, d.err
	}
	return n, nil
}

func (d *Decoder) addToChecksums(b []byte) {
	for _, h := range d.sums {
		h.Write(b)
	}
}

// next reads the next chunk header and, for a signed chunk, its data.
func (d *Decoder) next() error {
	if d.crlf {
		if err := d.expectCRLF("after the chunk data"); err != nil {
			return err
		}
		d.crlf = false
	}
	size, sig, err := d.readChunkHeader()
	if err != nil {
		return err
	}
	if size == 0 {
		return d.finish(sig)
	}
	if size > d.cfg.DecodedLength-d.n {
		return d.fail(CodeIncompleteBody, "The chunks hold more data than x-amz-decoded-content-length says.")
	}
	d.crlf = true
	if !d.cfg.Mode.signed() {
		d.left = size
		return nil
	}
	if size > int64(d.cfg.MaxChunkSize) {
		return d.fail(CodeInvalidRequest, "A signed chunk of "+strconv.FormatInt(size, 10)+
			" bytes is larger than the "+strconv.Itoa(d.cfg.MaxChunkSize)+" bytes accepted.")
	}
	return d.readSigned(int(size), sig)
}

// readSigned reads a signed chunk whole and checks its signature before
// releasing it. The buffer grows with the bytes that arrive, not with the
// size the client claims.
func (d *Decoder) readSigned(size int, sig []byte) error {
	var sigBuf [MaxChunkLine]byte
	sig = append(sigBuf[:0], sig...) // the line buffer is reused below
	b := d.chunk[:0]
	for len(b) < size {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(size, 2*cap(b)+64<<10))
			copy(grown, b)
			b = grown
		}
		n, err := d.r.Read(b[len(b):min(cap(b), size)])
		b = b[:len(b)+n]
		if err != nil && len(b) < size {
			d.chunk = b
			return d.readError(err)
		}
	}
	d.chunk = b
	d.hash.Reset()
	d.hash.Write(b)
	d.hash.Sum(d.sum[:0])
	if !d.cfg.Chain.VerifyChunk(&d.sum, sig) {
		return d.fail(CodeSignatureDoesNotMatch, "The chunk signature we calculated does not match the signature you provided.")
	}
	d.n += int64(size)
	d.addToChecksums(b)
	d.data = b
	return nil
}

// readChunkHeader reads "size[;chunk-signature=sig]\r\n".
func (d *Decoder) readChunkHeader() (int64, []byte, error) {
	line, err := d.readLine(MaxChunkLine, false)
	if err != nil {
		return 0, nil, err
	}
	sizeHex, ext, hasExt := bytes.Cut(line, []byte{';'})
	size, ok := parseSize(sizeHex)
	if !ok {
		return 0, nil, d.fail(CodeInvalidRequest, "A chunk size is not a hexadecimal number.")
	}
	if !d.cfg.Mode.signed() {
		if hasExt {
			return 0, nil, d.fail(CodeInvalidRequest, "An unsigned chunk carries an extension.")
		}
		return size, nil, nil
	}
	sig, ok := bytes.CutPrefix(ext, []byte("chunk-signature="))
	if !hasExt || !ok || len(sig) == 0 {
		return 0, nil, d.fail(CodeInvalidRequest, "A signed chunk has no valid chunk-signature.")
	}
	return size, sig, nil
}

func parseSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		v, ok := canonical.Unhex(c)
		if !ok {
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(b) > 0
}

// finish checks the final chunk, the trailers and the totals, and ends
// the stream.
func (d *Decoder) finish(sig []byte) error {
	if d.cfg.Mode.signed() && !d.cfg.Chain.VerifyChunk(&emptyHash, sig) {
		return d.fail(CodeSignatureDoesNotMatch, "The final chunk signature we calculated does not match the signature you provided.")
	}
	if err := d.readTrailers(); err != nil {
		return err
	}
	if d.n != d.cfg.DecodedLength {
		return d.fail(CodeIncompleteBody, "The chunks hold "+strconv.FormatInt(d.n, 10)+
			" bytes of data; x-amz-decoded-content-length says "+strconv.FormatInt(d.cfg.DecodedLength, 10)+".")
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		if err != nil {
			return d.readError(err)
		}
		return d.fail(CodeInvalidRequest, "The request body goes on after the final chunk.")
	}
	return io.EOF
}

var emptyHash = sha256.Sum256(nil)

// readTrailers reads the trailer section: "name:value" lines, with
// x-amz-trailer-signature last in signed mode, then an empty line.
func (d *Decoder) readTrailers() error {
	if !d.cfg.Mode.trailer() {
		return d.expectCRLF("after the final chunk")
	}
	var (
		canonical []byte // "name:value\n" of each trailer, as signed
		got       = make([]bool, len(d.cfg.Trailers))
		sig       []byte
		bad       = -1 // a checksum that does not match
	)
	for lines := 0; ; lines++ {
		line, err := d.readLine(MaxTrailerLine, true)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if lines == MaxTrailers || sig != nil {
			return d.fail(CodeMalformedTrailer, "The trailer section has lines after x-amz-trailer-signature, or too many lines.")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		name, value = bytes.ToLower(bytes.TrimSpace(name)), bytes.TrimSpace(value)
		if !ok {
			return d.fail(CodeMalformedTrailer, "A trailer line has no ':'.")
		}
		if string(name) == "x-amz-trailer-signature" && d.cfg.Mode.signed() {
			sig = append([]byte(nil), value...)
			continue
		}
		i := d.trailerIndex(name)
		if i < 0 || got[i] {
			return d.fail(CodeMalformedTrailer, "The trailer "+strconv.Quote(string(name))+" was not announced in x-amz-trailer, or came twice.")
		}
		got[i] = true
		if bad < 0 && !d.checksumMatches(i, value) {
			bad = i
		}
		canonical = append(append(append(append(canonical, name...), ':'), value...), '\n')
	}
	for i, ok := range got {
		if !ok {
			return d.fail(CodeMalformedTrailer, "The trailer "+d.cfg.Trailers[i]+" announced in x-amz-trailer is missing.")
		}
	}
	if d.cfg.Mode.signed() {
		h := sha256.Sum256(canonical)
		if sig == nil || !d.cfg.Chain.VerifyTrailer(&h, sig) {
			return d.fail(CodeSignatureDoesNotMatch, "The trailer signature we calculated does not match the signature you provided.")
		}
	}
	if bad >= 0 {
		return d.fail(CodeBadDigest, "The "+d.cfg.Trailers[bad]+" you specified did not match the calculated checksum.")
	}
	return nil
}

func (d *Decoder) trailerIndex(name []byte) int {
	for i, t := range d.cfg.Trailers {
		if t == string(name) {
			return i
		}
	}
	return -1
}

// checksumMatches compares the i-th trailing checksum with the data read.
// A mismatch is reported only after the trailer signature is checked, so
// that a forged trailer is a bad signature, not a bad digest.
func (d *Decoder) checksumMatches(i int, value []byte) bool {
	var buf [64]byte
	return subtle.ConstantTimeCompare(AppendChecksum(buf[:0], d.sums[i]), value) == 1
}

// readLine reads a line ended by CRLF, or, for trailers, by "\n\r\n" as
// minio-go ends them. It returns the line without its ending.
func (d *Decoder) readLine(max int, trailer bool) ([]byte, error) {
	line, err := d.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > max:
		return nil, d.fail(CodeInvalidRequest, "A line of the aws-chunked body is longer than "+strconv.Itoa(max)+" bytes.")
	case err != nil:
		return nil, d.readError(err)
	}
	if n := len(line); n >= 2 && line[n-2] == '\r' {
		return line[:n-2], nil
	}
	if trailer && len(line) > 1 {
		// "name:value\n\r\n": the line ends with the CRLF that follows.
		line = append([]byte(nil), line[:len(line)-1]...)
		if err := d.expectCRLF("after a trailer line"); err != nil {
			return nil, err
		}
		return line, nil
	}
	return nil, d.fail(CodeInvalidRequest, "A line of the aws-chunked body does not end with CRLF.")
}

func (d *Decoder) expectCRLF(where string) error {
	// Byte by byte from the bufio.Reader: io.ReadFull(d.r, b[:]) would
	// move b to the heap, an allocation per chunk.
	var b [2]byte
	var err error
	if b[0], err = d.r.ReadByte(); err == nil {
		b[1], err = d.r.ReadByte()
	}
	if err != nil {
		return d.readError(err)
	}
	if b != [2]byte{'\r', '\n'} {
		return d.fail(CodeInvalidRequest, "The aws-chunked body has no CRLF "+where+".")
	}
	return nil
}

// readError turns a failure to read the body into IncompleteBody: the
// stream ended, or broke, before its final chunk.
func (d *Decoder) readError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.fail(CodeIncompleteBody, "The request body ended before the final chunk.")
	}
	return d.fail(CodeIncompleteBody, "The request body could not be read: "+err.Error())
}

func (d *Decoder) fail(code, msg string) error {
	if d.cfg.Err != nil {
		return d.cfg.Err(code, msg)
	}
	return errors.New(code + ": " + msg)
}
