// Package debugpage is the signing debugger's page and the explanation it
// asks for, shared by "sigv4 debug", the gateway's admin listener and the
// WebAssembly build (./wasm) that runs it all in the browser.
package debugpage

import (
	"encoding/json"

	"github.com/sigv4/sigv4/internal/explain"
)

// Request is what the page sends to be explained.
type Request struct {
	Request string `json:"request"` // raw, curl -v, or a HAR file
	Error   string `json:"error,omitempty"`
	Entry   int    `json:"entry,omitempty"`
	Region  string `json:"region,omitempty"`
	Service string `json:"service,omitempty"`
	S3      bool   `json:"s3,omitempty"`
	// Secret is set only in the browser (the WebAssembly build); the page
	// never sends it to a server.
	Secret string `json:"secret,omitempty"`
	// Signed are the SHA-256 hashes, hex, of the candidate strings to
	// sign that the page found the request's signature signs, with the
	// secret it holds; Checked says it checked them.
	Checked bool     `json:"checked,omitempty"`
	Signed  []string `json:"signed,omitempty"`
}

// Response is the view, or the error; Candidates are the strings to sign
// the page may check with a secret and send back as Signed.
type Response struct {
	View       *explain.View `json:"view,omitempty"`
	Candidates []string      `json:"candidates,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// Explain answers a page's request. A server gives it requests without a
// secret; the WebAssembly build, with the page's.
func Explain(req Request) Response {
	in := explain.Input{Request: []byte(req.Request), Entry: req.Entry, Region: req.Region, Service: req.Service, S3: req.S3}
	if req.Error != "" {
		in.Error = []byte(req.Error)
	}
	switch {
	case req.Secret != "":
		in.Credentials = func(akid string) (explain.Credentials, error) {
			return explain.Credentials{AccessKeyID: akid, SecretAccessKey: req.Secret}, nil
		}
	case req.Checked:
		in.Signs = explain.SignsAmong(req.Signed)
	}
	var resp Response
	if req.Secret == "" && !req.Checked {
		cands, err := explain.Candidates(in)
		if err == nil {
			resp.Candidates = cands
		}
	}
	r, err := explain.Explain(in)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	v := r.View()
	resp.View = &v
	return resp
}

// ExplainJSON is Explain of a JSON Request, answered in JSON.
func ExplainJSON(data []byte) []byte {
	var req Request
	var resp Response
	if err := json.Unmarshal(data, &req); err != nil {
		resp.Error = "the page's request is not JSON: " + err.Error()
	} else {
		resp = Explain(req)
	}
	out, _ := json.Marshal(resp)
	return out
}
