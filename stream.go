package sigv4

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/chunk"
)

// Headers of streaming (aws-chunked) uploads.
const (
	HeaderDecodedContentLength = "X-Amz-Decoded-Content-Length"
	HeaderTrailer              = "X-Amz-Trailer"
)

// stream is a streaming payload announced by a request, checked before
// its seed signature is.
type stream struct {
	mode     chunk.Mode
	length   int64    // x-amz-decoded-content-length
	trailers []string // x-amz-trailer, lower case
}

// parseStream reads the headers of a streaming payload.
func parseStream(req *http.Request, payload string, sigv4a bool) (*stream, error) {
	mode, ok := chunk.ParseMode(payload)
	if !ok {
		return nil, newError(ErrInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a valid sha256 value.")
	}
	if mode != chunk.UnsignedTrailer && mode.ECDSA() != sigv4a {
		return nil, newError(ErrInvalidRequest, "The payload mode "+payload+" does not match the signature's algorithm.")
	}
	s := &stream{mode: mode}
	v := headerValue(req.Header, HeaderDecodedContentLength)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || v[0] == '+' {
		return nil, newError(ErrMissingContentLength, "A streaming upload must give its length in x-amz-decoded-content-length.")
	}
	s.length = n
	for _, list := range req.Header[HeaderTrailer] {
		for name := range strings.SplitSeq(list, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if chunk.NewChecksum(name) == nil || len(s.trailers) == chunk.MaxTrailers {
				return nil, newError(ErrInvalidRequest, "The value specified in the x-amz-trailer header is not supported.")
			}
			s.trailers = append(s.trailers, name)
		}
	}
	if len(s.trailers) > 0 && (mode == chunk.Signed || mode == chunk.SignedECDSA) {
		return nil, newError(ErrInvalidRequest, "x-amz-trailer announces a trailer, but "+payload+" carries none.")
	}
	return s, nil
}

// body returns the decoder of a stream whose seed signature verified.
func (s *stream) body(r *request, key SigningKey, maxChunk int) io.ReadCloser {
	c := r.auth.Credential
	var chain *chunk.Chain
	scope := string(canonical.AppendScope(nil, c.Date, c.Region, c.Service))
	switch {
	case s.mode.ECDSA():
		chain = chunk.NewECDSAChain(nil, r.pub, r.amzDate, scope, r.auth.Signature)
	case s.mode != chunk.UnsignedTrailer:
		chain = chunk.NewChain(key, r.amzDate, scope, r.auth.Signature)
	}
	body := r.req.Body
	if body == nil {
		body = http.NoBody
	}
	d := chunk.NewDecoder(body, chunk.Config{
		Mode: s.mode, Chain: chain, DecodedLength: s.length, Trailers: s.trailers,
		MaxChunkSize: maxChunk,
		Err: func(code, msg string) error {
			e := newError(streamErrors[code], msg)
			if code == chunk.CodeSignatureDoesNotMatch && chain != nil {
				e.StringToSign = chain.StringToSign()
				e.AccessKeyID = c.AccessKeyID
			}
			return e
		},
	})
	return &decodedBody{Decoder: d, body: body}
}

var streamErrors = map[string]*Error{
	chunk.CodeSignatureDoesNotMatch: ErrSignatureDoesNotMatch,
	chunk.CodeIncompleteBody:        ErrIncompleteBody,
	chunk.CodeBadDigest:             ErrBadDigest,
	chunk.CodeMalformedTrailer:      ErrMalformedTrailerError,
	chunk.CodeInvalidRequest:        ErrInvalidRequest,
}

type decodedBody struct {
	*chunk.Decoder
	body io.Closer
}

func (b *decodedBody) Close() error { return b.body.Close() }
