package explain

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// MaxInput bounds what explain reads of a request, trace or HAR file.
const MaxInput = 64 << 20

const maxCapture = MaxInput

// capture is what explain was given, read: the request as sent and, from
// a curl -v trace or a HAR entry, the server's answer.
type capture struct {
	file   *httpfile.File
	status int    // the answer's status; 0 if none was given
	answer []byte // the answer's body
	notes  []string
}

// parseCapture reads a request in any of the forms people have: the raw
// request, the output of curl -v or sigv4 curl -v (2>&1 keeps the answer's
// body), or a HAR file (entry picks one, from 1; 0: the last signed one
// that failed).
func parseCapture(data []byte, entry int) (*capture, error) {
	if len(data) > maxCapture {
		return nil, fmt.Errorf("the request is over %d MiB", maxCapture>>20)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		return parseHAR(trimmed, entry)
	case isTrace(data):
		return parseTrace(data)
	case isURL(trimmed):
		return urlRequest(string(bytes.TrimSpace(trimmed)))
	}
	if len(data) > httpfile.MaxSize {
		return nil, errors.New("the request file is too large")
	}
	f, err := httpfile.Parse(data)
	if err != nil {
		return nil, err
	}
	return &capture{file: f}, nil
}

// isURL: a presigned URL pasted alone, on one line.
func isURL(data []byte) bool {
	line := bytes.TrimSpace(data)
	return (bytes.HasPrefix(line, []byte("https://")) || bytes.HasPrefix(line, []byte("http://"))) && !bytes.ContainsAny(line, " \t\r\n")
}

// urlRequest is the GET that a URL pasted alone stands for, as a browser
// or curl sends it.
func urlRequest(u string) (*capture, error) {
	scheme, host, target, ok := splitURL(u)
	if !ok {
		return nil, fmt.Errorf("the URL %q is not http or https", u)
	}
	if host == "" {
		return nil, fmt.Errorf("the URL %q has no host", u)
	}
	f := &httpfile.File{Method: "GET", Target: target, Proto: "HTTP/1.1", Headers: []httpfile.Field{{Name: "Host", Value: host}}}
	return &capture{file: f, notes: []string{"A URL alone: explained as the GET a browser or curl sends for it (" + scheme + ")."}}, nil
}

// splitURL splits an http or https URL, as written, into its scheme, host
// and target (path and query, "/" when there is none), without its
// fragment.
func splitURL(u string) (scheme, host, target string, ok bool) {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme != "http" && scheme != "https" {
		return "", "", "", false
	}
	rest, _, _ = strings.Cut(rest, "#")
	host, target = rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	return scheme, host, target, true
}

// isTrace: a line that starts with "> " (curl -v's request lines).
func isTrace(data []byte) bool {
	return bytes.HasPrefix(data, []byte("> ")) || bytes.Contains(data, []byte("\n> "))
}

// exchange is one request and its answer in a trace.
type exchange struct {
	request, response []string
	body              []string
}

// parseTrace reads curl -v output: "> " lines are the request, "< " lines
// the answer's head, and the lines after it, up to the next request, its
// body, but for curl's own lines (traceNoise). The last exchange is
// explained.
func parseTrace(data []byte) (*capture, error) {
	var all []*exchange
	var cur *exchange
	inBody := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == ">" || strings.HasPrefix(line, "> "):
			if cur == nil || len(cur.response) > 0 {
				cur = &exchange{}
				all = append(all, cur)
			}
			cur.request = append(cur.request, strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "))
			inBody = false
		case cur != nil && (line == "<" || strings.HasPrefix(line, "< ")):
			rest := strings.TrimPrefix(strings.TrimPrefix(line, "<"), " ")
			cur.response = append(cur.response, rest)
			inBody = rest == ""
		case inBody:
			// Standard output is buffered: the body may follow curl's
			// last "*" lines and progress meter, or end on one.
			line, _, _ = strings.Cut(line, "* Connection #")
			if i := strings.LastIndexByte(line, '\r'); i >= 0 {
				line = line[i+1:]
			}
			if !traceNoise(line) {
				cur.body = append(cur.body, line)
			}
		}
	}
	if len(all) == 0 {
		return nil, errors.New("the trace has no request lines (\"> \")")
	}
	last := all[len(all)-1]
	f, err := httpfile.Parse([]byte(strings.Join(last.request, "\r\n") + "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("the trace's request: %v", err)
	}
	c := &capture{file: f}
	if len(all) > 1 {
		c.notes = append(c.notes, fmt.Sprintf("The trace holds %d requests; this is the last, %s %s.", len(all), f.Method, f.Target))
	}
	if len(last.response) > 0 {
		c.status = statusOf(last.response[0])
		c.answer = []byte(strings.TrimSpace(strings.Join(last.body, "\n")))
	}
	if hasBody(f) {
		c.notes = append(c.notes, "curl -v does not show the request's body: give it with --body FILE for explain to hash it.")
	}
	return c, nil
}

// curlMeter matches a line of curl's progress meter.
var curlMeter = regexp.MustCompile(`^\s*\d{1,3}\s+\S+\s+\d{1,3}\s+\S+\s+\d{1,3}\s+\S+\s+\S+\s+\S+\s+(--:--:--|\d+:\d\d:\d\d)|^\s+% Total\s|^\s+Dload\s+Upload`)

// traceNoise: a line of curl's own, not of the body: "*" information,
// "{ [n bytes data]", the progress meter.
func traceNoise(line string) bool {
	return strings.HasPrefix(line, "* ") || line == "*" || strings.HasPrefix(line, "{ [") ||
		strings.HasPrefix(line, "} [") || curlMeter.MatchString(line)
}

// hasBody: the request declares a body that the capture does not hold
// and whose hash it does not carry.
func hasBody(f *httpfile.File) bool {
	n, _ := strconv.ParseInt(header(f, "Content-Length"), 10, 64)
	return n > 0 && len(f.Body) == 0 && header(f, "X-Amz-Content-Sha256") == ""
}

func header(f *httpfile.File, name string) string {
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// statusOf reads the code of "HTTP/1.1 403 Forbidden".
func statusOf(line string) int {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(fields[1])
	return n
}

// The parts of a HAR file (HTTP Archive 1.2) that explain reads.
type harFile struct {
	Log struct {
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	Request struct {
		Method      string      `json:"method"`
		URL         string      `json:"url"`
		HTTPVersion string      `json:"httpVersion"`
		Headers     []harHeader `json:"headers"`
		PostData    *struct {
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"postData"`
	} `json:"request"`
	Response struct {
		Status  int `json:"status"`
		Content struct {
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"content"`
	} `json:"response"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func parseHAR(data []byte, entry int) (*capture, error) {
	var h harFile
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("the request is JSON but not a HAR file: %v", err)
	}
	n := len(h.Log.Entries)
	if n == 0 {
		return nil, errors.New("the HAR file has no entries")
	}
	if entry > n || entry < 0 {
		return nil, fmt.Errorf("entry %d: the HAR file has %d entries", entry, n)
	}
	i := entry - 1
	if entry == 0 {
		if i = pickEntry(h.Log.Entries); i < 0 {
			return nil, errors.New("no entry of the HAR file carries a signature (an Authorization header AWS4-..., or X-Amz-Signature): " +
				"a browser's sanitized HAR export leaves Authorization out; export it with sensitive data, or use --entry N")
		}
	}
	e := &h.Log.Entries[i]
	f, err := harRequest(e)
	if err != nil {
		return nil, fmt.Errorf("HAR entry %d: %v", i+1, err)
	}
	c := &capture{file: f, status: e.Response.Status, answer: []byte(e.Response.Content.Text)}
	if e.Response.Content.Encoding == "base64" {
		c.answer, _ = base64.StdEncoding.DecodeString(e.Response.Content.Text)
	}
	c.notes = append(c.notes, fmt.Sprintf("HAR entry %d of %d: %s %s, answered %d.", i+1, n, e.Request.Method, e.Request.URL, e.Response.Status))
	return c, nil
}

// pickEntry is the last signed entry that failed, else the last signed
// one; -1 if none is signed.
func pickEntry(entries []harEntry) int {
	signed := -1
	for i := len(entries) - 1; i >= 0; i-- {
		e := &entries[i]
		_, query, _ := strings.Cut(e.Request.URL, "?")
		isSigned := authz.IsPresigned(query)
		for _, h := range e.Request.Headers {
			isSigned = isSigned || strings.EqualFold(h.Name, "Authorization") && strings.HasPrefix(h.Value, "AWS4-")
		}
		switch {
		case !isSigned:
		case e.Response.Status >= 400:
			return i
		case signed < 0:
			signed = i
		}
	}
	return signed
}

// harRequest is the entry's request as sent: the URL's target as written,
// the headers but HTTP/2's pseudo-headers, Host from :authority or the URL.
func harRequest(e *harEntry) (*httpfile.File, error) {
	_, host, target, ok := splitURL(e.Request.URL)
	if !ok {
		return nil, fmt.Errorf("the URL %q is not http or https", e.Request.URL)
	}
	f := &httpfile.File{Method: e.Request.Method, Target: target, Proto: "HTTP/1.1"}
	hasHost := false
	for _, h := range e.Request.Headers {
		switch {
		case strings.EqualFold(h.Name, ":authority"):
			host = h.Value
		case strings.HasPrefix(h.Name, ":"):
		default:
			hasHost = hasHost || strings.EqualFold(h.Name, "Host")
			f.Headers = append(f.Headers, httpfile.Field{Name: h.Name, Value: h.Value})
		}
	}
	if !hasHost {
		f.Headers = append([]httpfile.Field{{Name: "Host", Value: host}}, f.Headers...)
	}
	if p := e.Request.PostData; p != nil {
		f.Body = []byte(p.Text)
		if p.Encoding == "base64" {
			body, err := base64.StdEncoding.DecodeString(p.Text)
			if err != nil {
				return nil, fmt.Errorf("postData: %v", err)
			}
			f.Body = body
		}
	}
	return f, nil
}
