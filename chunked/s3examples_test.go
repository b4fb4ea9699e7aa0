package chunked_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
)

// chunkedExample is a chunked upload of testdata/s3-examples.json.
type chunkedExample struct {
	Name        string `json:"name"`
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	} `json:"credentials"`
	Region  string `json:"region"`
	Service string `json:"service"`
	AmzDate string `json:"amz_date"`
	Request struct {
		Method  string      `json:"method"`
		Path    string      `json:"path"`
		Headers [][2]string `json:"headers"`
		Payload struct {
			Byte   string
			Length int
		} `json:"decoded_payload"`
		Trailers [][2]string `json:"trailers"`
	} `json:"request"`
	Expected struct {
		SeedCanonicalRequest string `json:"seed_canonical_request"`
		SeedStringToSign     string `json:"seed_string_to_sign"`
		SeedSignature        string `json:"seed_signature"`
		Authorization        string `json:"authorization_header"`
		Chunks               []struct {
			Size        int    `json:"size"`
			FramingLine string `json:"framing_line"`
		} `json:"chunks"`
		Trailer *struct {
			Wire string `json:"wire"`
		} `json:"trailer"`
	} `json:"expected"`
}

func loadChunkedExamples(t *testing.T) []chunkedExample {
	t.Helper()
	raw, err := os.ReadFile("../testdata/s3-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Examples []chunkedExample }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var out []chunkedExample
	for _, e := range file.Examples {
		if len(e.Expected.Chunks) > 0 {
			out = append(out, e)
		}
	}
	if len(out) != 2 {
		t.Fatalf("found %d chunked examples, want 2", len(out))
	}
	return out
}

func (ex *chunkedExample) time(t *testing.T) time.Time {
	tm, err := time.Parse("20060102T150405Z", ex.AmzDate)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func (ex *chunkedExample) header(name string) string {
	for _, h := range ex.Request.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

func (ex *chunkedExample) data() []byte {
	return bytes.Repeat([]byte(ex.Request.Payload.Byte), ex.Request.Payload.Length)
}

// wire is the documented stream: each chunk's framing line, its data and
// CRLF; then the documented trailer.
func (ex *chunkedExample) wire() []byte {
	var b []byte
	for _, c := range ex.Expected.Chunks {
		b = append(b, c.FramingLine...)
		if c.Size > 0 {
			b = append(b, bytes.Repeat([]byte(ex.Request.Payload.Byte), c.Size)...)
			b = append(b, "\r\n"...)
		}
	}
	if ex.Expected.Trailer != nil {
		b = append(b, ex.Expected.Trailer.Wire...)
	}
	return b
}

// TestS3ChunkedExamplesSign: chunked.Sign reproduces the documented seed
// canonical request, string to sign and signature, and the documented
// stream byte for byte, with the documented Content-Length.
func TestS3ChunkedExamplesSign(t *testing.T) {
	for _, ex := range loadChunkedExamples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			req, err := http.NewRequest(ex.Request.Method, "https://"+ex.header("host")+ex.Request.Path, bytes.NewReader(ex.data()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Storage-Class", ex.header("x-amz-storage-class"))
			if ex.header("content-length") != "" {
				req.Header.Set("Content-Length", "0") // signed, so Sign must set it
			}
			var creq, sts string
			s := &sigv4.Signer{
				Credentials: sigv4.Credentials{AccessKeyID: ex.Credentials.AccessKeyID, SecretAccessKey: ex.Credentials.SecretAccessKey},
				Region:      ex.Region, Service: ex.Service,
				Now:   func() time.Time { return ex.time(t) },
				Debug: func(c, s string) { creq, sts = c, s },
			}
			opts := chunked.Options{ChunkSize: 64 << 10}
			if len(ex.Request.Trailers) > 0 {
				opts.Checksum = strings.TrimPrefix(ex.Request.Trailers[0][0], "x-amz-checksum-")
			}
			if err := chunked.Sign(s, req, opts); err != nil {
				t.Fatal(err)
			}
			if creq != ex.Expected.SeedCanonicalRequest {
				t.Errorf("seed canonical request\n%s\nwant\n%s", creq, ex.Expected.SeedCanonicalRequest)
			}
			if sts != ex.Expected.SeedStringToSign {
				t.Errorf("seed string to sign\n%s\nwant\n%s", sts, ex.Expected.SeedStringToSign)
			}
			auth := req.Header.Get("Authorization")
			if !strings.HasSuffix(auth, "Signature="+ex.Expected.SeedSignature) {
				t.Errorf("Authorization %q does not carry the seed signature %s", auth, ex.Expected.SeedSignature)
			}
			if ex.Expected.Authorization != "" && auth != ex.Expected.Authorization {
				t.Errorf("Authorization\n%s\nwant\n%s", auth, ex.Expected.Authorization)
			}
			got, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := ex.wire()
			if !bytes.Equal(got, want) {
				t.Errorf("stream differs from the documented one at byte %d of %d/%d", firstDiff(got, want), len(got), len(want))
			}
			if req.ContentLength != int64(len(want)) {
				t.Errorf("ContentLength %d, want %d", req.ContentLength, len(want))
			}
			if cl := ex.header("content-length"); cl != "" && cl != strconv.Itoa(len(want)) {
				t.Errorf("the documented content-length %s is not the stream's length %d", cl, len(want))
			}
			// GetBody gives the same stream again.
			again, err := req.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(again); !bytes.Equal(b, want) {
				t.Error("GetBody gives a different stream")
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// exampleRequest is the documented request as a server receives it, with
// the documented stream, or body instead if it is not nil.
func exampleRequest(t *testing.T, ex *chunkedExample, body []byte) *http.Request {
	t.Helper()
	if body == nil {
		body = ex.wire()
	}
	var raw bytes.Buffer
	raw.WriteString(ex.Request.Method + " " + ex.Request.Path + " HTTP/1.1\r\n")
	for _, h := range ex.Request.Headers {
		if h[0] != "content-length" {
			raw.WriteString(h[0] + ": " + h[1] + "\r\n")
		}
	}
	raw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	auth := ex.Expected.Authorization
	if auth == "" {
		auth = "AWS4-HMAC-SHA256 Credential=" + ex.Credentials.AccessKeyID + "/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
			signedHeaders(ex) + ", Signature=" + ex.Expected.SeedSignature
	}
	raw.WriteString("Authorization: " + auth + "\r\n\r\n")
	raw.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&raw))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func signedHeaders(ex *chunkedExample) string {
	var names []string
	for _, h := range ex.Request.Headers {
		names = append(names, h[0])
	}
	return strings.Join(names, ";")
}

func exampleVerifier(ex *chunkedExample, t *testing.T) *sigv4.Verifier {
	return &sigv4.Verifier{
		Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: ex.Credentials.AccessKeyID, SecretAccessKey: ex.Credentials.SecretAccessKey}),
		Regions: []string{ex.Region}, Services: []string{ex.Service},
		Now: func() time.Time { return ex.time(t) },
	}
}

// readAll reads a verified body to its end and returns what the handler
// received and the error that ended it (nil at a clean EOF).
func readAll(body io.Reader) ([]byte, error) {
	var got []byte
	buf := make([]byte, 7000) // not a divisor of the chunk sizes
	for {
		n, err := body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}

// TestS3ChunkedExamplesVerify: the documented request and stream verify,
// and the handler receives the documented data.
func TestS3ChunkedExamplesVerify(t *testing.T) {
	for _, ex := range loadChunkedExamples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			res, err := exampleVerifier(&ex, t).Verify(exampleRequest(t, &ex, nil))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, ex.data()) {
				t.Errorf("decoded %d bytes, want the documented %d", len(got), len(ex.data()))
			}
			if res.ContentLength != int64(len(ex.data())) {
				t.Errorf("Result.ContentLength %d, want %d", res.ContentLength, len(ex.data()))
			}
		})
	}
}

func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

func chunkedSign(s *sigv4.Signer, req *http.Request, unsigned bool, checksum string, size int) error {
	return chunked.Sign(s, req, chunked.Options{Unsigned: unsigned, Checksum: checksum, ChunkSize: size})
}

// onTheWireExample is onTheWire for examples, which have no *testing.T.
func onTheWireExample(req *http.Request) *http.Request {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		panic(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		panic(err)
	}
	return got
}
