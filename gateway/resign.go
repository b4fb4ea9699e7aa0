package gateway

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
)

// Signing is how the gateway signs again what it forwards to an upstream
// that checks signatures of its own (an S3-compatible server, an AWS
// service): the client's signature is verified and removed, and the
// upstream receives a request signed with the upstream's credentials,
// which clients never see. The gateway is then an access-key broker:
// clients hold only the keys it issues.
type Signing struct {
	// Credentials are the upstream's. They are asked for at every request,
	// so that a provider may refresh temporary credentials (see
	// AWSCredentials). Required.
	Credentials CredentialsProvider
	// ByIdentity, if set, gives other upstream credentials to some of the
	// gateway's principals or access keys: each team its own upstream
	// identity. It is looked up by the verified Identity's Principal, then
	// its AccessKeyID; anyone else signs with Credentials.
	ByIdentity map[string]CredentialsProvider
	// Region is the region signed for (default: the region of the
	// verified request; us-east-1 for SigV4a and SigV2 requests, which
	// name none). The service is always the verified request's.
	Region string
	// IdentityHeaders sends the X-Sigv4-* identity headers too. Without
	// it, an upstream with credentials does not get them: an S3 server may
	// store them with an object, or refuse them.
	IdentityHeaders bool
	// UnsignedStreaming sends a streamed (aws-chunked) upload on, decoded,
	// as UNSIGNED-PAYLOAD, when the upstream is https; otherwise it goes
	// as an aws-chunked stream signed chunk by chunk, with the client's
	// trailing checksum algorithm.
	UnsignedStreaming bool
}

// CredentialsProvider gives the credentials the gateway signs with.
type CredentialsProvider interface {
	Retrieve(ctx context.Context) (sigv4.Credentials, error)
}

// StaticCredentials is a CredentialsProvider of fixed credentials.
type StaticCredentials sigv4.Credentials

// Retrieve implements CredentialsProvider.
func (c StaticCredentials) Retrieve(context.Context) (sigv4.Credentials, error) {
	return sigv4.Credentials(c), nil
}

// AWSCredentials adapts an aws-sdk-go-v2 credentials provider (the
// default chain of config.LoadDefaultConfig, an assumed role...), cached
// and refreshed before it expires by aws.CredentialsCache.
func AWSCredentials(p aws.CredentialsProvider) CredentialsProvider {
	if _, ok := p.(*aws.CredentialsCache); !ok {
		p = aws.NewCredentialsCache(p)
	}
	return awsCredentials{p}
}

type awsCredentials struct{ p aws.CredentialsProvider }

func (a awsCredentials) Retrieve(ctx context.Context) (sigv4.Credentials, error) {
	c, err := a.p.Retrieve(ctx)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	return sigv4.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

// resigner signs outbound requests for one route.
type resigner struct {
	Signing
	mu      sync.Mutex
	signers map[signerKey]*sigv4.Signer
}

type signerKey struct {
	creds           sigv4.Credentials
	region, service string
	regionSet       string // SigV4a: the regions, comma-separated
	unsigned        bool
}

// maxSigners bounds the signers kept: one per credentials, region and
// service in use.
const maxSigners = 64

func newResigner(s *Signing) (*resigner, error) {
	if s == nil {
		return nil, nil
	}
	if s.Credentials == nil {
		return nil, errors.New("gateway: Signing.Credentials is required")
	}
	return &resigner{Signing: *s, signers: map[signerKey]*sigv4.Signer{}}, nil
}

// signer returns the Signer of k, made once: it caches its signing key
// for the day.
func (r *resigner) signer(k signerKey) *sigv4.Signer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.signers[k]; ok {
		return s
	}
	if len(r.signers) >= maxSigners {
		clear(r.signers) // credentials rotated many times: start again
	}
	s := &sigv4.Signer{Credentials: k.creds, Region: k.region, Service: k.service, UnsignedPayload: k.unsigned}
	if k.regionSet != "" {
		s.Region, s.RegionSet = "", strings.Split(k.regionSet, ",")
	}
	r.signers[k] = s
	return s
}

// errSigning is a failure to sign for the upstream: its credentials could
// not be had. It is the gateway's fault, answered 502.
type errSigning struct{ err error }

func (e *errSigning) Error() string { return "signing for the upstream: " + e.err.Error() }
func (e *errSigning) Unwrap() error { return e.err }

// sign signs req, the outbound request of the verified res, with the
// upstream's credentials. in is the client's request, for the trailer
// it announced.
func (r *resigner) sign(req *http.Request, res *sigv4.Result, in http.Header) error {
	creds, err := r.providerFor(res.Identity).Retrieve(req.Context())
	if err != nil {
		return &errSigning{err}
	}
	if !r.IdentityHeaders {
		for name := range req.Header {
			if isIdentityHeader(name) {
				delete(req.Header, name)
			}
		}
	}
	req.Header.Del(sigv4.HeaderContentSHA256)
	k := signerKey{creds: creds, region: cmp.Or(r.Region, res.Scope.Region, "us-east-1"), service: res.Scope.Service}
	switch hash := res.PayloadHash; {
	case streaming(hash) && !(r.UnsignedStreaming && req.URL.Scheme == "https"):
		opts := chunked.Options{Checksum: trailerAlgorithm(in)}
		if err := chunked.Sign(r.signer(k), req, opts); err != nil {
			return &errSigning{err}
		}
		return nil
	case req.ContentLength == 0 && (req.Body == nil || req.Body == http.NoBody):
		return r.signer(k).SignPayload(req, sigv4.EmptySHA256)
	case streaming(hash) || hash == sigv4.UnsignedPayload:
		k.unsigned = true
		return r.signer(k).SignPayload(req, sigv4.UnsignedPayload)
	default:
		// A hex SHA-256 the verifier checked (or computed) of this very
		// body: no second hash.
		return r.signer(k).SignPayload(req, hash)
	}
}

// providerFor returns the upstream credentials of a verified identity.
func (r *resigner) providerFor(id sigv4.Identity) CredentialsProvider {
	if p, ok := r.ByIdentity[id.Principal]; ok && id.Principal != "" {
		return p
	}
	if p, ok := r.ByIdentity[id.AccessKeyID]; ok {
		return p
	}
	return r.Credentials
}

// trailerAlgorithm is the checksum of the client's trailer
// ("x-amz-checksum-crc32" gives "CRC32"), or "".
func trailerAlgorithm(h http.Header) string {
	for _, t := range strings.Split(h.Get(sigv4.HeaderTrailer), ",") {
		if a, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(t)), "x-amz-checksum-"); ok {
			return strings.ToUpper(a)
		}
	}
	return ""
}

// upstreamAuthCodes are the errors with which an upstream refuses the
// gateway's own signature: the gateway's fault, not the client's.
var upstreamAuthCodes = []string{
	"SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature", "InvalidAccessKeyId",
	"UnrecognizedClientException", "AuthorizationHeaderMalformed", "InvalidClientTokenId", "ExpiredToken",
	"RequestTimeTooSkewed", "AccessDenied", "XAmzContentSHA256Mismatch",
}

// maxErrorPeek bounds what is read of an upstream's error body to tell
// whether it refused the gateway's signature.
const maxErrorPeek = 64 << 10

// upstreamRefusedSignature reads the code of an upstream's 400 or 403
// answer; if it refuses the gateway's signature, it returns the code,
// else it puts back what it read.
func upstreamRefusedSignature(resp *http.Response) string {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
		return ""
	}
	peek, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	if err != nil {
		return ""
	}
	code := errorCode(peek)
	if code == "AccessDenied" && !bytes.Contains(peek, []byte("ignature")) {
		return "" // a policy's refusal, not the signature's: the client's to see
	}
	for _, c := range upstreamAuthCodes {
		if code == c {
			return code
		}
	}
	return ""
}

// errorCode reads the code of an AWS error body: <Code> in XML, __type
// (after any '#') or code in JSON.
func errorCode(b []byte) string {
	if _, rest, ok := bytes.Cut(b, []byte("<Code>")); ok {
		code, _, _ := bytes.Cut(rest, []byte("</Code>"))
		return string(bytes.TrimSpace(code))
	}
	for _, key := range []string{`"__type"`, `"code"`, `"Code"`} {
		if _, rest, ok := bytes.Cut(b, []byte(key)); ok {
			_, rest, _ = bytes.Cut(rest, []byte(`"`))
			v, _, _ := bytes.Cut(rest, []byte(`"`))
			s := string(v)
			if i := strings.LastIndexByte(s, '#'); i >= 0 {
				s = s[i+1:]
			}
			return s
		}
	}
	return ""
}

// errUpstreamAuth answers a request whose outbound signature the upstream
// refused. The upstream's own answer (its canonical request, say) is not
// the client's business.
func errUpstreamAuth(code string) *sigv4.Error {
	return &sigv4.Error{Code: errBadGateway.Code, Status: http.StatusBadGateway,
		Message: "The service behind the gateway refused the gateway's own signature (" + code + "). " +
			"Your request was accepted; the gateway's upstream credentials or region are wrong.",
		Err: fmt.Errorf("the upstream refused the gateway's signature: %s", code)}
}
