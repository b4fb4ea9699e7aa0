// Package postpolicy builds, signs and verifies the POST policies of
// browser uploads to Amazon S3: a server signs a policy (what may be
// uploaded, where, how big, until when) and a browser sends a
// multipart/form-data form with the policy, its signature and the file;
// the secret never leaves the server.
//
// [Sign] makes the form fields of a [Policy]. [Verifier.Verify] checks an
// upload as S3 does, streaming: the fields before the file are bounded in
// number and size, every field must be covered by a condition (but those
// S3 exempts), every condition must hold, the signature is checked through
// a sigv4.KeySource, and the file's bytes flow to the caller as they
// arrive, its length held to the policy's content-length-range.
package postpolicy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
)

// Condition is one condition of a policy: a field equal to a value, a
// field starting with a prefix, or the file's length within a range.
type Condition struct {
	Op       string // "eq", "starts-with" or "content-length-range"
	Field    string // without its '$', lower case; "" for content-length-range
	Value    string
	Min, Max int64 // content-length-range
}

// Eq is the condition that field equals value.
func Eq(field, value string) Condition {
	return Condition{Op: "eq", Field: strings.ToLower(field), Value: value}
}

// StartsWith is the condition that field starts with prefix ("" allows
// any value).
func StartsWith(field, prefix string) Condition {
	return Condition{Op: "starts-with", Field: strings.ToLower(field), Value: prefix}
}

// ContentLengthRange is the condition that the file is min to max bytes.
func ContentLengthRange(min, max int64) Condition {
	return Condition{Op: "content-length-range", Min: min, Max: max}
}

// Policy is what an upload may be.
type Policy struct {
	Expiration time.Time
	Conditions []Condition
}

// MarshalJSON writes the policy as S3 reads it.
func (p Policy) MarshalJSON() ([]byte, error) {
	conds := make([]any, 0, len(p.Conditions))
	for _, c := range p.Conditions {
		switch c.Op {
		case "eq":
			if strings.HasPrefix(c.Field, "$") { // the object form would drop its '$'
				conds = append(conds, []any{"eq", "$" + c.Field, c.Value})
				break
			}
			conds = append(conds, map[string]string{c.Field: c.Value})
		case "starts-with":
			conds = append(conds, []any{"starts-with", "$" + c.Field, c.Value})
		case "content-length-range":
			conds = append(conds, []any{"content-length-range", c.Min, c.Max})
		default:
			return nil, fmt.Errorf("postpolicy: unknown condition %q", c.Op)
		}
	}
	return json.Marshal(struct {
		Expiration string `json:"expiration"`
		Conditions []any  `json:"conditions"`
	}{p.Expiration.UTC().Format("2006-01-02T15:04:05.000Z"), conds})
}

// Form field names of the signature.
const (
	FieldPolicy     = "policy"
	FieldAlgorithm  = "x-amz-algorithm"
	FieldCredential = "x-amz-credential"
	FieldDate       = "x-amz-date"
	FieldSignature  = "x-amz-signature"
	FieldToken      = "x-amz-security-token"
)

// Sign returns the form fields of an upload: fields (bucket, key, acl,
// Content-Type...; each gets an eq condition unless p has one for it),
// the policy with the signature's own conditions added, and the
// signature, for creds in region at now.
func Sign(p Policy, creds sigv4.Credentials, region string, now time.Time, fields map[string]string) (map[string]string, error) {
	date := now.UTC().Format("20060102T150405Z")
	scope := sigv4.Scope{Date: date[:8], Region: region, Service: "s3"}
	out := map[string]string{}
	for k, v := range fields {
		out[strings.ToLower(k)] = v
	}
	out[FieldAlgorithm] = "AWS4-HMAC-SHA256"
	out[FieldCredential] = creds.AccessKeyID + "/" + scope.String()
	out[FieldDate] = date
	if creds.SessionToken != "" {
		out[FieldToken] = creds.SessionToken
	}
	conds := append([]Condition(nil), p.Conditions...)
	for name, v := range out {
		if name == "key" && hasCondition(conds, "key") {
			continue
		}
		if !hasCondition(conds, name) {
			conds = append(conds, Eq(name, v))
		}
	}
	doc, err := Policy{Expiration: p.Expiration, Conditions: conds}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	out[FieldPolicy] = base64.StdEncoding.EncodeToString(doc)
	key := sigv4.DeriveSigningKey(creds.SecretAccessKey, scope)
	out[FieldSignature] = Signature(key, out[FieldPolicy])
	return out, nil
}

// Signature is the signature of a base64 policy with a signing key: the
// policy text is the string to sign.
func Signature(key sigv4.SigningKey, policyBase64 string) string {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(policyBase64))
	return hex.EncodeToString(m.Sum(nil))
}

func hasCondition(conds []Condition, field string) bool {
	for _, c := range conds {
		if c.Field == field {
			return true
		}
	}
	return false
}

// parsePolicy reads a policy document.
func parsePolicy(doc []byte) (Policy, error) {
	var raw struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return Policy{}, errors.New("the policy is not JSON")
	}
	exp, err := time.Parse(time.RFC3339, raw.Expiration)
	if err != nil {
		return Policy{}, errors.New("the policy's expiration is not a date (ISO 8601)")
	}
	p := Policy{Expiration: exp}
	for _, rc := range raw.Conditions {
		c, err := parseCondition(rc)
		if err != nil {
			return Policy{}, err
		}
		p.Conditions = append(p.Conditions, c...)
	}
	return p, nil
}

func parseCondition(rc json.RawMessage) ([]Condition, error) {
	var obj map[string]string
	if json.Unmarshal(rc, &obj) == nil {
		var out []Condition
		for k, v := range obj {
			out = append(out, Eq(strings.TrimPrefix(k, "$"), v))
		}
		return out, nil
	}
	var arr []json.RawMessage
	if json.Unmarshal(rc, &arr) != nil || len(arr) != 3 {
		return nil, fmt.Errorf("a condition of the policy is neither an object nor a list of three: %s", rc)
	}
	var op string
	if json.Unmarshal(arr[0], &op) != nil {
		return nil, fmt.Errorf("a condition of the policy has no operator: %s", rc)
	}
	switch op = strings.ToLower(op); op {
	case "content-length-range":
		var min, max int64
		if json.Unmarshal(arr[1], &min) != nil || json.Unmarshal(arr[2], &max) != nil || min < 0 || max < min {
			return nil, fmt.Errorf("a content-length-range of the policy is not two lengths: %s", rc)
		}
		return []Condition{ContentLengthRange(min, max)}, nil
	case "eq", "starts-with":
		var field, value string
		if json.Unmarshal(arr[1], &field) != nil || json.Unmarshal(arr[2], &value) != nil || !strings.HasPrefix(field, "$") {
			return nil, fmt.Errorf("a condition of the policy does not name a $field and a value: %s", rc)
		}
		return []Condition{{Op: op, Field: strings.ToLower(field[1:]), Value: value}}, nil
	}
	return nil, fmt.Errorf("the policy has an unknown condition %q", op)
}

// String is the condition as S3 quotes a failed one.
func (c Condition) String() string {
	switch c.Op {
	case "content-length-range":
		return fmt.Sprintf(`["content-length-range", %d, %d]`, c.Min, c.Max)
	}
	return fmt.Sprintf(`[%q, "$%s", %q]`, c.Op, c.Field, c.Value)
}
