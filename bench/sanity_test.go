package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"

	"github.com/sigv4/sigv4"
)

// TestCompetitorsVerify checks that every signature the benchmarks compute,
// by every signer, is one our Verifier accepts (so that the benchmarks
// compare equivalent work), and that the payload hash each one signed
// matches the body.
func TestCompetitorsVerify(t *testing.T) {
	type signed struct {
		req  *http.Request // server side
		body []byte
	}
	cases := []struct {
		name string
		sign func(t *testing.T) signed
	}{
		{"S3GET/sigv4", func(t *testing.T) signed {
			f := s3Fixture(t)
			must(t, signOursS3(ourS3Signer(), f.req))
			return signed{serverRequest(t, f.req, nil), nil}
		}},
		{"S3GET/awsv2", func(t *testing.T) signed {
			f := s3Fixture(t)
			must(t, signAWSS3(f.req, time.Now()))
			return signed{serverRequest(t, f.req, nil), nil}
		}},
		{"S3GET/minio", func(t *testing.T) signed {
			f := s3Fixture(t)
			return signed{serverRequest(t, signMinioS3(f.req), nil), nil}
		}},
		{"S3GET/smithy", func(t *testing.T) signed {
			f := s3Fixture(t)
			must(t, signSmithyV4S3(f.req, time.Now()))
			return signed{serverRequest(t, f.req, nil), nil}
		}},
		{"JSONPOST/sigv4", func(t *testing.T) signed {
			f := jsonFixture(t)
			must(t, signOursJSON(ourJSONSigner(), f.req))
			return signed{serverRequest(t, f.req, jsonBody), jsonBody}
		}},
		{"JSONPOST/awsv2", func(t *testing.T) signed {
			f := jsonFixture(t)
			must(t, signAWSJSON(f.req, time.Now()))
			return signed{serverRequest(t, f.req, jsonBody), jsonBody}
		}},
		{"JSONPOST/minio", func(t *testing.T) signed {
			f := jsonFixtureMinio(t)
			return signed{serverRequest(t, signMinioJSON(f.req), jsonBody), jsonBody}
		}},
		{"JSONPOST/smithy", func(t *testing.T) signed {
			f := jsonFixture(t)
			must(t, signSmithyV4JSON(f.req, time.Now()))
			return signed{serverRequest(t, f.req, jsonBody), jsonBody}
		}},
		{"Presign/S3GET/sigv4", func(t *testing.T) signed {
			f := presignFixture(t)
			must(t, ourS3Signer().Presign(f.req, presignExpires))
			return signed{presignedServerRequest(t, f.req.URL.String()), nil}
		}},
		{"Presign/S3GET/awsv2", func(t *testing.T) signed {
			f := awsPresignFixture(t)
			u, err := presignAWS(f.req, time.Now())
			must(t, err)
			return signed{presignedServerRequest(t, u), nil}
		}},
		{"Presign/S3GET/smithy", func(t *testing.T) signed {
			f := awsPresignFixture(t)
			must(t, presignSmithyV4(f.req, time.Now()))
			return signed{presignedServerRequest(t, f.req.URL.String()), nil}
		}},
		{"Presign/S3GET/minio", func(t *testing.T) signed {
			f := presignFixture(t)
			return signed{presignedServerRequest(t, presignMinio(f.req).URL.String()), nil}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.sign(t)
			res, err := newVerifier(nil).Verify(s.req)
			if err != nil {
				var e *sigv4.Error
				if errors.As(err, &e) && e.CanonicalRequest != "" {
					t.Logf("verifier's canonical request:\n%s\nstring to sign:\n%s", e.CanonicalRequest, e.StringToSign)
				}
				t.Fatalf("rejected: %v\nrequest: %s %s\nheaders: %v", err, s.req.Method, s.req.RequestURI, s.req.Header)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if string(got) != string(s.body) {
				t.Fatalf("body changed: %q", got)
			}
			t.Logf("accepted: presigned=%v signed headers %q, payload %s", res.Presigned, res.SignedHeaders, res.PayloadHash)
		})
	}
}

// TestSameSignatureAsAWS checks, beyond acceptance, that sigv4 and
// aws-sdk-go-v2 compute byte-identical signatures where they sign the same
// headers: same work, same result.
func TestSameSignatureAsAWS(t *testing.T) {
	t.Run("S3GET", func(t *testing.T) {
		ours, theirs := s3Fixture(t), s3Fixture(t)
		s := ourS3Signer()
		s.Now = fixedNow
		must(t, s.Sign(ours.req))
		must(t, signAWSS3(theirs.req, fixedTime))
		if a, b := ours.req.Header.Get("Authorization"), theirs.req.Header.Get("Authorization"); a != b {
			t.Fatalf("Authorization differs:\nsigv4: %s\nawsv2: %s", a, b)
		}
	})
	t.Run("Presign/S3GET", func(t *testing.T) {
		ours, theirs := presignFixture(t), awsPresignFixture(t)
		s := ourS3Signer()
		s.Now = fixedNow
		must(t, s.Presign(ours.req, presignExpires))
		u, err := presignAWS(theirs.req, fixedTime)
		must(t, err)
		pu, err := url.Parse(u)
		must(t, err)
		a, b := ours.req.URL.Query().Get("X-Amz-Signature"), pu.Query().Get("X-Amz-Signature")
		if a != b {
			t.Fatalf("X-Amz-Signature differs: sigv4 %s, awsv2 %s", a, b)
		}
	})
	// aws-sdk-go-v2 signs content-length whenever ContentLength > 0; sigv4
	// signs only the headers in the header map. The signatures then differ
	// by design; check that this is the only difference.
	t.Run("JSONPOST", func(t *testing.T) {
		ours, theirs := jsonFixture(t), jsonFixture(t)
		s := ourJSONSigner()
		s.Now = fixedNow
		var ourCR string
		s.Debug = func(cr, _ string) { ourCR = cr }
		must(t, s.SignPayload(ours.req, jsonBodyHash))
		var log strings.Builder
		must(t, awsJSONSigner.SignHTTP(context.Background(), awsCreds, theirs.req, jsonBodyHash, "dynamodb", region, fixedTime,
			func(o *awsv4.SignerOptions) {
				o.LogSigning = true
				o.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
					fmt.Fprintf(&log, format, v...)
				})
			}))
		awsCR := between(log.String(), "---[ CANONICAL STRING  ]-----------------------------\n", "\n---[ STRING TO SIGN ]")
		withoutCL := strings.Replace(strings.Replace(awsCR, "content-length:"+fmt.Sprint(len(jsonBody))+"\n", "", 1), "content-length;", "", 1)
		if withoutCL != ourCR {
			t.Fatalf("canonical requests differ beyond content-length:\nsigv4:\n%s\nawsv2:\n%s", ourCR, awsCR)
		}
		t.Logf("aws-sdk-go-v2 also signs content-length: %q", awsSignedHeaders(theirs.req))
	})
}

func awsSignedHeaders(req *http.Request) string {
	return between(req.Header.Get("Authorization")+",", "SignedHeaders=", ",")
}

func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
}

// TestResetRestoresTemplate checks the benchmarks' fairness assumptions:
// after any signer has run, reset puts the request back to its template,
// and no signer writes into the template's shared value slices.
func TestResetRestoresTemplate(t *testing.T) {
	ops := []struct {
		name    string
		fixture func(testing.TB) *fixture
		fresh   func() http.Header
		op      func(f *fixture) error
	}{
		{"S3GET/sigv4", s3Fixture, s3Headers, func(f *fixture) error { return signOursS3(ourS3Signer(), f.req) }},
		{"S3GET/awsv2", s3Fixture, s3Headers, func(f *fixture) error { return signAWSS3(f.req, time.Now()) }},
		{"S3GET/minio", s3Fixture, s3Headers, func(f *fixture) error { signMinioS3(f.req); return nil }},
		{"S3GET/smithy", s3Fixture, s3Headers, func(f *fixture) error { return signSmithyV4S3(f.req, time.Now()) }},
		{"JSONPOST/sigv4", jsonFixture, jsonHeaders, func(f *fixture) error { return signOursJSON(ourJSONSigner(), f.req) }},
		{"JSONPOST/awsv2", jsonFixture, jsonHeaders, func(f *fixture) error { return signAWSJSON(f.req, time.Now()) }},
		{"JSONPOST/minio", jsonFixtureMinio, jsonHeadersMinio, func(f *fixture) error { signMinioJSON(f.req); return nil }},
		{"JSONPOST/smithy", jsonFixture, jsonHeaders, func(f *fixture) error { return signSmithyV4JSON(f.req, time.Now()) }},
		{"Presign/sigv4", presignFixture, emptyHeader, func(f *fixture) error { return ourS3Signer().Presign(f.req, presignExpires) }},
		{"Presign/awsv2", awsPresignFixture, emptyHeader, func(f *fixture) error { _, err := presignAWS(f.req, time.Now()); return err }},
		{"Presign/smithy", awsPresignFixture, emptyHeader, func(f *fixture) error { return presignSmithyV4(f.req, time.Now()) }},
		{"Presign/minio", presignFixture, emptyHeader, func(f *fixture) error { presignMinio(f.req); return nil }},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			f := o.fixture(t)
			query := f.rawQuery
			for range 3 {
				must(t, o.op(f))
				f.reset()
			}
			want := o.fresh()
			if !reflect.DeepEqual(map[string][]string(f.header), map[string][]string(want)) {
				t.Fatalf("template modified: %v", f.header)
			}
			if !reflect.DeepEqual(map[string][]string(f.req.Header), map[string][]string(want)) || f.req.URL.RawQuery != query {
				t.Fatalf("reset left %v ?%s", slices.Sorted(maps.Keys(f.req.Header)), f.req.URL.RawQuery)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func emptyHeader() http.Header { return http.Header{} }
