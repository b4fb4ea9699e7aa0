package main

import (
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// verifyingServer answers 200 with the body it got to a request that
// verifies (s3 and execute-api, us-east-1), else the error's status and
// code.
func verifyingServer(t *testing.T) *httptest.Server {
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
		Regions: []string{"us-east-1"}, Services: []string{"s3", "execute-api"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
		}
		if e, ok := err.(*sigv4.Error); ok {
			http.Error(w, e.Code, e.Status)
			return
		} else if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func curlEnv(t *testing.T) {
	awsHome(t, "", "")
	t.Setenv("AWS_ACCESS_KEY_ID", scriptAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", scriptSecret)
	t.Setenv("AWS_REGION", "us-east-1")
}

// TestCurlDryRun: --dry-run prints a curl command line that, run by curl
// itself, sends the request as signed: the server verifies it and gets
// the body. The same line with its body or a signed header changed is
// refused. What no command line can send (a streamed upload, a body from
// standard input) is refused with the reason.
func TestCurlDryRun(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		missingTool(t, "curl")
	}
	curlEnv(t)
	srv := verifyingServer(t)
	file := filepath.Join(t.TempDir(), "upload.txt")
	os.WriteFile(file, []byte("a file's bytes\n"), 0o600)
	for _, tc := range []struct {
		name, want string
		args       []string
		from, to   string // a change of the printed line that must be refused
	}{
		{"GET with a query", "", []string{"--service", "execute-api", srv.URL + "/prod/items?b=2&a=1"}, "b=2", "b=3"},
		{"--json", `{"a": [1, "two"]}`, []string{"--service", "execute-api", "--json", `{"a": [1, "two"]}`, srv.URL + "/prod/items"}, "two", "six"},
		{"PUT a file to S3", "a file's bytes\n", []string{"--service", "s3", "-T", file, "-H", "X-Amz-Meta-Note: it's quoted", srv.URL + "/bucket/key%20with%20space"}, "quoted", "quoteD"},
		{"-d with a header", "x=1&y=2", []string{"--service", "execute-api", "-XPATCH", "-HX-Custom:v", "-d", "x=1&y=2", srv.URL + "/prod/p"}, "PATCH", "PUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, errOut, code := runCLI(t, "", append([]string{"curl", "--dry-run"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			out, err := exec.Command("sh", "-c", strings.TrimSpace(line)+" -sS --fail-with-body").CombinedOutput()
			if err != nil || string(out) != tc.want {
				t.Errorf("curl ran %s\n-> %v %q, want %q", line, err, out, tc.want)
			}
			tampered := strings.Replace(line, tc.from, tc.to, 1)
			if tampered == line {
				t.Fatalf("%q is not in %s", tc.from, line)
			}
			if out, err := exec.Command("sh", "-c", strings.TrimSpace(tampered)+" -sS --fail-with-body").CombinedOutput(); err == nil {
				t.Errorf("the line changed was accepted: %s -> %q", tampered, out)
			}
		})
	}
	big := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(big, make([]byte, 100), 0o600)
	for _, args := range [][]string{
		{"--service", "s3", "-T", big, "--stream-over", "10", srv.URL + "/bucket/big"},
		{"--service", "s3", "-T", "-", srv.URL + "/bucket/stdin"},
		{"--service", "execute-api", "-d", "@-", srv.URL + "/prod/stdin"},
	} {
		if _, errOut, code := runCLI(t, "data", append([]string{"curl", "--dry-run"}, args...)...); code != 2 || !strings.Contains(errOut, "--dry-run: a ") {
			t.Errorf("%q: exit %d: %s", args, code, errOut)
		}
	}
}

// TestCurlFlagsBeyond: -u is refused with where credentials come from;
// --json sends JSON as curl does; -O names the file after the URL;
// --max-time gives up with curl's exit 28.
func TestCurlFlagsBeyond(t *testing.T) {
	curlEnv(t)
	srv := verifyingServer(t)
	if _, errOut, code := runCLI(t, "", "curl", "-u", "me:pw", srv.URL); code != 2 || !strings.Contains(errOut, "AWS_ACCESS_KEY_ID") {
		t.Errorf("-u: exit %d: %s", code, errOut)
	}
	var got http.Header
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone(); w.Write([]byte("saved")) }))
	defer echo.Close()
	if _, errOut, code := runCLI(t, "", "curl", "--service", "execute-api", "--json", "{}", echo.URL+"/x"); code != 0 ||
		got.Get("Content-Type") != "application/json" || got.Get("Accept") != "application/json" ||
		!strings.Contains(got.Get("Authorization"), "SignedHeaders=accept;content-type;host") {
		t.Errorf("--json: exit %d %s: %v", code, errOut, got)
	}
	t.Chdir(t.TempDir())
	if _, errOut, code := runCLI(t, "", "curl", "--service", "s3", "-sO", echo.URL+"/bucket/report.csv"); code != 0 {
		t.Errorf("-O: exit %d: %s", code, errOut)
	} else if data, err := os.ReadFile("report.csv"); err != nil || string(data) != "saved" {
		t.Errorf("-O wrote %q %v", data, err)
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	start := time.Now()
	if _, errOut, code := runCLI(t, "", "curl", "--service", "s3", "--max-time", "0.3", slow.URL+"/b/k"); code != 28 || time.Since(start) > 3*time.Second {
		t.Errorf("--max-time 0.3: exit %d after %v: %s", code, time.Since(start), errOut)
	}
}

// TestCurlWriteOut: -w writes what curl's -w writes for the same
// request and answer (all but the times).
func TestCurlWriteOut(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		missingTool(t, "curl")
	}
	curlEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("a,b\n1,2\n"))
	}))
	defer srv.Close()
	const format = `%{http_code} %{response_code} %{size_download} %{content_type} %{method} %{url_effective} 100%% \t|%{nosuch}|\n`
	for _, args := range [][]string{{"-s"}, {"-s", "-XDELETE"}, {"-s", "-o", "/dev/null"}} {
		url := srv.URL + "/b/k?x=1"
		want, err := exec.Command("curl", append(append(args, "-w", format), url)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		got, errOut, code := runCLI(t, "", append(append([]string{"curl", "--service", "s3"}, args...), "-w", format, url)...)
		if code != 0 || got != string(want) {
			t.Errorf("%q: exit %d %s\n got %q\nwant %q (curl's)", args, code, errOut, got, want)
		}
	}
}

// TestCurlConnectFlags: --resolve, --connect-to and -x connect elsewhere
// and sign for the URL's host: the server verifies the request, and
// receives the Host and request line that curl with the same flags sends.
func TestCurlConnectFlags(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		missingTool(t, "curl")
	}
	curlEnv(t)
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
		Regions: []string{"us-east-1"}, Services: []string{"execute-api"}}
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Host+" "+r.RequestURI)
		if r.Header.Get("Authorization") != "" {
			if _, err := v.Verify(r); err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
			}
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := strconv.Itoa(port)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"--resolve", []string{"--resolve", "api.example.test:" + p + ":127.0.0.1", "http://api.example.test:" + p + "/prod/r?a=1"}},
		{"--connect-to", []string{"--connect-to", "api.example.test:80:127.0.0.1:" + p, "http://api.example.test/prod/c"}},
		{"--connect-to with any port", []string{"--connect-to", "api.example.test::127.0.0.1:" + p, "http://api.example.test:8123/prod/c"}},
		{"-x", []string{"-x", "http://127.0.0.1:" + p, "http://api.example.test/prod/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			if out, err := exec.Command("curl", append([]string{"-sS", "-o", "/dev/null"}, tc.args...)...).CombinedOutput(); err != nil {
				t.Fatalf("curl: %v %s", err, out)
			}
			out, errOut, code := runCLI(t, "", append([]string{"curl", "-f", "--service", "execute-api"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("sigv4 curl: exit %d: %s %s", code, out, errOut)
			}
			if len(seen) != 2 || seen[0] != seen[1] {
				t.Errorf("the server saw %q (curl's first)", seen)
			}
		})
	}
	if _, errOut, code := runCLI(t, "", "curl", "--service", "execute-api", "--resolve", "nohost", "http://e/"); code != 2 || !strings.Contains(errOut, "HOST:PORT:ADDRESS") {
		t.Errorf("--resolve nohost: exit %d: %s", code, errOut)
	}
}

// TestCurlRetry: --retry sends again after a transient answer (503),
// signed anew and with the whole body each time, up to its count; what is
// not transient (403) is not retried. (curl_agree.txtar compares it with
// curl's own --retry.)
func TestCurlRetry(t *testing.T) {
	curlEnv(t)
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
		Regions: []string{"us-east-1"}, Services: []string{"s3"}}
	var tries, verified int
	failFirst := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries++
		res, err := v.Verify(r)
		if err == nil {
			var body []byte
			if body, err = io.ReadAll(res.Body); err == nil && string(body) == "the body, every time" {
				verified++
			}
		}
		switch {
		case r.URL.Path == "/b/forbidden":
			http.Error(w, "AccessDenied", http.StatusForbidden)
		case tries <= failFirst:
			http.Error(w, "SlowDown", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("done"))
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "body.txt")
	os.WriteFile(file, []byte("the body, every time"), 0o600)
	base := []string{"curl", "--service", "s3", "-T", file, "--retry-delay", "0.05"}
	out, errOut, code := runCLI(t, "", append(base, "--retry", "3", srv.URL+"/b/k")...)
	// As curl: standard output has the answers retried, then the last.
	if code != 0 || out != "SlowDown\nSlowDown\ndone" || tries != 3 || verified != 3 || strings.Count(errOut, "retrying") != 2 {
		t.Errorf("--retry 3: exit %d, %q, %d tries, %d verified with their body\n%s", code, out, tries, verified, errOut)
	}
	tries, verified = 0, 0
	if _, _, code := runCLI(t, "", append(base, "-f", "--retry", "1", srv.URL+"/b/k")...); code != 22 || tries != 2 {
		t.Errorf("--retry 1 against two 503s: exit %d after %d tries", code, tries)
	}
	tries, failFirst = 0, 0
	if _, _, code := runCLI(t, "", append(base, "-f", "--retry", "3", srv.URL+"/b/forbidden")...); code != 22 || tries != 1 {
		t.Errorf("--retry 3 against a 403: exit %d after %d tries", code, tries)
	}
}

// TestCurlForm: -F sends the multipart form curl -F sends for the same
// fields (each part's name, filename, Content-Type and content), signed:
// the server verifies it.
func TestCurlForm(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		missingTool(t, "curl")
	}
	curlEnv(t)
	v := &sigv4.Verifier{Keys: sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
		Regions: []string{"us-east-1"}, Services: []string{"execute-api"}}
	var forms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Authorization") != "" {
			res, err := v.Verify(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			body = res.Body
		}
		mr, err := multipart.NewReader(body, strings.TrimPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary=")), error(nil)
		var parts []string
		for {
			p, perr := mr.NextPart()
			if perr != nil {
				err = perr
				break
			}
			data, _ := io.ReadAll(p)
			parts = append(parts, fmt.Sprintf("%s|%s|%s|%q", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), data))
		}
		if err != io.EOF {
			http.Error(w, err.Error(), 400)
		}
		forms = append(forms, r.Method+" "+strings.Join(parts, " ; "))
	}))
	defer srv.Close()
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	os.WriteFile(report, []byte("a,b\n1,2\n"), 0o600)
	note := filepath.Join(dir, "note.txt")
	os.WriteFile(note, []byte("from a file"), 0o600)
	fields := []string{"-F", "name=alice", "-F", "file=@" + report, "-F", "typed=@" + report + ";type=text/csv;filename=r.csv",
		"-F", "note=<" + note, "-F", "json={\"a\":1};type=application/json"}
	if out, err := exec.Command("curl", append(append([]string{"-sS", "-f"}, fields...), srv.URL+"/prod/form")...).CombinedOutput(); err != nil {
		t.Fatalf("curl -F: %v %s", err, out)
	}
	if _, errOut, code := runCLI(t, "", append(append([]string{"curl", "-f", "--service", "execute-api"}, fields...), srv.URL+"/prod/form")...); code != 0 {
		t.Fatalf("sigv4 curl -F: exit %d: %s", code, errOut)
	}
	t.Logf("the form: %s", forms[len(forms)-1])
	if len(forms) != 2 || forms[0] != forms[1] {
		t.Errorf("the forms differ:\ncurl:  %s\nsigv4: %s", forms[0], forms[len(forms)-1])
	}
	if _, errOut, code := runCLI(t, "", "curl", "--service", "execute-api", "-F", "x=@/no/such/file", srv.URL+"/prod/form"); code != 26 {
		t.Errorf("-F of a missing file: exit %d: %s", code, errOut)
	}
}
