package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// Every benchmark runs its operation through run, so the per-iteration
// overhead (the closure call, and the reset where there is one) is the same
// for all and is measured on its own by Baseline.

// runReset times reset + op. The reset is inside the timed region (it cannot
// be taken out per iteration without StopTimer, which costs far more than
// the reset); Baseline/reset/* times the reset alone, to subtract.
func runReset(b *testing.B, f *fixture, op func() error) {
	b.ReportAllocs()
	f.reset()
	if err := op(); err != nil { // warm: pools, derived-key caches, map growth
		b.Fatal(err)
	}
	for b.Loop() {
		f.reset()
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
}

func run(b *testing.B, op func() error) {
	b.ReportAllocs()
	if err := op(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
}

func s3Fixture(b testing.TB) *fixture { return newFixture(b, http.MethodGet, s3URL, s3Headers(), nil) }

func jsonFixture(b testing.TB) *fixture {
	return newFixture(b, http.MethodPost, dynamoURL, jsonHeaders(), jsonBody)
}

func jsonFixtureMinio(b testing.TB) *fixture {
	return newFixture(b, http.MethodPost, dynamoURL, jsonHeadersMinio(), jsonBody)
}

func presignFixture(b testing.TB) *fixture {
	return newFixture(b, http.MethodGet, s3URL, http.Header{}, nil)
}

func awsPresignFixture(b testing.TB) *fixture {
	f := presignFixture(b)
	f.rawQuery = awsPresignQuery
	f.reset()
	return f
}

// BenchmarkBaseline measures the per-iteration overhead that the other
// benchmarks include: subtract it to get the cost of the signer alone.
func BenchmarkBaseline(b *testing.B) {
	nop := func() error { return nil }
	b.Run("reset/S3GET", func(b *testing.B) { runReset(b, s3Fixture(b), nop) })
	b.Run("reset/JSONPOST", func(b *testing.B) { runReset(b, jsonFixture(b), nop) })
	b.Run("reset/JSONPOST-minio", func(b *testing.B) { runReset(b, jsonFixtureMinio(b), nop) })
	b.Run("reset/Presign", func(b *testing.B) { runReset(b, presignFixture(b), nop) })
	// The body rewind of Verify/JSONPOST.
	b.Run("rewind", func(b *testing.B) {
		body := new(rewindBody)
		req := &http.Request{}
		run(b, func() error {
			body.Reset(jsonBody)
			req.Body = body
			return nil
		})
	})
}

func BenchmarkSign(b *testing.B) {
	b.Run("S3GET/sigv4", func(b *testing.B) {
		f, s := s3Fixture(b), ourS3Signer()
		runReset(b, f, func() error { return signOursS3(s, f.req) })
	})
	b.Run("S3GET/awsv2", func(b *testing.B) {
		f := s3Fixture(b)
		runReset(b, f, func() error { return signAWSS3(f.req, time.Now()) })
	})
	b.Run("S3GET/minio", func(b *testing.B) {
		f := s3Fixture(b)
		runReset(b, f, func() error { signMinioS3(f.req); return nil })
	})
	b.Run("S3GET/smithy", func(b *testing.B) {
		f := s3Fixture(b)
		runReset(b, f, func() error { return signSmithyV4S3(f.req, time.Now()) })
	})
	b.Run("JSONPOST/sigv4", func(b *testing.B) {
		f, s := jsonFixture(b), ourJSONSigner()
		runReset(b, f, func() error { return signOursJSON(s, f.req) })
	})
	b.Run("JSONPOST/awsv2", func(b *testing.B) {
		f := jsonFixture(b)
		runReset(b, f, func() error { return signAWSJSON(f.req, time.Now()) })
	})
	b.Run("JSONPOST/minio", func(b *testing.B) {
		f := jsonFixtureMinio(b)
		runReset(b, f, func() error { signMinioJSON(f.req); return nil })
	})
	b.Run("JSONPOST/smithy", func(b *testing.B) {
		f := jsonFixture(b)
		runReset(b, f, func() error { return signSmithyV4JSON(f.req, time.Now()) })
	})
}

func BenchmarkPresign(b *testing.B) {
	b.Run("S3GET/sigv4", func(b *testing.B) {
		f, s := presignFixture(b), ourS3Signer()
		runReset(b, f, func() error { return s.Presign(f.req, presignExpires) })
	})
	b.Run("S3GET/awsv2", func(b *testing.B) {
		f := awsPresignFixture(b)
		runReset(b, f, func() error { _, err := presignAWS(f.req, time.Now()); return err })
	})
	b.Run("S3GET/minio", func(b *testing.B) {
		f := presignFixture(b)
		runReset(b, f, func() error { presignMinio(f.req); return nil })
	})
	b.Run("S3GET/smithy", func(b *testing.B) {
		f := awsPresignFixture(b)
		runReset(b, f, func() error { return presignSmithyV4(f.req, time.Now()) })
	})
}

// Captures of what sigv4 hashes for each request.

func captureS3GET(tb testing.TB) captured {
	f := s3Fixture(tb)
	return capture(tb, ourS3Signer(), f.req, func(s *sigv4.Signer) error { return s.Sign(f.req) })
}

func captureJSONPOST(tb testing.TB) captured {
	f := jsonFixture(tb)
	return capture(tb, ourJSONSigner(), f.req, func(s *sigv4.Signer) error { return s.SignPayload(f.req, jsonBodyHash) })
}

func capturePresignS3GET(tb testing.TB) captured {
	f := presignFixture(tb)
	return capture(tb, ourS3Signer(), f.req, func(s *sigv4.Signer) error { return s.Presign(f.req, presignExpires) })
}

// floor is the unavoidable hashing of one signature: SHA-256 of the
// canonical request, then HMAC-SHA256 of the string to sign with the
// already-derived signing key. body adds the SHA-256 of a body that a
// verifier must hash because the request declares no payload hash.
func floor(b *testing.B, c captured, body []byte) {
	cr, sts := []byte(c.canonicalRequest), []byte(c.stringToSign)
	mac := hmac.New(sha256.New, c.signingKey[:])
	var out [sha256.Size]byte
	run(b, func() error {
		if body != nil {
			_ = sha256.Sum256(body)
		}
		_ = sha256.Sum256(cr)
		mac.Reset()
		mac.Write(sts)
		mac.Sum(out[:0])
		return nil
	})
}

// floorNew is floor with hmac.New per operation (what most signers do).
func floorNew(b *testing.B, c captured, body []byte) {
	cr, sts := []byte(c.canonicalRequest), []byte(c.stringToSign)
	var out [sha256.Size]byte
	run(b, func() error {
		if body != nil {
			_ = sha256.Sum256(body)
		}
		_ = sha256.Sum256(cr)
		mac := hmac.New(sha256.New, c.signingKey[:])
		mac.Write(sts)
		mac.Sum(out[:0])
		return nil
	})
}

// floorPlumbing is floor plus what no signer working on an http.Header can
// skip: read the clock and format X-Amz-Date, visit every header of the map,
// and store the two headers it adds (one []string backing array shared by
// both, and their two strings: the fewest allocations possible without
// unsafe). It runs with the same reset as Sign, so Baseline/reset is
// subtracted from it too: a practical floor for Sign.
func floorPlumbing(b *testing.B, f *fixture, c captured) {
	cr, sts, auth := []byte(c.canonicalRequest), []byte(c.stringToSign), []byte(c.authorization)
	mac := hmac.New(sha256.New, c.signingKey[:])
	var out [sha256.Size]byte
	runReset(b, f, func() error {
		var date [16]byte
		appendAmzDate(date[:0], time.Now())
		n := 0
		for name, v := range f.req.Header {
			n += len(name) + len(v)
		}
		_ = sha256.Sum256(cr)
		mac.Reset()
		mac.Write(sts)
		mac.Sum(out[:0])
		vals := new([2]string)
		vals[0], vals[1] = string(date[:]), string(auth)
		f.req.Header["X-Amz-Date"] = vals[0:1:1]
		f.req.Header["Authorization"] = vals[1:2:2]
		if n == 0 {
			return errNoHeaders
		}
		return nil
	})
}

var errNoHeaders = errors.New("no headers")

// floorVerifyPlumbing is floor plus what no verifier of an *http.Request
// returning a result can skip: read the clock, look at every header of the
// request once (each must be signed or allowed unsigned), read each byte of
// the Authorization header or query once (to parse it), and allocate the
// result. A practical floor for Verify, as floorPlumbing is for Sign.
func floorVerifyPlumbing(b *testing.B, req *http.Request, c captured) {
	cr, sts := []byte(c.canonicalRequest), []byte(c.stringToSign)
	mac := hmac.New(sha256.New, c.signingKey[:])
	var out [sha256.Size]byte
	auth := req.Header.Get("Authorization")
	if auth == "" {
		auth = req.URL.RawQuery
	}
	run(b, func() error {
		now := time.Now()
		n := 0
		for name, v := range req.Header {
			n += len(name) + len(v)
		}
		for i := 0; i < len(auth); i++ {
			n += int(auth[i] >> 7)
		}
		_ = sha256.Sum256(cr)
		mac.Reset()
		mac.Write(sts)
		mac.Sum(out[:0])
		resultSink = &sigv4.Result{Time: now, ContentLength: int64(n)}
		if n == 0 {
			return errNoHeaders
		}
		return nil
	})
}

var resultSink *sigv4.Result

// appendAmzDate formats t as 20060102T150405Z, digit by digit.
func appendAmzDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(two(b, y/100), y%100)
	b = two(two(b, int(mo)), d)
	b = append(b, 'T')
	return append(two(two(two(b, h), mi), s), 'Z')
}

func BenchmarkFloor(b *testing.B) {
	s3, js, pre := captureS3GET(b), captureJSONPOST(b), capturePresignS3GET(b)
	b.Run("S3GET", func(b *testing.B) { floor(b, s3, nil) })
	b.Run("S3GET-hmacNew", func(b *testing.B) { floorNew(b, s3, nil) })
	b.Run("S3GET+plumbing", func(b *testing.B) { floorPlumbing(b, s3Fixture(b), s3) })
	b.Run("JSONPOST", func(b *testing.B) { floor(b, js, nil) })
	b.Run("JSONPOST-hmacNew", func(b *testing.B) { floorNew(b, js, nil) })
	b.Run("JSONPOST+plumbing", func(b *testing.B) { floorPlumbing(b, jsonFixture(b), js) })
	// Verify/JSONPOST must also hash the body: sigv4 does not send
	// X-Amz-Content-Sha256 to DynamoDB (nor does the AWS SDK).
	b.Run("JSONPOST+body", func(b *testing.B) { floor(b, js, jsonBody) })
	b.Run("PresignedS3GET", func(b *testing.B) { floor(b, pre, nil) })
	b.Run("S3GET+verify-plumbing", func(b *testing.B) { floorVerifyPlumbing(b, signedServerRequest(b, s3Fixture(b), nil), s3) })
	b.Run("PresignedS3GET+verify-plumbing", func(b *testing.B) { floorVerifyPlumbing(b, presignedRequestOf(b), pre) })
	b.Run("PresignedS3GET-hmacNew", func(b *testing.B) { floorNew(b, pre, nil) })
}

func fixedNow() time.Time { return fixedTime }

// signedServerRequest signs f's request at fixedTime and returns it as a
// server reads it.
func signedServerRequest(b *testing.B, f *fixture, body []byte) *http.Request {
	s := ourS3Signer()
	s.Now = fixedNow
	if err := s.Sign(f.req); err != nil {
		b.Fatal(err)
	}
	return serverRequest(b, f.req, body)
}

// presignedRequestOf presigns the S3 GET at fixedTime and returns the URL's
// request as a server reads it.
func presignedRequestOf(b *testing.B) *http.Request {
	f, s := presignFixture(b), ourS3Signer()
	s.Now = fixedNow
	if err := s.Presign(f.req, presignExpires); err != nil {
		b.Fatal(err)
	}
	return presignedServerRequest(b, f.req.URL.String())
}

func BenchmarkVerify(b *testing.B) {
	b.Run("S3GET/sigv4", func(b *testing.B) {
		req, v := signedServerRequest(b, s3Fixture(b), nil), newVerifier(fixedNow)
		run(b, func() error { _, err := v.Verify(req); return err })
	})
	b.Run("JSONPOST/sigv4", func(b *testing.B) {
		f, s := jsonFixture(b), ourJSONSigner()
		s.Now = fixedNow
		if err := s.SignPayload(f.req, jsonBodyHash); err != nil {
			b.Fatal(err)
		}
		req, v := serverRequest(b, f.req, jsonBody), newVerifier(fixedNow)
		body := new(rewindBody)
		run(b, func() error {
			body.Reset(jsonBody)
			req.Body = body
			_, err := v.Verify(req)
			return err
		})
	})
	b.Run("PresignedS3GET/sigv4", func(b *testing.B) {
		req, v := presignedRequestOf(b), newVerifier(fixedNow)
		run(b, func() error { _, err := v.Verify(req); return err })
	})
}
