package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	smithysigv4 "github.com/aws/smithy-go/aws-http-auth/sigv4"
	smithyv4 "github.com/aws/smithy-go/aws-http-auth/v4"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	miniosigner "github.com/minio/minio-go/v7/pkg/signer"

	"github.com/sigv4/sigv4"
)

// The credentials of the AWS documentation examples. No session token: none
// of the three signers then adds X-Amz-Security-Token, so the work compared
// is the same.
const (
	accessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	region          = "us-east-1"
)

var (
	ourCreds = sigv4.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey}
	awsCreds = aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey}
)

// fixedTime is the signing time of every request whose signature is kept
// (floors, Verify benchmarks): Verify benchmarks run with the verifier's
// clock fixed to it.
var fixedTime = time.Date(2024, 5, 17, 12, 34, 56, 0, time.UTC)

// (a) An Amazon S3 GetObject as aws-sdk-go-v2 sends it: the headers below
// are those the SDK has put on the request when its signing middleware runs
// (the payload hash header is set by the SDK's ComputePayloadSHA256
// middleware before signing; a GET has an empty body).
const (
	s3URL = "https://examplebucket.s3.amazonaws.com/photos/2024/cat%20picture.jpg?versionId=3&x-id=GetObject"
)

func s3Headers() http.Header {
	h := make(http.Header)
	h.Set("User-Agent", "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.79.2 m/E,Z,g")
	h.Set("Amz-Sdk-Invocation-Id", "5b1e7d3c-2f0a-4c8e-9d61-3a7f2e9b4c10")
	h.Set("Amz-Sdk-Request", "attempt=1; max=3")
	h.Set("Accept-Encoding", "identity")
	h.Set("X-Amz-Checksum-Mode", "ENABLED")
	h.Set("X-Amz-Content-Sha256", sigv4.EmptySHA256)
	return h
}

// (b) A DynamoDB GetItem: a JSON POST whose payload hash the caller has
// already computed.
const dynamoURL = "https://dynamodb.us-east-1.amazonaws.com/"

var jsonBody = []byte(`{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}},"ProjectionExpression":"SongTitle, AlbumTitle, Price","ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`)

var jsonBodyHash = func() string {
	s := sha256.Sum256(jsonBody)
	return hex.EncodeToString(s[:])
}()

func jsonHeaders() http.Header {
	h := make(http.Header)
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	h.Set("User-Agent", "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#amd64 api/dynamodb#1.43.1 m/E,b")
	h.Set("Amz-Sdk-Invocation-Id", "0c9f4a3e-6d2b-4b7a-8e15-f2d7c1a9e356")
	h.Set("Amz-Sdk-Request", "attempt=1; max=3")
	h.Set("Accept-Encoding", "identity")
	return h
}

// minio-go's SignV4* take the payload hash only from the request's
// X-Amz-Content-Sha256 header (UNSIGNED-PAYLOAD when it is absent), so its
// JSON POST carries that header, which it then also signs: one more signed
// header than the other two (about 85 more canonical-request bytes).
func jsonHeadersMinio() http.Header {
	h := jsonHeaders()
	h.Set("X-Amz-Content-Sha256", jsonBodyHash)
	return h
}

// A presigned S3 GET: no headers, UNSIGNED-PAYLOAD, 15 minutes.
const presignExpires = 15 * time.Minute

// aws-sdk-go-v2's PresignHTTP takes the expiry as an X-Amz-Expires query
// parameter already on the request (the SDK's presign middleware puts it
// there), so its template query carries it.
const awsPresignQuery = "versionId=3&x-id=GetObject&X-Amz-Expires=900"

// fixture is one request reused across iterations and the template it is
// reset to before each one.
type fixture struct {
	req      *http.Request
	header   http.Header // template; its value slices are shared, never written
	rawQuery string
	host     string
}

func newFixture(tb testing.TB, method, url string, header http.Header, body []byte) *fixture {
	tb.Helper()
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(method, url, bytes.NewReader(body))
	} else {
		req, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{req: req, header: header, rawQuery: req.URL.RawQuery, host: req.Host}
	req.Header = make(http.Header, 16)
	f.reset()
	return f
}

// reset is the per-iteration reset every signer gets, identical for all:
// a shallow copy of the template header map into the request's own map
// (cleared, so no allocation once the map has grown), and the query and
// host put back. Baseline/reset measures exactly this.
func (f *fixture) reset() {
	clear(f.req.Header)
	maps.Copy(f.req.Header, f.header)
	f.req.URL.RawQuery = f.rawQuery
	f.req.Host = f.host
}

// The signers under test, configured once.
func ourS3Signer() *sigv4.Signer {
	return &sigv4.Signer{Credentials: ourCreds, Region: region, Service: "s3"}
}

func ourJSONSigner() *sigv4.Signer {
	return &sigv4.Signer{Credentials: ourCreds, Region: region, Service: "dynamodb"}
}

// aws-sdk-go-v2 signs S3 with DisableURIPathEscaping, as its S3 client does.
var (
	awsS3Signer   = awsv4.NewSigner(func(o *awsv4.SignerOptions) { o.DisableURIPathEscaping = true })
	awsJSONSigner = awsv4.NewSigner()
)

// smithy-go's aws-http-auth SigV4 signer (the newer one aws-sdk-go-v2's
// team ships on its own), for S3 as its S3 client would be set up (no
// double escaping of the path), signing what sigv4 signs (v4a_test.go's
// sigv4HeaderRules); the requests already carry X-Amz-Content-Sha256 where
// the others sign it.
var (
	smithyV4S3           = smithysigv4.New(func(o *smithyv4.SignerOptions) { o.DisableDoublePathEscape = true; o.HeaderRules = sigv4HeaderRules{} })
	smithyV4JSON         = smithysigv4.New(func(o *smithyv4.SignerOptions) { o.HeaderRules = sigv4HeaderRules{} })
	jsonBodyHashBytes, _ = hex.DecodeString(jsonBodyHash)
)

func signSmithyV4S3(req *http.Request, t time.Time) error {
	return smithyV4S3.SignRequest(&smithysigv4.SignRequestInput{Request: req, PayloadHash: emptySHA256Bytes,
		Credentials: smithyCreds, Service: "s3", Region: region, Time: t})
}

func signSmithyV4JSON(req *http.Request, t time.Time) error {
	return smithyV4JSON.SignRequest(&smithysigv4.SignRequestInput{Request: req, PayloadHash: jsonBodyHashBytes,
		Credentials: smithyCreds, Service: "dynamodb", Region: region, Time: t})
}

// presignSmithyV4 presigns awsPresignFixture's request, whose query has
// X-Amz-Expires, as smithy-go wants it.
func presignSmithyV4(req *http.Request, t time.Time) error {
	return smithyV4S3.SignRequest(&smithysigv4.SignRequestInput{Request: req, PayloadHash: smithyv4.UnsignedPayload(),
		Credentials: smithyCreds, Service: "s3", Region: region, Time: t, SignatureType: smithyv4.SignatureTypeQueryString})
}

// Signing one request with each signer: the calls the benchmarks time.

func signOursS3(s *sigv4.Signer, req *http.Request) error { return s.Sign(req) }

func signOursJSON(s *sigv4.Signer, req *http.Request) error {
	return s.SignPayload(req, jsonBodyHash)
}

func signAWSS3(req *http.Request, t time.Time) error {
	return awsS3Signer.SignHTTP(context.Background(), awsCreds, req, req.Header.Get("X-Amz-Content-Sha256"), "s3", region, t)
}

func signAWSJSON(req *http.Request, t time.Time) error {
	return awsJSONSigner.SignHTTP(context.Background(), awsCreds, req, jsonBodyHash, "dynamodb", region, t)
}

func signMinioS3(req *http.Request) *http.Request {
	return miniosigner.SignV4(*req, accessKeyID, secretAccessKey, "", region)
}

func signMinioJSON(req *http.Request) *http.Request {
	return miniosigner.SignV4WithServiceType(*req, accessKeyID, secretAccessKey, "", region, "dynamodb")
}

func presignAWS(req *http.Request, t time.Time) (string, error) {
	u, _, err := awsS3Signer.PresignHTTP(context.Background(), awsCreds, req, sigv4.UnsignedPayload, "s3", region, t)
	return u, err
}

func presignMinio(req *http.Request) *http.Request {
	return miniosigner.PreSignV4(*req, accessKeyID, secretAccessKey, "", region, int64(presignExpires/time.Second))
}

// serverRequest turns a signed client request into the request a net/http
// server hands its handler: written to the wire and parsed back, so that
// RequestURI, Host, the canonicalized header map, ContentLength and Body
// are exactly what Verify sees in production.
func serverRequest(tb testing.TB, req *http.Request, body []byte) *http.Request {
	tb.Helper()
	out := req.Clone(context.Background())
	if body != nil {
		out.Body = readCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
	}
	var wire bytes.Buffer
	if err := out.Write(&wire); err != nil {
		tb.Fatal(err)
	}
	sreq, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		tb.Fatal(err)
	}
	return sreq
}

// presignedServerRequest is serverRequest for a presigned URL: a plain GET
// of the URL with no other header than Host.
func presignedServerRequest(tb testing.TB, url string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return serverRequest(tb, req, nil)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func readCloser(r *bytes.Reader) nopCloser { return nopCloser{r} }

// rewindBody is a request body that a benchmark rewinds with no
// allocation: Verify reads and replaces the body of a request that declares
// no payload hash.
type rewindBody struct {
	bytes.Reader
}

func (*rewindBody) Close() error { return nil }

func newVerifier(now func() time.Time) *sigv4.Verifier {
	return &sigv4.Verifier{
		Keys:     sigv4.NewKeyring(ourCreds),
		Regions:  []string{region},
		Services: []string{"s3", "dynamodb"},
		Now:      now,
	}
}

// captured is what sigv4 hashes for one request, captured with
// Signer.Debug: the floors hash exactly these bytes.
type captured struct {
	canonicalRequest, stringToSign string
	signingKey                     sigv4.SigningKey
	authorization                  string // the header Sign added, if any
}

func capture(tb testing.TB, s *sigv4.Signer, req *http.Request, sign func(*sigv4.Signer) error) captured {
	tb.Helper()
	var c captured
	s.Now = func() time.Time { return fixedTime }
	s.Debug = func(cr, sts string) { c.canonicalRequest, c.stringToSign = cr, sts }
	if err := sign(s); err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(c.stringToSign, "\n")
	scope := strings.Split(lines[2], "/")
	c.signingKey = sigv4.DeriveSigningKey(secretAccessKey, sigv4.Scope{Date: scope[0], Region: scope[1], Service: scope[2]})
	c.authorization = req.Header.Get("Authorization")
	return c
}
