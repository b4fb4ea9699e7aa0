package gateway

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/sigv4/sigv4"
)

func TestRemoveAWSChunked(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want []string
	}{
		{[]string{"aws-chunked"}, nil},
		{[]string{"aws-chunked,gzip"}, []string{"gzip"}},
		{[]string{"gzip, AWS-Chunked", "br"}, []string{"gzip, br"}},
		{[]string{" , aws-chunked ,"}, nil},
	} {
		h := http.Header{"Content-Encoding": tt.in}
		removeAWSChunked(h)
		if got := h.Values("Content-Encoding"); !equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestIsIdentityHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Sigv4-Principal": true, "X_sigv4_principal": true, "x-SIGV4-anything": true, "X-Sigv4-": true,
		"X-Sigv4": false, "X-Amz-Date": false, "Sigv4-Principal": false,
	} {
		if got := isIdentityHeader(name); got != want {
			t.Errorf("isIdentityHeader(%q) = %v", name, got)
		}
	}
}

// TestHoldback checks that the last byte comes only with a clean end, one
// byte at a time or all at once.
func TestHoldback(t *testing.T) {
	data := []byte("0123456789")
	bad := errors.New("bad trailer")
	for _, tt := range []struct {
		name string
		r    io.Reader
		want []byte
		err  error
	}{
		{"clean", bytes.NewReader(data), data, nil},
		{"clean/one-byte-reads", iotest.OneByteReader(bytes.NewReader(data)), data, nil},
		{"clean/data-with-eof", iotest.DataErrReader(bytes.NewReader(data)), data, nil},
		{"failing-end", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(bad)), data[:9], bad},
		{"short", bytes.NewReader(data[:5]), data[:5], io.ErrUnexpectedEOF},
		{"long", bytes.NewReader(append(data, 'x')), data[:9], errLonger},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 3, 64} {
				h := &holdback{r: tt.r, left: int64(len(data))}
				if s, ok := tt.r.(io.Seeker); ok {
					s.Seek(0, io.SeekStart)
				}
				got, err := readAll(h, size)
				if !bytes.Equal(got, tt.want) || !errors.Is(err, tt.err) {
					t.Errorf("reads of %d: %q, %v; want %q, %v", size, got, err, tt.want, tt.err)
				}
				if tt.name != "clean" {
					break // the other readers cannot be rewound
				}
			}
		})
	}
}

// readAll is io.ReadAll with reads of size bytes, returning nil for EOF.
func readAll(r io.Reader, size int) ([]byte, error) {
	var out []byte
	buf := make([]byte, size)
	for range 1000 {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	return out, io.ErrNoProgress
}

func TestCallerOf(t *testing.T) {
	for _, tt := range []struct {
		key, principal string
		arn, account   string
	}{
		{"AKID", "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice", "123456789012"},
		{"AKID", "arn:aws:sts::123456789012:assumed-role/r/s", "arn:aws:sts::123456789012:assumed-role/r/s", "123456789012"},
		{"AKID", "arn:aws:iam::not-an-account:user/x", "arn:aws:iam::not-an-account:user/x", "000000000000"},
		{"AKID", "bob", "arn:aws:iam::000000000000:user/bob", "000000000000"},
		{"AKID", "", "arn:aws:iam::000000000000:user/AKID", "000000000000"},
	} {
		c := callerOf(tt.key, tt.principal)
		if c.Arn != tt.arn || c.Account != tt.account || c.UserID != tt.key {
			t.Errorf("callerOf(%q, %q) = %+v", tt.key, tt.principal, c)
		}
	}
}

func TestErrorStyle(t *testing.T) {
	g := &Gateway{}
	for auth, want := range map[string]style{
		"": styleS3,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x":  styleS3,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x": styleQuery,
		"AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/iam/aws4_request, SignedHeaders=host, Signature=x":     styleQuery,
	} {
		r, _ := http.NewRequest("GET", "http://x/", nil)
		r.Header.Set("Authorization", auth)
		if got := g.errorStyle(&exchange{req: r}); got != want {
			t.Errorf("%q: style %d, want %d", auth, got, want)
		}
	}
	r, _ := http.NewRequest("GET", "http://x/?X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fsqs%2Faws4_request", nil)
	if got := g.errorStyle(&exchange{req: r}); got != styleQuery {
		t.Errorf("presigned sqs: style %d", got)
	}
	g.json = true
	if got := g.errorStyle(&exchange{req: r, res: &sigv4.Result{}}); got != styleJSON {
		t.Errorf("json: style %d", got)
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:443":                  "192.0.2.7",
		"[::ffff:192.0.2.7]:443":         "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:80":      "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff:ffff::9]:80": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:80":           "2001:db8:1:3::/64",
		"pipe":                           "pipe",
	} {
		if got := clientKey(addr); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestBlocks reads bodies of every length around the block size, and
// reads them back.
func TestBlocks(t *testing.T) {
	for _, n := range []int{0, 1, blockSize - 1, blockSize, blockSize + 1, 3*blockSize + 7} {
		for _, limit := range []int64{int64(n) + 1, int64(n), 10} {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i * 7)
			}
			var b blocks
			if err := b.readFrom(iotest.OneByteReader(bytes.NewReader(data)), limit); err != nil {
				t.Fatal(err)
			}
			want := data[:min(int64(n), limit)]
			r := b.reader()
			got, err := io.ReadAll(&r)
			if err != nil || !bytes.Equal(got, want) || b.n != int64(len(want)) {
				t.Fatalf("n %d limit %d: read back %d bytes (held %d), want %d; %v", n, limit, len(got), b.n, len(want), err)
			}
			if blocks := (len(want) + blockSize) / blockSize; len(b.bufs) > blocks {
				t.Errorf("n %d: %d blocks, want at most %d", n, len(b.bufs), blocks)
			}
			b.release()
		}
	}
}

// TestRedactTokens: a session token leaves a kept canonical request, in
// a header or in a presigned URL's query; nothing else changes.
func TestRedactTokens(t *testing.T) {
	creq := "GET\n/k\nX-Amz-Credential=AK%2F20150830&X-Amz-Security-Token=SECRETTOKEN%2B%3D&X-Amz-SignedHeaders=host\nhost:h\nx-amz-security-token:SECRETTOKEN+=\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD"
	got := redactTokens(creq)
	want := "GET\n/k\nX-Amz-Credential=AK%2F20150830&X-Amz-Security-Token=(redacted)&X-Amz-SignedHeaders=host\nhost:h\nx-amz-security-token:(redacted)\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD"
	if got != want {
		t.Errorf("redactTokens:\n%s\nwant\n%s", got, want)
	}
}

// TestFailureRingBounded: the ring holds its capacity at most, under
// concurrent adds, the newest first; an ID that left it is not found.
func TestFailureRingBounded(t *testing.T) {
	r := newFailureRing(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				r.add(Failure{Code: fmt.Sprint(g, i)})
			}
		}()
	}
	wg.Wait()
	list := r.list()
	if len(list) != 100 || list[0].ID != 7999 || list[99].ID != 7900 {
		t.Fatalf("%d kept, newest %d, oldest %d", len(list), list[0].ID, list[len(list)-1].ID)
	}
	if _, ok := r.get(7899); ok {
		t.Error("an ID that left the ring is found")
	}
	if f, ok := r.get(7950); !ok || f.ID != 7950 {
		t.Errorf("get(7950) = %+v, %v", f, ok)
	}
}

// TestAuthHeadersCanonical: rewriteHeaders deletes authHeaders from the
// map by name, which finds them only in canonical form.
func TestAuthHeadersCanonical(t *testing.T) {
	for _, name := range append(authHeaders, "Content-Length") {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q)", name, c)
		}
	}
}

// TestRequestID: 16 upper-case hex digits, different each time.
func TestRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if len(id) != 16 || strings.Trim(id, "0123456789ABCDEF") != "" || seen[id] {
			t.Fatalf("request ID %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// TestSetXForwarded: setXForwarded sets what ProxyRequest.SetXForwarded
// sets, whatever the client's address, prior X-Forwarded-For and scheme.
func TestSetXForwarded(t *testing.T) {
	for _, remote := range []string{"192.0.2.1:5000", "[2001:db8::1]:443", "not-an-address", ""} {
		for _, prior := range [][]string{nil, {"10.0.0.1"}, {"10.0.0.1", "10.0.0.2, 10.0.0.3"}} {
			for _, useTLS := range []bool{false, true} {
				in := httptest.NewRequest("GET", "http://bucket.example.com/key", nil)
				in.RemoteAddr = remote
				if useTLS {
					in.TLS = &tls.ConnectionState{}
				}
				want, got := &httputil.ProxyRequest{In: in, Out: in.Clone(in.Context())}, &httputil.ProxyRequest{In: in, Out: in.Clone(in.Context())}
				for _, pr := range []*httputil.ProxyRequest{want, got} {
					if prior != nil {
						pr.Out.Header["X-Forwarded-For"] = append([]string(nil), prior...)
					}
				}
				want.SetXForwarded()
				setXForwarded(got)
				if !reflect.DeepEqual(got.Out.Header, want.Out.Header) {
					t.Errorf("remote %q, prior %q, TLS %v: got %v, want %v", remote, prior, useTLS, got.Out.Header, want.Out.Header)
				}
			}
		}
	}
}
