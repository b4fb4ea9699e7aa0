package bench

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sigv4/sigv4"
)

// growthQuery is a query of n parameters in reverse order, so that
// sorting them is real work, with names and values that need no escaping
// and some that do.
func growthQuery(n int) string {
	var b strings.Builder
	for i := n - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "param-%03d=value%%20%d", i, i)
	}
	return b.String()
}

// growthHeaders are n signed headers in all: Host, X-Amz-Date,
// X-Amz-Content-Sha256 and n-3 X-Amz-Meta-* (signed, as every x-amz-*).
func growthHeaders(n int) http.Header {
	h := http.Header{}
	h.Set("X-Amz-Content-Sha256", sigv4.EmptySHA256)
	for i := range n - 3 {
		h.Set(fmt.Sprintf("X-Amz-Meta-Field-%02d", i), fmt.Sprintf("value  %d of the   field", i))
	}
	return h
}

// BenchmarkVerifyGrowth measures how Verify's cost grows with the number
// of query parameters (0, 10, 100) and of signed headers (3, 8, 32), side
// by side with the hashing floor of the same requests and with the
// practical floor (which also visits every header and reads the
// Authorization header or query once): the cost of each extra parameter or
// header is (t[large] - t[small]) / (large - small).
func BenchmarkVerifyGrowth(b *testing.B) {
	base := "https://examplebucket.s3.amazonaws.com/photos/cat.jpg"
	for _, n := range []int{0, 10, 100} {
		u := base
		if n > 0 {
			u += "?" + growthQuery(n)
		}
		growthPair(b, fmt.Sprintf("query=%03d", n), newFixture(b, http.MethodGet, u, growthHeaders(3), nil))
	}
	for _, n := range []int{3, 8, 32} {
		growthPair(b, fmt.Sprintf("headers=%02d", n), newFixture(b, http.MethodGet, base, growthHeaders(n), nil))
	}
}

func growthPair(b *testing.B, name string, f *fixture) {
	c := capture(b, ourS3Signer(), f.req, func(s *sigv4.Signer) error { return s.Sign(f.req) })
	req, v := serverRequest(b, f.req, nil), newVerifier(fixedNow)
	b.Run(name+"/sigv4", func(b *testing.B) {
		run(b, func() error { _, err := v.Verify(req); return err })
	})
	b.Run(name+"/floor", func(b *testing.B) { floor(b, c, nil) })
	b.Run(name+"/floor+verify-plumbing", func(b *testing.B) { floorVerifyPlumbing(b, req, c) })
}
