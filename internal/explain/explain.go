// Package explain says why a server answered SignatureDoesNotMatch: it
// computes the canonical request and string to sign of the request as sent,
// as a correct server does (with the signer's and verifier's own
// canonicalization), sets them beside the server's, names the first
// difference and the fix, and, with the signer's secret, finds what the
// client signed instead. The command line's "sigv4 explain" and the
// debugger page share it.
//
//	r, err := explain.Explain(explain.Input{Request: trace, Credentials: lookup})
//	if err == nil {
//		r.WriteText(os.Stdout)
//	}
package explain

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/canonical"
)

// Input is what explain is given.
type Input struct {
	// Request is the request as it was sent: the raw request, what curl -v
	// or sigv4 curl -v printed (with 2>&1, the answer too), or a HAR file.
	Request []byte
	// Entry picks a HAR file's entry, from 1 (0: the last signed one that
	// failed).
	Entry int
	// Body is the request's body where Request holds none (curl -v does
	// not show it); nil keeps Request's.
	Body []byte
	// Error is the server's answer (its body, or the whole response);
	// nil takes the answer Request holds, if any.
	Error []byte
	// Region and Service are what the server expects, if known.
	Region, Service string
	// S3 says the server applies Amazon S3's path rules (implied by
	// Service s3).
	S3 bool
	// OmitSessionToken says the server takes a session token added after
	// signing, unsigned, as some services do. Without it, a request whose
	// token is not signed is explained as such a server would, with a note.
	OmitSessionToken bool
	// Credentials returns the credentials found for the request's access
	// key: ErrNoCredentials when there are none. Nil: none are looked up,
	// and the signature itself is not checked.
	Credentials func(accessKeyID string) (Credentials, error)
	// Signs, where the secret is held elsewhere (the debugger page's
	// browser), says whether the request's signature is the signature of
	// a string to sign; it takes the place of Credentials. Candidates
	// lists the strings to sign it is asked about.
	Signs func(stringToSign string) bool
	// InferScope tells the service and region a host name implies, if
	// any; nil: none are inferred.
	InferScope func(host string) (service, region string)
}

// Credentials are a signer's.
type Credentials struct{ AccessKeyID, SecretAccessKey, SessionToken string }

// ErrNoCredentials is what Input.Credentials returns when none are found.
var ErrNoCredentials = errors.New("explain: no credentials found")

// Explain explains in.
func Explain(in Input) (*Report, error) {
	c, err := parseCapture(in.Request, in.Entry)
	if err != nil {
		return nil, err
	}
	if in.Body != nil {
		c.file.Body = in.Body
	}
	sent, err := parseSent(c.file)
	if err != nil {
		return nil, err
	}
	r := &Report{sent: sent, notes: c.notes}
	if in.Error != nil {
		if r.server, err = parseServerError(in.Error); err != nil {
			return nil, fmt.Errorf("the server's answer: %w", err)
		}
	} else {
		r.server = r.capturedError(c)
	}
	if r.server != nil && !r.server.mismatch() {
		r.result = otherCodeFinding(r.server, sent)
		return r, nil
	}
	s3 := in.S3 || in.Service == "s3"
	ours, refusal, err := recompute(sent, s3, in.OmitSessionToken)
	if err == nil && refusal != nil && !in.OmitSessionToken && sent.unsignedToken() {
		r.note("The session token was added after signing, not signed: only a server that takes it so (Verifier.OmitSessionToken) accepts this request; it is explained as such a server does.")
		ours, refusal, err = recompute(sent, s3, true)
	}
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		r.result = refusalFinding(refusal, sent)
		return r, nil
	}
	signs := in.Signs
	if signs == nil {
		secret, err := r.secret(in.Credentials)
		if err != nil {
			return nil, err
		}
		if secret != "" {
			provided := sent.auth.Signature
			signs = func(sts string) bool { return signatureOf(secret, sts) == provided }
			r.secretKey = secret
		}
	}
	x, err := newContext(sent, ours, in.Service)
	if err != nil {
		return nil, err
	}
	r.scopeHint = scopeHint(sent, in)
	r.analyze(x, ours, signs)
	return r, nil
}

// Candidates are the strings to sign that explaining in may ask
// Input.Signs about: a page that holds the secret signs each, and
// explains again with a Signs that knows which the signature is.
func Candidates(in Input) ([]string, error) {
	var asked []string
	in.Signs = func(sts string) bool {
		if !slices.Contains(asked, sts) {
			asked = append(asked, sts)
		}
		return false
	}
	in.Credentials = nil
	_, err := Explain(in)
	return asked, err
}

// SignsAmong is an Input.Signs for a holder of the secret that signed the
// Candidates and answered with the SHA-256 (hex) of those the request's
// signature signs.
func SignsAmong(hashes []string) func(stringToSign string) bool {
	return func(sts string) bool { return slices.Contains(hashes, hashHex(sts)) }
}

// capturedError is the server's error from the answer in a trace or HAR
// file, if it holds one.
func (r *Report) capturedError(c *capture) *serverError {
	if c.status < 300 {
		return nil
	}
	if len(c.answer) == 0 {
		r.note(fmt.Sprintf("The server answered %d without a body (as to HEAD): without its canonical request, explain checks the signature against the credentials found here.", c.status))
		return nil
	}
	e, err := parseServerError(c.answer)
	if err != nil {
		r.note(fmt.Sprintf("The server answered %d, but its body is not an error explain reads (%v).", c.status, err))
		return nil
	}
	return e
}

func newContext(sent *sentRequest, ours signing, service string) (*explainContext, error) {
	c, ok := parseCreq(ours.creq)
	if !ok {
		return nil, fmt.Errorf("cannot read our own canonical request:\n%s", ours.creq)
	}
	if service == "" {
		service = sent.auth.Credential.Service
	}
	// Whether S3's path rules applied shows in the result: that way the
	// list of S3 service names stays in the library alone.
	s3 := c.path != string(canonical.AppendURI(nil, sent.path, false))
	return &explainContext{sent: sent, ours: c, s3: s3, service: service}, nil
}

// secret returns the secret access key of the request's access key, or ""
// when the signature cannot be checked but the server's error can still
// be compared with ours.
func (r *Report) secret(lookup func(string) (Credentials, error)) (string, error) {
	akid := r.sent.auth.Credential.AccessKeyID
	comparable := r.server.computed()
	if lookup == nil {
		if comparable {
			r.note("No secret was given, so the signature itself is not checked.")
		}
		return "", nil
	}
	creds, err := lookup(akid)
	switch {
	case err != nil && comparable && errors.Is(err, ErrNoCredentials):
		r.note("No credentials were found, so the signature itself is not checked: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile, for access key " + akid + ".")
		return "", nil
	case err != nil:
		return "", err
	case creds.AccessKeyID != akid && comparable:
		r.note(fmt.Sprintf("The request was signed with access key %s; the credentials found are for %s, so the signature itself is not checked: choose %s's with --profile or AWS_ACCESS_KEY_ID.", akid, creds.AccessKeyID, akid))
		return "", nil
	case creds.AccessKeyID != akid:
		return "", fmt.Errorf("the request was signed with access key %s, but the credentials found are for %s: choose %s's with --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", akid, creds.AccessKeyID, akid)
	}
	r.tokenNote(creds.SessionToken)
	return creds.SecretAccessKey, nil
}

// scopeHint is a finding when the region or service the server expects,
// from the input or the host name, is not the one the request was signed
// for: a reason a correctly signed request is refused.
func scopeHint(sent *sentRequest, in Input) *finding {
	c := sent.auth.Credential
	region, source := in.Region, "--region"
	hostRegion := ""
	if in.InferScope != nil {
		_, hostRegion = in.InferScope(sent.host())
	}
	if region == "" && hostRegion != "" && strings.Contains(sent.host(), hostRegion) {
		// Only a region the host names: a global endpoint is taken to be
		// us-east-1, and a service's signing name is often not its host
		// label (email is ses), so neither is evidence against the
		// request's scope.
		region, source = hostRegion, "the host name"
	}
	switch {
	case region != "" && region != c.Region:
		return &finding{
			cause: fmt.Sprintf("The request was signed for region %s, but the server is in %s (%s).", c.Region, region, source),
			fix:   fmt.Sprintf("Sign for %s: --region %s, AWS_REGION, or the profile's region.", region, region),
		}
	case in.Service != "" && in.Service != c.Service:
		return &finding{
			cause: fmt.Sprintf("The request was signed for service %s, but the server is %s (--service).", c.Service, in.Service),
			fix:   fmt.Sprintf("Sign with the signing name of the service: --service %s.", in.Service),
		}
	}
	return nil
}

// otherCodeFinding explains the errors that are not about what was
// signed, which servers answer before they compare signatures.
func otherCodeFinding(e *serverError, sent *sentRequest) finding {
	c := sent.auth.Credential
	switch e.Code {
	case "RequestTimeTooSkewed":
		at := ""
		if e.ServerTime != "" {
			at = ", which said " + e.ServerTime
		}
		return finding{
			cause: fmt.Sprintf("The server refused the request's time, not its signature: X-Amz-Date %s is too far from the server's clock%s.", sent.amzDate, at),
			fix:   "Set the client's clock by NTP, and sign just before sending.",
		}
	case "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError":
		if e.Region != "" && e.Region != c.Region {
			return finding{
				cause: fmt.Sprintf("The server used region %s; the request was signed for region %s, and the server says so before checking the signature.", e.Region, c.Region),
				fix:   fmt.Sprintf("Sign for %s: --region %s, AWS_REGION, or the profile's region.", e.Region, e.Region),
			}
		}
	case "InvalidAccessKeyId":
		return finding{
			cause: fmt.Sprintf("The server does not know access key %s: the signature was never compared.", c.AccessKeyID),
			fix:   "Check that the credentials belong to this endpoint (the account, the partition, an S3-compatible server's own keys) and that the key is active.",
		}
	case "XAmzContentSHA256Mismatch":
		return finding{
			cause: "The signature matched, but the body's SHA-256 is not the x-amz-content-sha256 the request declared.",
			fix:   "Hash exactly the bytes sent, after any encoding; or declare UNSIGNED-PAYLOAD.",
		}
	case "ExpiredToken", "InvalidToken":
		return finding{
			cause: "The server refused the session token: " + e.Message,
			fix:   "Get fresh temporary credentials and sign again with their token.",
		}
	}
	return finding{
		cause: fmt.Sprintf("The server answered %s, not SignatureDoesNotMatch: %s", e.Code, e.Message),
		fix:   "explain compares signatures; this error is about something else: fix what its message names.",
	}
}

// refusalFinding explains why a correct server refuses the request before
// it computes a canonical request at all.
func refusalFinding(e *sigv4.Error, sent *sentRequest) finding {
	if c := sent.auth.Credential; c.Date != sent.amzDate[:8] {
		return finding{
			cause: fmt.Sprintf("The request was signed for another date: its credential scope says %s, its X-Amz-Date %s.", c.Date, sent.amzDate),
			fix:   "Take the scope date and X-Amz-Date from one timestamp, in UTC: a client that formats the scope date in local time signs for the wrong day around midnight.",
		}
	}
	return finding{
		cause: fmt.Sprintf("A server following AWS's rules refuses this request before it checks the signature: %s: %s", e.Code, e.Message),
		fix:   "Fix what the message names, then sign again.",
	}
}
