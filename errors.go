package sigv4

import "net/http"

// Error is a verification failure, carrying the AWS error code that clients
// understand and the HTTP status AWS answers it with. It says nothing about
// how to write a response: the gateway turns it into XML or JSON.
//
// Compare with errors.Is against the sentinels below, which match by Code:
//
//	if errors.Is(err, sigv4.ErrSignatureDoesNotMatch) { ... }
type Error struct {
	Code    string // "SignatureDoesNotMatch"
	Status  int    // 403
	Message string // for the client

	// For SignatureDoesNotMatch: what the server computed, as Amazon S3
	// returns it. Whether to reveal it is the caller's choice.
	CanonicalRequest  string
	StringToSign      string
	SignatureProvided string
	AccessKeyID       string

	// Region is the region the verifier expected, for
	// AuthorizationHeaderMalformed caused by a wrong region.
	Region string

	// Err is an internal cause (a KeySource failure); never shown to clients.
	Err error
}

func (e *Error) Error() string {
	msg := "sigv4: " + e.Code + ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func code(c string, status int) *Error { return &Error{Code: c, Status: status} }

// Sentinels for errors.Is. They carry only Code and Status.
var (
	ErrAccessDenied                      = code("AccessDenied", http.StatusForbidden)
	ErrAuthorizationHeaderMalformed      = code("AuthorizationHeaderMalformed", http.StatusBadRequest)
	ErrAuthorizationQueryParametersError = code("AuthorizationQueryParametersError", http.StatusBadRequest)
	ErrBadDigest                         = code("BadDigest", http.StatusBadRequest)
	ErrEntityTooLarge                    = code("EntityTooLarge", http.StatusBadRequest)
	ErrEntityTooSmall                    = code("EntityTooSmall", http.StatusBadRequest)
	ErrExpiredToken                      = code("ExpiredToken", http.StatusBadRequest)
	ErrIncompleteBody                    = code("IncompleteBody", http.StatusBadRequest)
	ErrInternalError                     = code("InternalError", http.StatusInternalServerError)
	ErrInvalidAccessKeyID                = code("InvalidAccessKeyId", http.StatusForbidden)
	ErrInvalidArgument                   = code("InvalidArgument", http.StatusBadRequest)
	ErrInvalidDigest                     = code("InvalidDigest", http.StatusBadRequest)
	ErrInvalidRequest                    = code("InvalidRequest", http.StatusBadRequest)
	ErrInvalidPolicyDocument             = code("InvalidPolicyDocument", http.StatusBadRequest)
	ErrInvalidToken                      = code("InvalidToken", http.StatusBadRequest)
	ErrMalformedTrailerError             = code("MalformedTrailerError", http.StatusBadRequest)
	ErrMalformedPOSTRequest              = code("MalformedPOSTRequest", http.StatusBadRequest)
	ErrMaxMessageLengthExceeded          = code("MaxMessageLengthExceeded", http.StatusBadRequest)
	ErrMaxPostPreDataLengthExceeded      = code("MaxPostPreDataLengthExceededError", http.StatusBadRequest)
	ErrMissingContentLength              = code("MissingContentLength", http.StatusLengthRequired)
	ErrMissingSecurityHeader             = code("MissingSecurityHeader", http.StatusBadRequest)
	ErrNotImplemented                    = code("NotImplemented", http.StatusNotImplemented)
	ErrRequestHeaderSectionTooLarge      = code("RequestHeaderSectionTooLarge", http.StatusBadRequest)
	ErrRequestTimeTooSkewed              = code("RequestTimeTooSkewed", http.StatusForbidden)
	ErrServiceUnavailable                = code("ServiceUnavailable", http.StatusServiceUnavailable)
	ErrSignatureDoesNotMatch             = code("SignatureDoesNotMatch", http.StatusForbidden)
	ErrXAmzContentSHA256Mismatch         = code("XAmzContentSHA256Mismatch", http.StatusBadRequest)
)

// newError returns a copy of a sentinel with a message.
func newError(sentinel *Error, msg string) *Error {
	return &Error{Code: sentinel.Code, Status: sentinel.Status, Message: msg}
}
