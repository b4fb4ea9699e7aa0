package postpolicy

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
)

// Bounds of what an upload's form may hold before its file.
const (
	DefaultMaxFields     = 100
	DefaultMaxFieldBytes = 64 << 10  // one field's value
	DefaultMaxFormBytes  = 256 << 10 // every field before the file
	MaxPolicyBytes       = 20 << 10  // the base64 policy
)

// Verifier checks POST uploads. Keys and Regions are required.
type Verifier struct {
	Keys    sigv4.KeySource
	Regions []string // accepted in the credential's scope ("*": any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxFields, MaxFieldBytes and MaxFormBytes bound the fields before
	// the file (defaults DefaultMax*).
	MaxFields     int
	MaxFieldBytes int64
	MaxFormBytes  int64
}

// Upload is a verified upload. Read File to its end: the length is
// checked against the policy while it flows, a body that ends early is an
// error, and so, at its end, is a file that does not match the form's
// Content-MD5 or x-amz-checksum-* field (BadDigest).
type Upload struct {
	Bucket   string
	Key      string            // the key field, ${filename} replaced
	Fields   map[string]string // every field before the file, names in lower case
	Filename string            // the file part's
	// ContentType is the Content-Type field, else the file part's.
	ContentType string
	Identity    sigv4.Identity
	File        io.Reader
}

// exempt are the fields no condition needs to cover.
func exempt(name string) bool {
	switch name {
	case FieldPolicy, FieldSignature, "file":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func bound(n, def int64) int64 {
	if n > 0 {
		return n
	}
	return def
}

// Verify reads the form of req up to its file and checks the upload to
// bucket (the bucket of the request's URL). Every failure is a
// *sigv4.Error with S3's code.
func (v *Verifier) Verify(req *http.Request, bucket string) (*Upload, error) {
	mr, err := multipartReader(req)
	if err != nil {
		return nil, err
	}
	fields, file, err := v.readFields(mr)
	if err != nil {
		return nil, err
	}
	id, err := v.checkSignature(req, fields)
	if err != nil {
		return nil, err
	}
	policy, err := v.checkPolicy(fields)
	if err != nil {
		return nil, err
	}
	if b, ok := fields["bucket"]; ok && b != bucket {
		return nil, policyError("Policy Condition failed: the bucket field is not the bucket of the URL")
	}
	fields["bucket"] = bucket
	if err := checkConditions(policy, fields); err != nil {
		return nil, err
	}
	u := &Upload{Bucket: bucket, Fields: fields, Filename: file.FileName(), Identity: id}
	u.Key = strings.ReplaceAll(fields["key"], "${filename}", file.FileName())
	u.ContentType = fields["content-type"]
	if u.ContentType == "" {
		u.ContentType = file.Header.Get("Content-Type")
	}
	min, max := int64(0), int64(-1)
	for _, c := range policy.Conditions {
		if c.Op == "content-length-range" {
			min, max = c.Min, c.Max
		}
	}
	h := http.Header{}
	for name, value := range fields {
		switch {
		case name == "x-amz-checksum-algorithm":
			h.Set("x-amz-sdk-checksum-algorithm", value)
		case name == "content-md5", strings.HasPrefix(name, "x-amz-checksum-"):
			h.Set(name, value)
		}
	}
	if u.File, err = sigv4.CheckBody(h, &rangedFile{r: file, min: min, max: max}); err != nil {
		return nil, err
	}
	return u, nil
}

func multipartReader(req *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, newError(sigv4.ErrInvalidRequest, "A POST upload is a multipart/form-data form.")
	}
	return multipart.NewReader(req.Body, params["boundary"]), nil
}

// readFields reads the fields up to the file part, bounded.
func (v *Verifier) readFields(mr *multipart.Reader) (map[string]string, *multipart.Part, error) {
	fields := map[string]string{}
	maxFields, maxField, maxForm := bound(int64(v.MaxFields), DefaultMaxFields), bound(v.MaxFieldBytes, DefaultMaxFieldBytes), bound(v.MaxFormBytes, DefaultMaxFormBytes)
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil, newError(sigv4.ErrInvalidArgument, "POST requires exactly one file upload per request.")
		}
		if err != nil {
			return nil, nil, newError(sigv4.ErrMalformedPOSTRequest, "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			return fields, part, nil
		}
		if int64(len(fields)) >= maxFields {
			return nil, nil, newError(sigv4.ErrMaxPostPreDataLengthExceeded, "Your POST request fields preceding the upload file were too large.")
		}
		value, err := io.ReadAll(io.LimitReader(part, maxField+1))
		if err != nil {
			return nil, nil, newError(sigv4.ErrIncompleteBody, "The body of your POST request ended before its file.")
		}
		total += int64(len(value))
		if int64(len(value)) > maxField || total > maxForm {
			return nil, nil, newError(sigv4.ErrMaxPostPreDataLengthExceeded, "Your POST request fields preceding the upload file were too large.")
		}
		if _, dup := fields[name]; dup {
			return nil, nil, newError(sigv4.ErrInvalidArgument, "The form field "+name+" is sent more than once.")
		}
		fields[name] = string(value)
	}
}

// checkSignature checks the policy's signature with the signing key of
// the credential's scope.
func (v *Verifier) checkSignature(req *http.Request, f map[string]string) (sigv4.Identity, error) {
	for _, name := range []string{FieldPolicy, FieldSignature, FieldCredential, FieldAlgorithm, FieldDate} {
		if f[name] == "" {
			return sigv4.Identity{}, newError(sigv4.ErrInvalidArgument, "Bucket POST must contain a field named '"+name+"'.")
		}
	}
	if f[FieldAlgorithm] != "AWS4-HMAC-SHA256" {
		return sigv4.Identity{}, newError(sigv4.ErrInvalidArgument, "The x-amz-algorithm of the form must be AWS4-HMAC-SHA256.")
	}
	parts := strings.Split(f[FieldCredential], "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" || len(f[FieldDate]) != 16 || parts[1] != f[FieldDate][:8] {
		return sigv4.Identity{}, newError(sigv4.ErrInvalidArgument, "The x-amz-credential of the form is malformed, or not of the x-amz-date's day.")
	}
	if !slices.Contains(v.Regions, parts[2]) && !slices.Contains(v.Regions, "*") {
		return sigv4.Identity{}, newError(sigv4.ErrInvalidArgument, "The region '"+parts[2]+"' of the credential is wrong for this endpoint.")
	}
	scope := sigv4.Scope{Date: parts[1], Region: parts[2], Service: "s3"}
	key, id, err := v.Keys.SigningKey(req.Context(), parts[0], scope)
	switch {
	case errors.Is(err, sigv4.ErrInvalidAccessKeyID):
		return sigv4.Identity{}, newError(sigv4.ErrInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
	case err != nil:
		var e *sigv4.Error
		if errors.As(err, &e) && e.Code != "" {
			return sigv4.Identity{}, e
		}
		return sigv4.Identity{}, &sigv4.Error{Code: sigv4.ErrInternalError.Code, Status: sigv4.ErrInternalError.Status,
			Message: "We encountered an internal error. Please try again.", Err: err}
	}
	want := Signature(key, f[FieldPolicy])
	if subtle.ConstantTimeCompare([]byte(want), []byte(f[FieldSignature])) != 1 {
		e := newError(sigv4.ErrSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		e.StringToSign, e.AccessKeyID = f[FieldPolicy], parts[0]
		return sigv4.Identity{}, e
	}
	if id.SessionToken != "" && subtle.ConstantTimeCompare([]byte(f[FieldToken]), []byte(id.SessionToken)) != 1 ||
		id.SessionToken == "" && f[FieldToken] != "" {
		return sigv4.Identity{}, newError(sigv4.ErrInvalidToken, "The provided token is malformed or otherwise invalid.")
	}
	if !id.Expiration.IsZero() && v.now().After(id.Expiration) {
		return sigv4.Identity{}, newError(sigv4.ErrExpiredToken, "The provided token has expired.")
	}
	return id, nil
}

// checkPolicy decodes the policy and checks its expiration.
func (v *Verifier) checkPolicy(f map[string]string) (Policy, error) {
	if len(f[FieldPolicy]) > MaxPolicyBytes {
		return Policy{}, newError(sigv4.ErrInvalidPolicyDocument, "Invalid Policy: the policy is too large.")
	}
	doc, err := base64.StdEncoding.DecodeString(f[FieldPolicy])
	if err != nil {
		return Policy{}, newError(sigv4.ErrInvalidPolicyDocument, "Invalid Policy: Invalid 'Base64' encoding.")
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return Policy{}, newError(sigv4.ErrInvalidPolicyDocument, "Invalid Policy: "+err.Error())
	}
	if !v.now().Before(p.Expiration) {
		return Policy{}, policyError("Policy expired.")
	}
	return p, nil
}

// checkConditions holds every condition, and covers every field.
func checkConditions(p Policy, f map[string]string) error {
	covered := map[string]bool{}
	for _, c := range p.Conditions {
		if c.Op == "content-length-range" {
			continue
		}
		covered[c.Field] = true
		v, ok := f[c.Field]
		switch {
		case c.Op == "eq" && (!ok || v != c.Value):
			return policyError("Policy Condition failed: " + c.String())
		case c.Op == "starts-with" && c.Field == "content-type":
			// A list of types, each of which must start so.
			for t := range strings.SplitSeq(v, ",") {
				if !strings.HasPrefix(strings.TrimSpace(t), c.Value) {
					return policyError("Policy Condition failed: " + c.String())
				}
			}
		case c.Op == "starts-with" && (!ok || !strings.HasPrefix(v, c.Value)):
			return policyError("Policy Condition failed: " + c.String())
		}
	}
	var extra []string
	for name := range f {
		if !covered[name] && !exempt(name) && name != "bucket" {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return policyError("Extra input fields: " + strings.Join(extra, ", "))
	}
	return nil
}

func policyError(why string) *sigv4.Error {
	return newError(sigv4.ErrAccessDenied, "Invalid according to Policy: "+why)
}

func newError(code *sigv4.Error, msg string) *sigv4.Error {
	return &sigv4.Error{Code: code.Code, Status: code.Status, Message: msg}
}

// rangedFile streams the file, refusing it past max bytes and, at its
// end, under min; a body cut short is IncompleteBody.
type rangedFile struct {
	r        io.Reader
	n        int64
	min, max int64 // max < 0: no bound
	err      error
}

func (f *rangedFile) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	switch {
	case f.max >= 0 && f.n > f.max:
		f.err = newError(sigv4.ErrEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
		return 0, f.err
	case errors.Is(err, io.EOF) && f.n < f.min:
		f.err = newError(sigv4.ErrEntityTooSmall, "Your proposed upload is smaller than the minimum allowed size")
		return 0, f.err
	case err != nil && !errors.Is(err, io.EOF):
		f.err = newError(sigv4.ErrIncompleteBody, "The body of your POST request ended before its file did.")
		return 0, f.err
	}
	return n, err
}
