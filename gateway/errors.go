package gateway

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/sigv4/sigv4"
)

// s3Error is an error as Amazon S3 writes it. For SignatureDoesNotMatch it
// carries what the server computed, as S3 returns it: what the client sent
// and the server's canonical form of it, nothing secret.
type s3Error struct {
	XMLName           xml.Name `xml:"Error"`
	Code              string
	Message           string
	AWSAccessKeyID    string `xml:"AWSAccessKeyId,omitempty"`
	StringToSign      string `xml:",omitempty"`
	SignatureProvided string `xml:",omitempty"`
	CanonicalRequest  string `xml:",omitempty"`
	Region            string `xml:",omitempty"`
	RequestID         string `xml:"RequestId"`
}

// queryError is an error as the services of the AWS query protocol (STS,
// IAM, SQS, ...) write it; botocore's rest-xml parser reads it too, but
// the AWS SDKs' S3 clients read only s3Error.
type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string // Sender or Receiver
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// jsonError is an error as the services of the AWS JSON protocol write it.
type jsonError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// jsonCodes are the names the AWS JSON services (DynamoDB, KMS, ...) give
// to the verifier's errors; their SDKs know these. Other codes are sent as
// they are.
var jsonCodes = map[string]string{
	"SignatureDoesNotMatch":             "InvalidSignatureException",
	"InvalidAccessKeyId":                "UnrecognizedClientException",
	"InvalidToken":                      "UnrecognizedClientException",
	"ExpiredToken":                      "ExpiredTokenException",
	"AuthorizationHeaderMalformed":      "IncompleteSignatureException",
	"AuthorizationQueryParametersError": "IncompleteSignatureException",
	"AccessDenied":                      "AccessDeniedException",
	"InternalError":                     "InternalFailure",
}

// style is the shape of an error answer.
type style int

const (
	styleS3    style = iota // s3Error
	styleQuery              // queryError
	styleJSON               // jsonError
)

// writeError writes e as the answer to r.
func writeError(w http.ResponseWriter, r *http.Request, e *sigv4.Error, requestID string, st style) {
	status := cmp.Or(e.Status, http.StatusInternalServerError)
	msg := cmp.Or(e.Message, http.StatusText(status))
	var body []byte
	h := w.Header()
	setRequestID(h, requestID)
	switch st {
	case styleJSON:
		code := cmp.Or(jsonCodes[e.Code], e.Code)
		body, _ = json.Marshal(jsonError{Type: code, Message: msg}) // strings always marshal
		h.Set("Content-Type", jsonContentType(r))
		h.Set("X-Amzn-Errortype", code)
	case styleQuery:
		var x queryError
		x.Error.Type, x.Error.Code, x.Error.Message, x.RequestID = "Sender", e.Code, msg, requestID
		if status >= 500 {
			x.Error.Type = "Receiver"
		}
		out, _ := xml.Marshal(x) // strings always marshal
		body = append([]byte(xml.Header), out...)
		h.Set("Content-Type", "text/xml")
	default:
		x := s3Error{Code: e.Code, Message: msg, Region: e.Region, RequestID: requestID}
		if e.Code == sigv4.ErrSignatureDoesNotMatch.Code {
			x.AWSAccessKeyID, x.StringToSign = e.AccessKeyID, e.StringToSign
			x.SignatureProvided, x.CanonicalRequest = e.SignatureProvided, e.CanonicalRequest
		}
		out, _ := xml.Marshal(x) // strings always marshal
		body = append([]byte(xml.Header), out...)
		h.Set("Content-Type", "application/xml")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// jsonContentType answers in the JSON protocol version the client used.
func jsonContentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-amz-json-") {
		if v, _, _ := strings.Cut(ct, ";"); v == "application/x-amz-json-1.0" || v == "application/x-amz-json-1.1" {
			return v
		}
	}
	return "application/x-amz-json-1.1"
}
