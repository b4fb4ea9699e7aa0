package gateway

import (
	"bytes"
	"cmp"
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
// works, and any other request with the verified identity as JSON. It reads
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
