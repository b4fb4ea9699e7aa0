package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/debugpage"
	"github.com/sigv4/sigv4/internal/explain"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// DefaultRecentFailures is how many refused requests the admin page keeps
// when Config.RecentFailures is not set.
const DefaultRecentFailures = 1000

// analysesPerSecond bounds the failures explained as they happen (the
// rest are kept with the gateway's canonical request only): refused
// requests cost their sender nothing, the explanation costs the gateway.
const analysesPerSecond = 10

// Failure is a request the gateway refused, as its admin page shows it:
// no secret, no signature, no session token, no body.
type Failure struct {
	ID          uint64    `json:"id"`
	Time        time.Time `json:"time"`
	RequestID   string    `json:"requestId"`
	AccessKeyID string    `json:"accessKeyId"`
	Code        string    `json:"code"`
	Message     string    `json:"message"`
	Method      string    `json:"method"`
	Path        string    `json:"path"` // without the query
	// What the gateway computed, for SignatureDoesNotMatch, session
	// tokens redacted.
	CanonicalRequest string `json:"canonicalRequest,omitempty"`
	StringToSign     string `json:"stringToSign,omitempty"`
	// What explain found when the request was refused: with the signing
	// key of its scope, what the client signed instead.
	Cause string `json:"cause,omitempty"`
	Fix   string `json:"fix,omitempty"`
	Note  string `json:"note,omitempty"` // why it was not explained
}

// failureRing keeps the last failures, bounded.
type failureRing struct {
	mu     sync.Mutex
	buf    []Failure
	next   uint64
	tokens float64 // analyses left, refilled at analysesPerSecond
	last   time.Time
}

func newFailureRing(n int) *failureRing {
	return &failureRing{buf: make([]Failure, 0, n), tokens: analysesPerSecond}
}

func (r *failureRing) add(f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.ID = r.next
	r.next++
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, f)
		return
	}
	r.buf[f.ID%uint64(cap(r.buf))] = f
}

// list is the failures kept, newest first.
func (r *failureRing) list() []Failure {
	r.mu.Lock()
	out := append([]Failure(nil), r.buf...)
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

func (r *failureRing) get(id uint64) (Failure, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 || id >= r.next || r.next-id > uint64(len(r.buf)) {
		return Failure{}, false
	}
	f := r.buf[id%uint64(cap(r.buf))]
	return f, f.ID == id
}

// allow takes one analysis from the budget.
func (r *failureRing) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = min(analysesPerSecond, r.tokens+now.Sub(r.last).Seconds()*analysesPerSecond)
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

var (
	tokenHeader = regexp.MustCompile(`(?m)^(x-amz-security-token:).*$`)
	tokenParam  = regexp.MustCompile(`(X-Amz-Security-Token=)[^&\n]*`)
)

// redactTokens replaces session tokens in a canonical request.
func redactTokens(creq string) string {
	creq = tokenHeader.ReplaceAllString(creq, "${1}(redacted)")
	return tokenParam.ReplaceAllString(creq, "${1}(redacted)")
}

// recordFailure keeps x's refusal, explained if the budget allows.
func (g *Gateway) recordFailure(x *exchange, e *sigv4.Error) {
	f := Failure{Time: x.start.UTC(), RequestID: x.id, AccessKeyID: accessKeyID(x), Code: e.Code, Message: e.Message,
		Method: x.req.Method, Path: x.req.URL.Path}
	if e.Code == sigv4.ErrSignatureDoesNotMatch.Code {
		switch {
		case !g.failures.allow(time.Now()):
			f.Note = fmt.Sprintf("Not explained when refused: more than %d failures a second came.", analysesPerSecond)
		default:
			f.Cause, f.Fix, f.Note = g.explainFailure(x, e)
		}
		f.CanonicalRequest, f.StringToSign = redactTokens(e.CanonicalRequest), e.StringToSign
	}
	g.failures.add(f)
}

// explainFailure asks explain what the client signed, with the signing
// key of the request's scope: the gateway's key source gives it, and the
// signature is checked against each string to sign explain tries.
func (g *Gateway) explainFailure(x *exchange, e *sigv4.Error) (cause, fix, note string) {
	if x.req.ContentLength != 0 && x.req.Header.Get("X-Amz-Content-Sha256") == "" {
		return "", "", "Not explained: the request's body is not kept, and its hash is not declared."
	}
	lines := strings.Split(e.StringToSign, "\n")
	parts := strings.Split(lines[min(2, len(lines)-1)], "/")
	if len(lines) != 4 || len(parts) != 4 {
		return "", "", ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	key, _, err := g.verifier.Keys.SigningKey(ctx, e.AccessKeyID, sigv4.Scope{Date: parts[0], Region: parts[1], Service: parts[2]})
	if err != nil {
		return "", "", "Not explained: the signing key of its scope is not at hand."
	}
	provided := e.SignatureProvided
	signs := func(sts string) bool {
		l := strings.Split(sts, "\n")
		if len(l) != 4 || l[2] != lines[2] {
			return false
		}
		mac := hmac.New(sha256.New, key[:])
		mac.Write([]byte(sts))
		return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(provided))
	}
	answer, _ := xml.Marshal(s3Error{Code: e.Code, Message: e.Message, AWSAccessKeyID: e.AccessKeyID,
		StringToSign: e.StringToSign, SignatureProvided: provided, CanonicalRequest: e.CanonicalRequest})
	r, err := explain.Explain(explain.Input{Request: requestHead(x.req), Error: answer, Signs: signs, S3: g.verifier.S3})
	if err != nil {
		return "", "", "Not explained: " + err.Error()
	}
	return r.Cause(), r.Fix(), ""
}

// requestHead is the request line and headers as the gateway received
// them, in the request file format explain reads; it is not kept.
func requestHead(r *http.Request) []byte {
	c := *r
	c.Header = r.Header.Clone()
	if r.ContentLength > 0 { // net/http moved it out of the headers; it may be signed
		c.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	var b bytes.Buffer
	httpfile.Write(&b, &c, r.RequestURI, []httpfile.Field{{Name: "Host"}}, nil)
	return b.Bytes()
}

const failuresHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>sigv4 serve: recent failures</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 80rem; padding: 1rem 1.5rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; } th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-bottom: 1px solid #c8c8c8; overflow-wrap: anywhere; }
col.t { width: 11rem; } col.k { width: 14rem; } col.c { width: 14rem; } col.r { width: 22rem; }
td.m { font: 14px/1.4 ui-monospace, monospace; } a { color: #0b57d0; } :focus-visible { outline: 3px solid #0b57d0; }
p.hint, i { color: #595959; }
</style></head><body>
<h1>Recent failures</h1>
`

// maxListedCause is how much of a cause the list shows; the failure's
// own view has it whole.
const maxListedCause = 160

// writeFailuresPage writes the list, newest first, escaped.
func writeFailuresPage(w io.Writer, capacity int, list []Failure) {
	b := bufio.NewWriterSize(w, 64<<10)
	b.WriteString(failuresHead)
	fmt.Fprintf(b, "<p class=\"hint\">The last %d requests the gateway refused, newest first (%d kept): no secret, no signature, no session token, no body. Open one to see it step by step.</p>\n", capacity, len(list))
	b.WriteString(`<table><colgroup><col class="t"><col class="k"><col class="c"><col class="r"><col></colgroup><thead><tr><th scope="col">time (UTC)</th><th scope="col">access key</th><th scope="col">code</th><th scope="col">request</th><th scope="col">cause</th></tr></thead><tbody>` + "\n")
	var buf []byte
	for _, f := range list {
		buf = f.Time.AppendFormat(buf[:0], "2006-01-02 15:04:05")
		b.WriteString("<tr><td>")
		b.Write(buf)
		b.WriteString(`</td><td class="m">`)
		template.HTMLEscape(b, []byte(f.AccessKeyID))
		b.WriteString("</td><td>")
		template.HTMLEscape(b, []byte(f.Code))
		b.WriteString(`</td><td class="m"><a href="debug/?failure=`)
		b.WriteString(strconv.FormatUint(f.ID, 10))
		b.WriteString(`">`)
		template.HTMLEscape(b, []byte(f.Method+" "+f.Path))
		b.WriteString("</a></td><td>")
		cause := f.Cause
		if len(cause) > maxListedCause {
			n := maxListedCause
			for n > 0 && !utf8.RuneStart(cause[n]) {
				n--
			}
			cause = cause[:n] + "…"
		}
		template.HTMLEscape(b, []byte(cause))
		if f.Note != "" {
			b.WriteString("<i>not explained</i>")
		}
		b.WriteString("</td></tr>\n")
	}
	b.WriteString("</tbody></table></body></html>\n")
	b.Flush()
}

// adminFailures serves the failures page, each failure as the
// debugger's view (JSON), and the debugger itself.
func (g *Gateway) adminFailures(mux *http.ServeMux) {
	mux.HandleFunc("GET /failures", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		writeFailuresPage(w, cap(g.failures.buf), g.failures.list())
	})
	mux.HandleFunc("GET /failures/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		f, ok := g.failures.get(id)
		if err != nil || !ok {
			http.Error(w, "no such failure (the page keeps the last ones only)", http.StatusNotFound)
			return
		}
		v := explain.ServerView(f.Method, f.Path, f.AccessKeyID, f.Code, f.Message, f.CanonicalRequest, f.StringToSign,
			explain.Finding{Cause: f.Cause, Fix: f.Fix})
		v.Notes = append(v.Notes, "Refused at "+f.Time.Format(time.RFC3339)+", request ID "+f.RequestID+".")
		if f.Note != "" {
			v.Notes = append(v.Notes, f.Note)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(debugpage.Response{View: &v})
	})
	mux.Handle("/debug/", http.StripPrefix("/debug", debugpage.Handler()))
}
