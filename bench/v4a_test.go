package bench

// SigV4a (AWS4-ECDSA-P256-SHA256) benchmarks, issue 6: sigv4's Sign,
// Presign and Verify of the S3 GET fixture against one ECDSA P-256
// operation (the floor) and against smithy-go's aws-http-auth sigv4a
// signer. All run in one go test invocation:
//
//	go test -run '^$' -bench 'V4a' -benchmem -cpu 1 -count 5 ./bench/ | tee out/v4a-raw.txt
//	go test -count=1 -run '^TestV4aReport$' ./bench/ -args -raw=out/v4a-raw.txt
//
// TestV4aCompetitorVerifies checks that the competitor signs the same
// string to sign as sigv4 and that our Verifier accepts its signatures.

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	smithycreds "github.com/aws/smithy-go/aws-http-auth/credentials"
	smithyv4a "github.com/aws/smithy-go/aws-http-auth/sigv4a"
	smithyv4 "github.com/aws/smithy-go/aws-http-auth/v4"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/v4a"
	"github.com/sigv4/sigv4/sigv4a"
)

// v4aRegionSet is the region set every SigV4a signature here is made for.
var v4aRegionSet = []string{region}

func ourV4aS3Signer() *sigv4.Signer { return sigv4a.NewSigner(ourCreds, "s3", v4aRegionSet...) }

// v4aKey is the P-256 key AWS derives from the example credentials: the key
// both signers derive, and the floors' key.
func v4aKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := v4a.DeriveKey(accessKeyID, secretAccessKey)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// smithy-go's aws-http-auth signer, configured as an S3 client would be
// (no double path escaping), and made to sign the same headers as sigv4
// (every header but those clients and proxies change): its default rules
// sign only host and x-amz-*, a smaller canonical request. The fixture
// already carries X-Amz-Content-Sha256, so AddPayloadHashHeader stays off
// (setting it again would only cost the competitor a Header.Set).
var (
	smithyCreds  = smithycreds.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey}
	smithySigner = smithyv4a.New(func(o *smithyv4.SignerOptions) {
		o.DisableDoublePathEscape = true
		o.HeaderRules = sigv4HeaderRules{}
	})
	smithyDefaultSigner = smithyv4a.New(func(o *smithyv4.SignerOptions) { o.DisableDoublePathEscape = true })
	emptySHA256Bytes, _ = hex.DecodeString(sigv4.EmptySHA256)
)

// sigv4HeaderRules signs what sigv4 signs: every header but the ones never
// signed (sign.go's unsignedHeaders). smithy-go passes names lower-cased and
// puts Host in the header map itself, so host is signed.
type sigv4HeaderRules struct{}

func (sigv4HeaderRules) IsSigned(h string) bool {
	switch h {
	case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding",
		"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"proxy-connection", "te", "trailer", "upgrade":
		return false
	}
	return true
}

func signSmithyS3(s *smithyv4a.Signer, req *http.Request, t time.Time) error {
	return s.SignRequest(&smithyv4a.SignRequestInput{
		Request:     req,
		PayloadHash: emptySHA256Bytes,
		Credentials: smithyCreds,
		Service:     "s3",
		RegionSet:   v4aRegionSet,
		Time:        t,
	})
}

// presignSmithy presigns awsPresignFixture's request: smithy-go takes the
// expiry as an X-Amz-Expires parameter already in the query, as
// aws-sdk-go-v2 does.
func presignSmithy(req *http.Request, t time.Time) error {
	return smithySigner.SignRequest(&smithyv4a.SignRequestInput{
		Request:       req,
		PayloadHash:   smithyv4.UnsignedPayload(),
		Credentials:   smithyCreds,
		Service:       "s3",
		RegionSet:     v4aRegionSet,
		Time:          t,
		SignatureType: smithyv4.SignatureTypeQueryString,
	})
}

func v4aVerifier(keys sigv4.KeySource) *sigv4.Verifier {
	return &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3"}, Now: fixedNow}
}

func v4aPublicKeyring(tb testing.TB) *sigv4.PublicKeyring {
	tb.Helper()
	pub, err := sigv4a.PublicKey(ourCreds)
	if err != nil {
		tb.Fatal(err)
	}
	k := sigv4.NewPublicKeyring()
	k.Add(pub, sigv4.Identity{AccessKeyID: accessKeyID})
	return k
}

// v4aDigest is the SHA-256 of the string to sign sigv4 makes for the S3
// GET fixture at fixedTime: the digest the floors sign and verify.
func v4aDigest(tb testing.TB) [sha256.Size]byte {
	tb.Helper()
	f, s := s3Fixture(tb), ourV4aS3Signer()
	var sts string
	s.Now = fixedNow
	s.Debug = func(_, st string) { sts = st }
	if err := s.Sign(f.req); err != nil {
		tb.Fatal(err)
	}
	return sha256.Sum256([]byte(sts))
}

func BenchmarkV4aBaseline(b *testing.B) {
	nop := func() error { return nil }
	b.Run("reset/S3GET", func(b *testing.B) { runReset(b, s3Fixture(b), nop) })
	b.Run("reset/Presign", func(b *testing.B) { runReset(b, presignFixture(b), nop) })
	b.Run("reset/PresignSmithy", func(b *testing.B) { runReset(b, awsPresignFixture(b), nop) })
}

// BenchmarkV4aFloor is one ECDSA P-256 operation on a precomputed SHA-256
// digest with the derived key: all a SigV4a signer or verifier cannot skip
// but the (sub-microsecond) hashing.
func BenchmarkV4aFloor(b *testing.B) {
	key, digest := v4aKey(b), v4aDigest(b)
	b.Run("SignASN1", func(b *testing.B) {
		run(b, func() error { _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); return err })
	})
	b.Run("VerifyASN1", func(b *testing.B) {
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		pub, err := sigv4a.PublicKey(ourCreds) // what a Verifier holds
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() error {
			if !ecdsa.VerifyASN1(pub, digest[:], der) {
				return errBadSig
			}
			return nil
		})
	})
}

var errBadSig = fmt.Errorf("signature does not verify")

func BenchmarkV4aSign(b *testing.B) {
	b.Run("S3GET/sigv4", func(b *testing.B) {
		f, s := s3Fixture(b), ourV4aS3Signer()
		runReset(b, f, func() error { return s.Sign(f.req) })
	})
	b.Run("S3GET/smithy", func(b *testing.B) {
		f := s3Fixture(b)
		runReset(b, f, func() error { return signSmithyS3(smithySigner, f.req, time.Time{}) })
	})
	// For reference: smithy-go out of the box signs host and x-amz-* only.
	b.Run("S3GET/smithy-default-rules", func(b *testing.B) {
		f := s3Fixture(b)
		runReset(b, f, func() error { return signSmithyS3(smithyDefaultSigner, f.req, time.Time{}) })
	})
}

func BenchmarkV4aPresign(b *testing.B) {
	b.Run("S3GET/sigv4", func(b *testing.B) {
		f, s := presignFixture(b), ourV4aS3Signer()
		runReset(b, f, func() error { return s.Presign(f.req, presignExpires) })
	})
	b.Run("S3GET/smithy", func(b *testing.B) {
		f := awsPresignFixture(b)
		runReset(b, f, func() error { return presignSmithy(f.req, time.Time{}) })
	})
}

// BenchmarkV4aVerify verifies a request signed once at fixedTime, with the
// verifier's clock fixed to it and warm keys: the Keyring derives the
// public key on the first call (made before timing) and keeps it.
func BenchmarkV4aVerify(b *testing.B) {
	header := func(b *testing.B) *http.Request {
		f, s := s3Fixture(b), ourV4aS3Signer()
		s.Now = fixedNow
		if err := s.Sign(f.req); err != nil {
			b.Fatal(err)
		}
		return serverRequest(b, f.req, nil)
	}
	presigned := func(b *testing.B) *http.Request {
		f, s := presignFixture(b), ourV4aS3Signer()
		s.Now = fixedNow
		if err := s.Presign(f.req, presignExpires); err != nil {
			b.Fatal(err)
		}
		return presignedServerRequest(b, f.req.URL.String())
	}
	for _, c := range []struct {
		name string
		req  func(*testing.B) *http.Request
		keys func(testing.TB) sigv4.KeySource
	}{
		{"S3GET/Keyring", header, func(testing.TB) sigv4.KeySource { return sigv4.NewKeyring(ourCreds) }},
		{"S3GET/PublicKeyring", header, func(tb testing.TB) sigv4.KeySource { return v4aPublicKeyring(tb) }},
		{"PresignedS3GET/Keyring", presigned, func(testing.TB) sigv4.KeySource { return sigv4.NewKeyring(ourCreds) }},
		{"PresignedS3GET/PublicKeyring", presigned, func(tb testing.TB) sigv4.KeySource { return v4aPublicKeyring(tb) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, v := c.req(b), v4aVerifier(c.keys(b))
			run(b, func() error { _, err := v.Verify(req); return err })
		})
	}
}

// TestV4aCompetitorVerifies checks that the work compared is the same:
// smithy-go signs the very string to sign that sigv4 signs (its signature
// verifies against sigv4's string to sign, with the same signed headers),
// and our Verifier accepts its requests with either key source.
func TestV4aCompetitorVerifies(t *testing.T) {
	pub, err := sigv4a.PublicKey(ourCreds)
	must(t, err)
	verifiers := map[string]*sigv4.Verifier{
		"Keyring":       v4aVerifier(sigv4.NewKeyring(ourCreds)),
		"PublicKeyring": v4aVerifier(v4aPublicKeyring(t)),
	}
	ourSTS := func(t *testing.T, f *fixture, presign bool) string {
		var sts string
		s := ourV4aS3Signer()
		s.Now = fixedNow
		s.Debug = func(_, st string) { sts = st }
		if presign {
			must(t, s.Presign(f.req, presignExpires))
		} else {
			must(t, s.Sign(f.req))
		}
		return sts
	}
	signedHeaders := func(s string) string {
		_, after, _ := strings.Cut(s, "SignedHeaders=")
		h, _, _ := strings.Cut(after, ",")
		h, _, _ = strings.Cut(h, "&")
		return strings.ReplaceAll(h, "%3B", ";")
	}
	check := func(t *testing.T, req *http.Request, sig, sts string, ourAuth, theirAuth string) {
		t.Helper()
		if !v4a.Verify(pub, []byte(sts), sig) {
			t.Errorf("smithy-go's signature does not verify against sigv4's string to sign:\n%s", sts)
		}
		if o, s := signedHeaders(ourAuth), signedHeaders(theirAuth); o != s {
			t.Errorf("signed headers: sigv4 %q, smithy-go %q", o, s)
		} else {
			t.Logf("same string to sign, signed headers %q", o)
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range verifiers {
				if !yield(k) {
					return
				}
			}
		}) {
			if _, err := verifiers[name].Verify(req); err != nil {
				t.Errorf("Verifier with %s: %v", name, err)
			}
		}
	}

	t.Run("S3GET", func(t *testing.T) {
		ours := s3Fixture(t)
		sts := ourSTS(t, ours, false)
		f := s3Fixture(t)
		must(t, signSmithyS3(smithySigner, f.req, fixedTime))
		auth := f.req.Header.Get("Authorization")
		_, sig, _ := strings.Cut(auth, "Signature=")
		check(t, serverRequest(t, f.req, nil), sig, sts, ours.req.Header.Get("Authorization"), auth)
	})
	t.Run("Presign/S3GET", func(t *testing.T) {
		ours := presignFixture(t)
		sts := ourSTS(t, ours, true)
		f := awsPresignFixture(t)
		must(t, presignSmithy(f.req, fixedTime))
		sig := f.req.URL.Query().Get("X-Amz-Signature")
		check(t, presignedServerRequest(t, f.req.URL.String()), sig, sts, ours.req.URL.RawQuery, f.req.URL.RawQuery)
	})
	t.Run("S3GET/default-rules", func(t *testing.T) {
		// Fewer signed headers, so another string to sign: only check
		// that it verifies.
		f := s3Fixture(t)
		must(t, signSmithyS3(smithyDefaultSigner, f.req, fixedTime))
		for name, v := range verifiers {
			if _, err := v.Verify(serverRequest(t, f.req, nil)); err != nil {
				t.Errorf("Verifier with %s: %v", name, err)
			}
		}
	})
	t.Run("sigv4", func(t *testing.T) {
		// Our own signatures, as the Verify benchmarks verify them (their
		// warm-up call fails the benchmark otherwise), at the current time.
		for _, presign := range []bool{false, true} {
			s := ourV4aS3Signer()
			var req *http.Request
			if presign {
				f := presignFixture(t)
				must(t, s.Presign(f.req, presignExpires))
				req = presignedServerRequest(t, f.req.URL.String())
			} else {
				f := s3Fixture(t)
				must(t, s.Sign(f.req))
				req = serverRequest(t, f.req, nil)
			}
			for name, keys := range map[string]sigv4.KeySource{"Keyring": sigv4.NewKeyring(ourCreds), "PublicKeyring": v4aPublicKeyring(t)} {
				v := v4aVerifier(keys)
				v.Now = time.Now
				if _, err := v.Verify(req); err != nil {
					t.Errorf("presign=%v, %s: %v", presign, name, err)
				}
			}
		}
	})
}

// v4aBaselineOf is the per-iteration reset a V4a benchmark includes.
func v4aBaselineOf(name string) string {
	switch {
	case strings.HasPrefix(name, "V4aSign/"):
		return "V4aBaseline/reset/S3GET"
	case name == "V4aPresign/S3GET/smithy":
		return "V4aBaseline/reset/PresignSmithy"
	case strings.HasPrefix(name, "V4aPresign/"):
		return "V4aBaseline/reset/Presign"
	}
	return ""
}

// TestV4aReport turns the output of the V4a benchmarks into the markdown
// tables of RESULTS.md' SigV4a section (medians, reset subtracted, ratios):
//
//	go test -count=1 -run '^TestV4aReport$' ./bench/ -args -raw=out/v4a-raw.txt [-table=out/v4a-table.md]
func TestV4aReport(t *testing.T) {
	if *rawFlag == "" {
		t.Skip("no -raw benchmark output given")
	}
	st, counts, err := parseBench(*rawFlag)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) stat {
		s, ok := st[name]
		if !ok {
			t.Fatalf("no benchmark %s in %s", name, *rawFlag)
		}
		return s
	}
	net := func(name string) float64 {
		if base := v4aBaselineOf(name); base != "" {
			return get(name).ns - get(base).ns
		}
		return get(name).ns
	}
	var b strings.Builder
	signFloor, verifyFloor := get("V4aFloor/SignASN1"), get("V4aFloor/VerifyASN1")
	fmt.Fprintf(&b, "| benchmark | ns/op (median of %d) | min–max | net ns/op | B/op | allocs/op | net / floor | target | vs smithy-go |\n", counts["V4aFloor/SignASN1"])
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range []struct{ name, floor, target, competitor string }{
		{"V4aBaseline/reset/S3GET", "", "", ""},
		{"V4aBaseline/reset/Presign", "", "", ""},
		{"V4aBaseline/reset/PresignSmithy", "", "", ""},
		{"V4aFloor/SignASN1", "", "", ""},
		{"V4aFloor/VerifyASN1", "", "", ""},
		{"V4aSign/S3GET/sigv4", "sign", "≤ 1.3", "V4aSign/S3GET/smithy"},
		{"V4aSign/S3GET/smithy", "sign", "", ""},
		{"V4aSign/S3GET/smithy-default-rules", "sign", "", ""},
		{"V4aPresign/S3GET/sigv4", "sign", "≤ 1.3", "V4aPresign/S3GET/smithy"},
		{"V4aPresign/S3GET/smithy", "sign", "", ""},
		{"V4aVerify/S3GET/Keyring", "verify", "≤ 1.2", ""},
		{"V4aVerify/S3GET/PublicKeyring", "verify", "≤ 1.2", ""},
		{"V4aVerify/PresignedS3GET/Keyring", "verify", "≤ 1.2", ""},
		{"V4aVerify/PresignedS3GET/PublicKeyring", "verify", "≤ 1.2", ""},
	} {
		s := get(r.name)
		ratio, vs := "–", "–"
		switch r.floor {
		case "sign":
			ratio = fmt.Sprintf("%.3f", net(r.name)/signFloor.ns)
		case "verify":
			ratio = fmt.Sprintf("%.3f", net(r.name)/verifyFloor.ns)
		}
		if r.target != "" {
			ratio = "**" + ratio + "**"
		}
		if r.competitor != "" {
			vs = fmt.Sprintf("smithy %.2f× slower", net(r.competitor)/net(r.name))
		}
		target := r.target
		if target == "" {
			target = "–"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f–%.0f | %.0f | %.0f | %.0f | %s | %s | %s |\n",
			r.name, s.ns, s.min, s.max, net(r.name), s.bytes, s.allocs, ratio, target, vs)
	}
	if *tableFlag == "" {
		fmt.Print(b.String())
		return
	}
	if err := os.WriteFile(*tableFlag, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
