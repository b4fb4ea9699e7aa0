package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sigv4/sigv4"
)

// The "agree" script command runs the real curl and "sigv4 curl" with the
// same flags against a recording server, and fails unless they did the
// same: the same exit code, standard output and files written, and at
// every request the same request line and headers but for the signature's
// own (Authorization and X-Amz-Date, present in both or neither) and
// User-Agent, and the same verdict of the server's Verifier.
//
//	agree [-service NAME] [-curl-missigns] [curl flags...] URL
//
// curl signs with --aws-sigv4 for NAME (default execute-api) in
// us-east-1; sigv4 curl with --service NAME at curl's signing time. A
// flag curl lacks is not for agree. -curl-missigns is for a request curl
// signs wrongly (curl 7.88 signs the hash of an empty body for -T): the
// verdicts, and so the echoes on standard output, are not compared, and
// every request of sigv4 curl must verify.

// agreeServer records what each request was, and answers by its path:
//
//	/redirect/CODE/REST  CODE, Location: /REST (and the query)
//	/other/CODE/REST     CODE, Location: the other server's /REST
//	/flaky/N/REST        503 for the first N requests of the path, then REST
//	/slow/MS/REST        REST after MS milliseconds
//	/status/CODE/REST    CODE, with the echo
//	anything else        200, an echo of the verdict, request, header
//	                     names and body
type agreeServer struct {
	*httptest.Server
	verifier *sigv4.Verifier
	other    *agreeServer
	mu       sync.Mutex
	seen     []agreeRequest
	hits     map[string]int
}

type agreeRequest struct {
	line, verdict, body string
	header              http.Header
}

var agreeServers sync.Map // URL → *agreeServer

var userInfo = regexp.MustCompile(`://[^/@\s]+:[^/@\s]+@`)

func newAgreeServer() *agreeServer {
	s := &agreeServer{
		verifier: &sigv4.Verifier{
			Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
			Regions: []string{"us-east-1"}, Services: []string{"*"},
		},
		hits: map[string]int{},
	}
	s.Server = httptest.NewServer(s)
	agreeServers.Store(s.URL, s)
	return s
}

func (s *agreeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Date"] = nil      // the same answer to curl and to sigv4
	body, _ := io.ReadAll(r.Body) // as sent, whatever the verdict
	r.Body = io.NopCloser(bytes.NewReader(body))
	verdict := "unsigned"
	if r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature") {
		res, err := s.verifier.Verify(r)
		if err == nil {
			verdict = "verified"
			_, err = io.Copy(io.Discard, res.Body)
		}
		var e *sigv4.Error
		if errors.As(err, &e) {
			verdict = e.Code
		}
	}
	summary := summarizeBody(r.Header.Get("Content-Type"), body)
	s.mu.Lock()
	s.seen = append(s.seen, agreeRequest{line: r.Method + " " + r.RequestURI, verdict: verdict, body: summary, header: r.Header.Clone()})
	s.mu.Unlock()
	names := slices.DeleteFunc(slices.Sorted(maps.Keys(r.Header)), func(k string) bool { return k == "Proxy-Connection" })
	s.route(w, r, r.URL.Path, fmt.Sprintf("%s %s %s\nheaders %s\n%s", verdict, r.Method, r.RequestURI, strings.Join(names, " "), summary))
}

func (s *agreeServer) route(w http.ResponseWriter, r *http.Request, path, echo string) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	n := 0
	if len(parts) >= 2 {
		n, _ = strconv.Atoi(parts[1])
	}
	rest := "/"
	if len(parts) == 3 {
		rest += parts[2]
	}
	query := ""
	if r.URL.RawQuery != "" {
		query = "?" + r.URL.RawQuery
	}
	switch parts[0] {
	case "redirect", "other":
		to := rest + query
		if parts[0] == "other" {
			to = s.other.URL + to
		}
		w.Header().Set("Location", to)
		w.WriteHeader(n)
	case "flaky":
		s.mu.Lock()
		s.hits[path]++
		again := s.hits[path] <= n
		s.mu.Unlock()
		if again {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		s.route(w, r, rest, echo)
	case "slow":
		time.Sleep(time.Duration(n) * time.Millisecond)
		s.route(w, r, rest, echo)
	case "status":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(n)
		io.WriteString(w, echo)
	default:
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, echo)
	}
}

// summarizeBody is the body's length and hash, or for a multipart form
// its parts (curl and sigv4 choose different boundaries).
func summarizeBody(contentType string, body []byte) string {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		return fmt.Sprintf("body %d bytes sha256 %x", len(body), sha256.Sum256(body))
	}
	var b strings.Builder
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(&b, "bad form: %v\n", err)
			}
			return b.String()
		}
		data, _ := io.ReadAll(p)
		fmt.Fprintf(&b, "part %q filename %q type %q: %q\n", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), data)
	}
}

// take returns and forgets what was recorded, and resets the paths'
// counts, of this server and the other.
func (s *agreeServer) take() []agreeRequest {
	var all []agreeRequest
	for _, x := range []*agreeServer{s, s.other} {
		x.mu.Lock()
		all = append(all, x.seen...)
		x.seen, x.hits = nil, map[string]int{}
		x.mu.Unlock()
	}
	return all
}

// agreeSetup starts the two recording servers: AGREE, and OTHER (another
// port: another host, to curl's rules and ours).
func agreeSetup(env *testscript.Env) error {
	a, b := newAgreeServer(), newAgreeServer()
	a.other, b.other = b, a
	env.Defer(func() { a.Close(); b.Close(); agreeServers.Delete(a.URL); agreeServers.Delete(b.URL) })
	env.Setenv("AGREE", a.URL)
	env.Setenv("AGREE_PORT", a.URL[strings.LastIndex(a.URL, ":")+1:])
	env.Setenv("OTHER", b.URL)
	addr, closeIt, err := blackhole()
	if err != nil {
		return fmt.Errorf("no address for --connect-timeout to time out on: %v", err)
	}
	env.Defer(closeIt)
	env.Setenv("BLACKHOLE", addr)
	return nil
}

// blackhole is an address whose connections never complete: a listener
// with a backlog of one, full, that accepts nothing; further SYNs are
// dropped, as by a firewall, so --connect-timeout is what ends a try.
func blackhole() (string, func(), error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, err
	}
	sa := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	bound, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", bound.(*syscall.SockaddrInet4).Port)
	var fill []net.Conn
	for range 3 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break // the queue is full
		}
		fill = append(fill, c)
	}
	return addr, func() {
		for _, c := range fill {
			c.Close()
		}
		syscall.Close(fd)
	}, nil
}

// agreeRun is what one command did.
type agreeRun struct {
	code           int
	stdout, stderr string
	files          map[string]string
	requests       []agreeRequest
}

func agreeCommand(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! agree")
	}
	service, missigns := "execute-api", false
	if len(args) >= 2 && args[0] == "-service" {
		service, args = args[1], args[2:]
	}
	if len(args) >= 1 && args[0] == "-curl-missigns" {
		missigns, args = true, args[1:]
	}
	srvAny, ok := agreeServers.Load(ts.Getenv("AGREE"))
	if !ok {
		ts.Fatalf("no agree server")
	}
	srv := srvAny.(*agreeServer)
	srv.take()
	curl := agreeExec(ts, srv, "curl", append([]string{"--aws-sigv4", "aws:amz:us-east-1:" + service,
		"--user", scriptAccessKey + ":" + scriptSecret}, args...))
	// curl's %{url_effective} carries the --user it signs with.
	curl.stdout = userInfo.ReplaceAllString(curl.stdout, "://")
	at := time.Now().UTC()
	if len(curl.requests) > 0 {
		if t, err := time.Parse("20060102T150405Z", curl.requests[0].header.Get("X-Amz-Date")); err == nil {
			at = t
		}
	}
	ours := agreeExec(ts, srv, "sigv4", append([]string{"curl", "--service", service, "--region", "us-east-1",
		"--time", at.Format(time.RFC3339)}, args...))
	if diffs := agreeDiff(curl, ours, missigns); len(diffs) > 0 {
		ts.Logf("curl: exit %d\n%s\nsigv4 curl: exit %d\n%s", curl.code, curl.stderr, ours.code, ours.stderr)
		ts.Fatalf("curl and sigv4 curl differ:\n%s", strings.Join(diffs, "\n"))
	}
	fmt.Fprintf(ts.Stdout(), "%s", ours.stdout)
	ts.Logf("agree: exit %d, %d requests: %s", ours.code, len(ours.requests), requestLines(ours.requests))
}

// agreeExec runs name in a new empty directory and reads what it did.
func agreeExec(ts *testscript.TestScript, srv *agreeServer, name string, args []string) agreeRun {
	dir, err := os.MkdirTemp(ts.MkAbs("."), "agree-"+name+"-")
	ts.Check(err)
	err = ts.Exec("sh", append([]string{"-c", `cd "$1" && shift && exec "$@"`, "sh", dir, name}, args...)...)
	run := agreeRun{stdout: ts.ReadFile("stdout"), stderr: ts.ReadFile("stderr"), files: map[string]string{}, requests: srv.take()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.code = exit.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", name, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		run.files[e.Name()] = string(data)
	}
	os.RemoveAll(dir)
	return run
}

// agreeIgnored are the headers whose values differ by design: the
// signature's, the client's name, and curl's obsolete Proxy-Connection.
var agreeIgnored = []string{"Authorization", "X-Amz-Date", "User-Agent", "Proxy-Connection"}

func agreeDiff(curl, ours agreeRun, missigns bool) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if curl.code != ours.code {
		add("exit code: curl %d, sigv4 %d", curl.code, ours.code)
	}
	if curl.stdout != ours.stdout && !missigns {
		add("standard output:\ncurl:  %q\nsigv4: %q", curl.stdout, ours.stdout)
	}
	if fmt.Sprint(curl.files) != fmt.Sprint(ours.files) {
		add("files written:\ncurl:  %q\nsigv4: %q", curl.files, ours.files)
	}
	if len(curl.requests) != len(ours.requests) {
		add("requests: curl %s, sigv4 %s", requestLines(curl.requests), requestLines(ours.requests))
		return diffs
	}
	for i, c := range curl.requests {
		o := ours.requests[i]
		if missigns {
			c.verdict = o.verdict
			if o.verdict != "verified" {
				add("request %d (%s): sigv4's does not verify: %s", i+1, o.line, o.verdict)
			}
		}
		if c.line != o.line || c.verdict != o.verdict || c.body != o.body {
			add("request %d:\ncurl:  %s (%s) %s\nsigv4: %s (%s) %s", i+1, c.line, c.verdict, c.body, o.line, o.verdict, o.body)
		}
		if d := headerDiff(c.header, o.header); d != "" {
			add("request %d (%s) headers: %s", i+1, c.line, d)
		}
	}
	return diffs
}

func headerDiff(curl, ours http.Header) string {
	names := map[string]bool{}
	for k := range curl {
		names[k] = true
	}
	for k := range ours {
		names[k] = true
	}
	var diffs []string
	for k := range names {
		c, o := curl.Values(k), ours.Values(k)
		switch {
		case k == "Proxy-Connection":
			continue
		case slices.Contains(agreeIgnored, k):
			c, o = presence(c), presence(o)
		}
		if multipartHeader(curl, ours, k) {
			continue // their boundaries, and so the lengths, differ
		}
		if !slices.Equal(c, o) {
			diffs = append(diffs, fmt.Sprintf("%s: curl %q, sigv4 %q", k, c, o))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

func presence(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return []string{"(present)"}
}

func multipartHeader(curl, ours http.Header, name string) bool {
	form := strings.HasPrefix(curl.Get("Content-Type"), "multipart/form-data; boundary=") &&
		strings.HasPrefix(ours.Get("Content-Type"), "multipart/form-data; boundary=")
	return form && (name == "Content-Type" || name == "Content-Length")
}

func requestLines(rs []agreeRequest) string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		lines[i] = r.line + " (" + r.verdict + ")"
	}
	return "[" + strings.Join(lines, ", ") + "]"
}

// TestAgreeDiff: the comparison behind "agree" finds each kind of
// difference, and passes over only the signature's own headers.
func TestAgreeDiff(t *testing.T) {
	base := func() agreeRun {
		return agreeRun{code: 0, stdout: "out", files: map[string]string{"f": "x"},
			requests: []agreeRequest{{line: "GET /a", verdict: "verified", body: "b",
				header: http.Header{"Accept": {"*/*"}, "Authorization": {"sig1"}, "X-Amz-Date": {"1"}}}}}
	}
	if d := agreeDiff(base(), base(), false); len(d) != 0 {
		t.Fatalf("the same runs differ: %q", d)
	}
	same := base()
	same.requests[0].header = http.Header{"Accept": {"*/*"}, "Authorization": {"sig2"}, "X-Amz-Date": {"2"}, "User-Agent": {"sigv4"}}
	if d := agreeDiff(base(), same, false); len(d) != 1 || !strings.Contains(d[0], "User-Agent") {
		t.Errorf("another signature: %q (only User-Agent's presence should differ)", d)
	}
	for name, change := range map[string]func(*agreeRun){
		"exit code":        func(r *agreeRun) { r.code = 22 },
		"standard output":  func(r *agreeRun) { r.stdout = "other" },
		"files written":    func(r *agreeRun) { r.files["f"] = "y" },
		"requests":         func(r *agreeRun) { r.requests = nil },
		"request 1:":       func(r *agreeRun) { r.requests[0].line = "POST /a" },
		"request 1 (":      func(r *agreeRun) { r.requests[0].header.Set("Accept", "text/plain") },
		"verdict":          func(r *agreeRun) { r.requests[0].verdict = "SignatureDoesNotMatch" },
		"no authorization": func(r *agreeRun) { r.requests[0].header.Del("Authorization") },
	} {
		r := base()
		change(&r)
		if d := agreeDiff(base(), r, false); len(d) == 0 {
			t.Errorf("%s changed: no difference found", name)
		}
	}
	missigned := base()
	missigned.requests[0].verdict = "SignatureDoesNotMatch"
	if d := agreeDiff(missigned, base(), true); len(d) != 0 {
		t.Errorf("-curl-missigns, curl's refused: %q", d)
	}
	if d := agreeDiff(base(), missigned, true); len(d) == 0 {
		t.Errorf("-curl-missigns, sigv4's refused: no difference found")
	}
}
