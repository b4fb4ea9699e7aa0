package explain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// sentRequest is the request as it was sent, and what it says of its own
// signature.
type sentRequest struct {
	file      *httpfile.File
	header    http.Header
	auth      authz.Auth
	presigned bool
	amzDate   string // the signing time, 20060102T150405Z
	time      time.Time
	path      string // the target as written, before and after '?'
	rawQuery  string
}

func parseSent(f *httpfile.File) (*sentRequest, error) {
	s := &sentRequest{file: f, header: make(http.Header)}
	for _, h := range f.Headers {
		s.header.Add(h.Name, h.Value)
	}
	s.path, s.rawQuery, _ = strings.Cut(f.Target, "?")
	s.presigned = authz.IsPresigned(s.rawQuery)
	var err error
	switch {
	case s.presigned:
		s.auth, err = authz.ParseQuery(s.rawQuery)
		s.amzDate = s.auth.Date
	case s.header.Get("Authorization") != "":
		s.auth, err = authz.ParseHeader(s.header.Get("Authorization"))
		s.amzDate = s.header.Get("X-Amz-Date")
		if t, dateErr := http.ParseTime(s.header.Get("Date")); s.amzDate == "" && dateErr == nil {
			s.amzDate = string(canonical.AppendTime(nil, t))
		}
	default:
		return nil, errors.New("the request carries no signature (no Authorization header, no X-Amz-Signature): " +
			"give it as it was sent; if a log left Authorization out, take the request from the client's debug output (aws --debug, curl -v)")
	}
	if err != nil {
		return nil, fmt.Errorf("the request's signature cannot be read: %v; give the request exactly as it was sent", err)
	}
	t, ok := canonical.ParseTime(s.amzDate)
	if !ok {
		return nil, fmt.Errorf("the request's X-Amz-Date %q is not a time like 20150830T123600Z: explain takes the signing time from it", s.amzDate)
	}
	s.time = t
	return s, nil
}

// host is the Host header as sent.
func (s *sentRequest) host() string { return s.header.Get("Host") }

// rawValue is a header's values as sent, joined as the canonical request
// joins them but neither trimmed nor collapsed.
func (s *sentRequest) rawValue(name string) string {
	return strings.Join(s.header.Values(name), ",")
}

// declaredHash is the payload hash the request declares, in the header or
// in the query of a presigned URL; "" if none.
func (s *sentRequest) declaredHash() string {
	if s.presigned && s.auth.ContentSHA256 != "" {
		return s.auth.ContentSHA256
	}
	return s.header.Get("X-Amz-Content-Sha256")
}

// unsignedToken: the request carries a session token it did not sign.
func (s *sentRequest) unsignedToken() bool {
	if s.presigned {
		return false // a presigned URL's query is signed whole
	}
	signed := ";" + s.auth.SignedHeaders + ";"
	return s.header.Get("X-Amz-Security-Token") != "" && !strings.Contains(signed, ";x-amz-security-token;")
}

// scope is the credential scope the request was signed for.
func (s *sentRequest) scope() string {
	c := s.auth.Credential
	return c.Date + "/" + c.Region + "/" + c.Service
}

// serverError is what a server's error body says of a failed signature.
// Amazon S3 puts the canonical request and string to sign in elements of
// their own; the query and JSON APIs of other services quote them in the
// message.
type serverError struct {
	Code, Message                  string
	AccessKeyID, SignatureProvided string
	CanonicalRequest, StringToSign string
	Region, ServerTime             string // hints of other error codes
}

func parseServerError(data []byte) (*serverError, error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("HTTP/")) { // a whole response, as curl -i saves it
		for _, sep := range []string{"\r\n\r\n", "\n\n"} {
			if _, body, ok := bytes.Cut(data, []byte(sep)); ok {
				data = bytes.TrimSpace(body)
				break
			}
		}
	}
	var e *serverError
	var err error
	switch {
	case len(data) == 0:
		return nil, errors.New("the error body is empty: save the body of the server's response (curl -s -o error.xml ...)")
	case data[0] == '<':
		e, err = parseXMLError(data)
	case data[0] == '{':
		e, err = parseJSONError(data)
	default:
		return nil, errors.New("the error body is neither XML nor JSON: give the body of the server's response")
	}
	if err != nil {
		return nil, err
	}
	if e.Code == "" {
		return nil, errors.New("the error body has no error code: give the body of the server's response")
	}
	e.fromMessage()
	return e, nil
}

// parseXMLError reads the leaf elements of an S3 <Error> or a query API
// <ErrorResponse>, wherever they are nested.
func parseXMLError(data []byte) (*serverError, error) {
	fields := make(map[string]string)
	d := xml.NewDecoder(bytes.NewReader(data))
	var text strings.Builder
	leaf := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the error body is not valid XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			text.Reset()
			leaf = true
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if _, seen := fields[t.Name.Local]; leaf && !seen {
				fields[t.Name.Local] = text.String()
			}
			leaf = false
		}
	}
	return errorFromFields(func(k string) string { return fields[k] }), nil
}

// parseJSONError reads {"Code": ..., "CanonicalRequest": ...}, the same
// nested in "Error", or a JSON API's {"__type": ..., "message": ...}.
// Names are matched without regard to case, as gateways spell them
// either way.
func parseJSONError(data []byte) (*serverError, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("the error body is not valid JSON: %v", err)
	}
	get := func(name string) string {
		for k, v := range m {
			if s, ok := v.(string); ok && strings.EqualFold(k, name) {
				return s
			}
		}
		return ""
	}
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok && strings.EqualFold(k, "Error") {
			m = inner
		}
	}
	e := errorFromFields(get)
	if t := get("__type"); e.Code == "" && t != "" {
		e.Code = t[strings.LastIndexByte(t, '#')+1:]
	}
	return e, nil
}

func errorFromFields(get func(string) string) *serverError {
	e := &serverError{
		Code: get("Code"), Message: get("Message"),
		AccessKeyID: get("AWSAccessKeyId"), SignatureProvided: get("SignatureProvided"),
		CanonicalRequest: get("CanonicalRequest"), StringToSign: get("StringToSign"),
		Region: get("Region"), ServerTime: get("ServerTime"),
	}
	if e.CanonicalRequest == "" {
		e.CanonicalRequest = decodeByteList(get("CanonicalRequestBytes"))
	}
	if e.StringToSign == "" {
		e.StringToSign = decodeByteList(get("StringToSignBytes"))
	}
	return e
}

// decodeByteList decodes S3's *Bytes elements: "47 45 54 0a ...".
func decodeByteList(s string) string {
	var b []byte
	for _, f := range strings.Fields(s) {
		c, err := hex.DecodeString(f)
		if err != nil || len(c) != 1 {
			return ""
		}
		b = append(b, c[0])
	}
	return string(b)
}

// fromMessage takes the canonical request and string to sign out of the
// message of the services that quote them there:
//
//	The Canonical String for this request should have been
//	'POST
//	/
//	...'
//
//	The String-to-Sign should have been
//	'AWS4-HMAC-SHA256
//	...'
func (e *serverError) fromMessage() {
	if e.CanonicalRequest != "" || e.StringToSign != "" {
		return
	}
	i, j := strings.Index(e.Message, "Canonical String"), strings.Index(e.Message, "String-to-Sign")
	if j < 0 {
		return
	}
	if 0 <= i && i < j {
		e.CanonicalRequest = quotedText(e.Message[i:j])
	}
	e.StringToSign = quotedText(e.Message[j:])
}

// quotedText returns what is between the first and the last single quote of
// s: the quoted text may itself hold quotes.
func quotedText(s string) string {
	i, j := strings.IndexByte(s, '\''), strings.LastIndexByte(s, '\'')
	if i < 0 || j <= i {
		return ""
	}
	return s[i+1 : j]
}

// mismatch reports whether the server refused the signature itself, as
// opposed to the request's form, time or key.
func (e *serverError) mismatch() bool {
	return e.Code == "SignatureDoesNotMatch" || e.Code == "InvalidSignatureException" ||
		strings.Contains(e.Message, "signature we calculated does not match")
}

// computed reports whether the server said what it computed.
func (e *serverError) computed() bool {
	return e != nil && (e.CanonicalRequest != "" || e.StringToSign != "")
}
