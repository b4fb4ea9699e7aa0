package explain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
)

// View is the report as data, for the debugger page: each step of
// Signature Version 4 filled with the request's values, the comparison,
// and the finding.
type View struct {
	Request  RequestView  `json:"request"`
	Server   string       `json:"server,omitempty"` // the error code the server answered
	Notes    []string     `json:"notes,omitempty"`
	Steps    *Steps       `json:"steps,omitempty"`
	Compare  []Comparison `json:"compare,omitempty"`
	Findings []Finding    `json:"findings"` // the cause first, then what else
}

// RequestView is the request as sent.
type RequestView struct {
	Method      string         `json:"method"`
	Target      string         `json:"target"`
	Host        string         `json:"host"`
	AccessKeyID string         `json:"accessKeyId"`
	Scope       string         `json:"scope"`
	Date        string         `json:"date"`
	Form        string         `json:"form"` // "Authorization header" or "presigned URL"
	Headers     []HeaderView   `json:"headers"`
	Presigned   *PresignedView `json:"presigned,omitempty"`
}

// HeaderView is one header as sent, and whether it was signed. Unsigned
// is set for an x-amz-* header left out of the signature, which a server
// may refuse and a proxy may change unseen.
type HeaderView struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Signed   bool   `json:"signed"`
	Unsigned bool   `json:"unsignedAmz,omitempty"`
}

// PresignedView is a presigned URL's parameters and expiry.
type PresignedView struct {
	Params    []Param `json:"params"`
	Signed    string  `json:"signedAt"`  // RFC 3339
	ExpiresAt string  `json:"expiresAt"` // RFC 3339
	Seconds   int     `json:"seconds"`   // X-Amz-Expires
}

// Param is a query parameter, decoded.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Steps are SigV4's steps for the request as a correct server computes
// them: the canonical request in its six parts, the string to sign, and,
// with the secret, the key derivation and the signature.
type Steps struct {
	Parts        []Param   `json:"parts"` // method, path, query, headers, signed headers, payload hash
	Canonical    string    `json:"canonicalRequest"`
	Hash         string    `json:"canonicalRequestHash"`
	StringToSign string    `json:"stringToSign"`
	Scope        string    `json:"scope"`
	Key          []KeyStep `json:"key,omitempty"`
	Signature    string    `json:"signature,omitempty"` // ours, with the secret
	Provided     string    `json:"provided"`
	Match        *bool     `json:"match,omitempty"`
}

// KeyStep is one HMAC of the key derivation: kDate, kRegion, kService,
// kSigning.
type KeyStep struct {
	Name  string `json:"name"`
	Input string `json:"input"`
	Value string `json:"value"` // hex
}

// Comparison sets one text of the other side (the server's, or what the
// client signed) beside ours, line by line.
type Comparison struct {
	Title string     `json:"title"`
	Other string     `json:"other,omitempty"` // whose the "-" lines are
	Ours  string     `json:"ours"`            // whose the "+" lines are
	Same  bool       `json:"same"`
	Lines []DiffLine `json:"lines"`
}

// DiffLine is a line of both texts (Mark ""), of the other's only ("-"),
// or of ours only ("+").
type DiffLine struct {
	Mark string `json:"mark,omitempty"`
	Text string `json:"text"`
}

// Finding is a cause and its fix.
type Finding struct {
	Cause string `json:"cause"`
	Fix   string `json:"fix"`
}

// View returns the report as data.
func (r *Report) View() View {
	v := View{Request: r.requestView(), Notes: r.notes}
	if r.server != nil {
		v.Server = r.server.Code
	}
	if r.ours.creq != "" {
		v.Steps = r.steps()
		v.Compare = r.comparisons()
	}
	v.Findings = append(v.Findings, Finding{r.result.cause, r.result.fix})
	for _, f := range r.also {
		v.Findings = append(v.Findings, Finding{f.cause, f.fix})
	}
	return v
}

func (r *Report) requestView() RequestView {
	s := r.sent
	v := RequestView{Method: s.file.Method, Target: s.file.Target, Host: s.host(), AccessKeyID: s.auth.Credential.AccessKeyID,
		Scope: s.scope(), Date: s.amzDate, Form: "Authorization header"}
	signed := strings.Split(s.auth.SignedHeaders, ";")
	for _, h := range s.file.Headers {
		name := strings.ToLower(h.Name)
		isSigned := slices.Contains(signed, name)
		v.Headers = append(v.Headers, HeaderView{Name: h.Name, Value: h.Value, Signed: isSigned,
			Unsigned: !isSigned && strings.HasPrefix(name, "x-amz-") && name != "x-amz-content-sha256" || !isSigned && name == "host"})
	}
	if s.presigned {
		v.Form = "presigned URL"
		v.Presigned = r.presignedView()
	}
	return v
}

func (r *Report) presignedView() *PresignedView {
	s := r.sent
	p := &PresignedView{Signed: s.time.Format(time.RFC3339)}
	for _, f := range strings.Split(s.rawQuery, "&") {
		name, value, _ := strings.Cut(f, "=")
		if f == "" {
			continue
		}
		p.Params = append(p.Params, Param{Name: queryUnescaped(name), Value: queryUnescaped(value)})
		if authz.ParamName(name) == authz.ParamExpires {
			p.Seconds, _ = strconv.Atoi(value)
		}
	}
	p.ExpiresAt = s.time.Add(time.Duration(p.Seconds) * time.Second).Format(time.RFC3339)
	return p
}

func (r *Report) steps() *Steps {
	st := &Steps{Canonical: r.ours.creq, Hash: hashHex(r.ours.creq), StringToSign: r.ours.sts,
		Scope: r.sent.scope() + "/" + canonical.Terminal, Provided: r.sent.auth.Signature}
	st.Parts = partsOf(r.ours.creq)
	if r.secretKey != "" {
		st.Key = keySteps(r.secretKey, r.sent.auth.Credential)
		mac := hmac.New(sha256.New, mustHex(st.Key[len(st.Key)-1].Value))
		mac.Write([]byte(r.ours.sts))
		st.Signature = hex.EncodeToString(mac.Sum(nil))
		match := st.Signature == st.Provided
		st.Match = &match
	}
	return st
}

// partsOf names the six parts of a canonical request; nil if it is not
// in that form.
func partsOf(creq string) []Param {
	c, ok := parseCreq(creq)
	if !ok {
		return nil
	}
	return []Param{{"HTTP method", c.method}, {"canonical URI", c.path}, {"canonical query string", c.query},
		{"canonical headers", strings.Join(c.headers, "\n")}, {"signed headers", c.signed}, {"payload hash", c.payload}}
}

// keySteps are the four HMACs that derive the signing key from the
// secret, each with its input; the secret itself is never shown.
func keySteps(secret string, c authz.Credential) []KeyStep {
	key := []byte("AWS4" + secret)
	var steps []KeyStep
	for _, s := range []struct{ name, input string }{
		{"kDate", c.Date}, {"kRegion", c.Region}, {"kService", c.Service}, {"kSigning", canonical.Terminal},
	} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(s.input))
		key = mac.Sum(nil)
		steps = append(steps, KeyStep{Name: s.name, Input: s.input, Value: hex.EncodeToString(key)})
	}
	return steps
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func (r *Report) comparisons() []Comparison {
	var out []Comparison
	for _, part := range []struct{ title, other, ours string }{
		{"canonical request", r.other.creq, r.ours.creq},
		{"string to sign", r.other.sts, r.ours.sts},
	} {
		c := Comparison{Title: part.title, Other: r.otherName, Ours: r.oursName}
		switch {
		case r.otherName == "" || part.other == "":
			c.Other, c.Ours, c.Same = "", "ours", true
			c.Lines = diffLines(part.ours, part.ours)
		default:
			c.Same = part.other == part.ours
			c.Lines = diffLines(part.other, part.ours)
		}
		out = append(out, c)
	}
	return out
}

// ServerView is the view of a request a server refused, from what the
// server computed (its canonical request and string to sign) without the
// request's signature: what the gateway's admin page shows of its recent
// failures. finding is what explain made of the request when it was
// refused, if anything.
func ServerView(method, target, accessKeyID, code, message, creq, sts string, finding Finding) View {
	v := View{Request: RequestView{Method: method, Target: target, AccessKeyID: accessKeyID, Form: "as the gateway received it"}, Server: code}
	lines := strings.Split(sts, "\n")
	if len(lines) == 4 {
		v.Request.Date, v.Request.Scope = lines[1], strings.TrimSuffix(lines[2], "/"+canonical.Terminal)
	}
	if creq != "" {
		st := &Steps{Canonical: creq, Hash: hashHex(creq), StringToSign: sts, Scope: v.Request.Scope + "/" + canonical.Terminal}
		st.Parts = partsOf(creq)
		v.Steps = st
		v.Compare = []Comparison{{Title: "canonical request", Ours: "the gateway's", Same: true, Lines: diffLines(creq, creq)},
			{Title: "string to sign", Ours: "the gateway's", Same: true, Lines: diffLines(sts, sts)}}
	}
	if finding.Cause == "" {
		finding = Finding{Cause: "The gateway refused the request: " + code + ": " + message, Fix: "Fix what the message names, then sign again."}
	}
	v.Findings = []Finding{finding}
	return v
}
