package gateway

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// whoami is the upstream of a gateway without one, reached in process. It
// answers STS GetCallerIdentity as AWS does, so that
//
//	aws sts get-caller-identity --endpoint-url http://127.0.0.1:8080
//
// works; S3 ListBuckets (GET /) with no bucket and the verified owner, so
// that "aws s3 ls" does; and any other request with the verified identity
// as JSON. It reads
// every body to its end, so that a body that fails to verify fails the
// request.
type whoami struct{}

var _ http.RoundTripper = whoami{}

// defaultAccount is the account of a principal that is not an ARN.
const defaultAccount = "000000000000"

// maxFormBody bounds the form of a GetCallerIdentity POST.
const maxFormBody = 64 << 10

func (whoami) RoundTrip(req *http.Request) (*http.Response, error) {
	var form []byte
	if req.Body != nil {
		defer req.Body.Close()
		var err error
		if form, err = io.ReadAll(io.LimitReader(req.Body, maxFormBody)); err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return nil, err
		}
	}
	id := callerOf(req.Header.Get(HeaderAccessKey), req.Header.Get(HeaderPrincipal))
	requestID := req.Header.Get(HeaderRequestID)
	if action(req, form) == "GetCallerIdentity" {
		return reply(req, "text/xml", id.stsResponse(requestID)), nil
	}
	if isListBuckets(req) {
		return id.listBuckets(req), nil
	}
	body, _ := json.Marshal(id) // strings always marshal
	return reply(req, "application/json", append(body, '\n')), nil
}

// action is the Action of an AWS query protocol request, in its query or
// its form.
func action(req *http.Request, form []byte) string {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); req.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(form)); err == nil && v.Has("Action") {
			return v.Get("Action")
		}
	}
	v, _ := url.ParseQuery(req.URL.RawQuery)
	return v.Get("Action")
}

func reply(req *http.Request, contentType string, body []byte) *http.Response {
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {contentType},
			"Content-Length": {strconv.Itoa(len(body))},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// caller is the verified identity as whoami tells it.
type caller struct {
	AccessKeyID string `json:"AccessKeyId"`
	Principal   string `json:"Principal,omitempty"`
	Arn         string `json:"Arn"`
	Account     string `json:"Account"`
	UserID      string `json:"UserId"`
}

// callerOf describes an access key and its principal as STS would: the
// principal if it is an ARN (with its account), else an IAM user of that
// name (or of the access key's) in account 000000000000.
func callerOf(accessKeyID, principal string) caller {
	c := caller{AccessKeyID: accessKeyID, Principal: principal, UserID: accessKeyID, Account: defaultAccount}
	if parts := strings.SplitN(principal, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		c.Arn = principal
		if isAccountID(parts[4]) {
			c.Account = parts[4]
		}
		return c
	}
	c.Arn = "arn:aws:iam::" + defaultAccount + ":user/" + cmp.Or(principal, accessKeyID)
	return c
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// stsResponse is the GetCallerIdentity answer of AWS STS.
func (c caller) stsResponse(requestID string) []byte {
	var r getCallerIdentityResponse
	r.Result.Arn, r.Result.UserID, r.Result.Account = c.Arn, c.UserID, c.Account
	r.RequestID = requestID
	out, _ := xml.MarshalIndent(r, "", "  ") // strings always marshal
	return append(out, '\n')
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   struct {
		ID          string
		DisplayName string
	}
	Buckets struct{}
}

// listBuckets is S3's ListBuckets answer from a service that holds no
// bucket: none, owned by the caller (its canonical ID derived from its ARN).
func (c caller) listBuckets(req *http.Request) *http.Response {
	var r listAllMyBucketsResult
	sum := sha256.Sum256([]byte(c.Arn))
	r.Owner.ID, r.Owner.DisplayName = hex.EncodeToString(sum[:]), c.name()
	out, _ := xml.Marshal(r) // strings always marshal
	return reply(req, "application/xml", append([]byte(xml.Header), out...))
}

// isListBuckets reports whether req is S3's ListBuckets: GET / signed for s3.
func isListBuckets(req *http.Request) bool {
	return req.Header.Get(HeaderService) == "s3" && req.Method == http.MethodGet && req.URL.Path == "/" &&
		!strings.Contains(req.URL.RawQuery, "Action=")
}

// name is the caller's name: the last part of its ARN.
func (c caller) name() string {
	if i := strings.LastIndexAny(c.Arn, "/:"); i >= 0 {
		return c.Arn[i+1:]
	}
	return c.Arn
}
