package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sigv4/sigv4"
)

// The script tests run the sigv4 binary (this test binary, re-executed as
// "sigv4") against a server that verifies every request with the library's
// Verifier. Each script is a file of testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sigv4": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// The credentials the scripts sign with, and the server accepts.
const (
	scriptAccessKey = "AKIASCRIPTEXAMPLE001"
	scriptSecret    = "script/Secret+Key/EXAMPLE0000000000000001"
)

func TestScripts(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil && ciRun() {
		t.Fatal("curl is not installed; .ci/run installs it (presign.txtar fetches URLs with it)")
	}
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: scriptSetup,
		Cmds:  map[string]func(ts *testscript.TestScript, neg bool, args []string){"fetch": fetchWithCurl, "agree": agreeCommand},
	})
}

// scriptSetup starts the verifying server and gives the script an
// environment with credentials and no AWS configuration of the machine's.
func scriptSetup(env *testscript.Env) error {
	srv := newScriptServer()
	env.Defer(srv.Close)
	if err := agreeSetup(env); err != nil {
		return err
	}
	for k, v := range map[string]string{
		"SERVER":                      srv.URL,
		"AWS_ACCESS_KEY_ID":           scriptAccessKey,
		"AWS_SECRET_ACCESS_KEY":       scriptSecret,
		"AWS_REGION":                  "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(env.WorkDir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(env.WorkDir, "aws-credentials"),
		"HOME":                        env.WorkDir,
	} {
		env.Setenv(k, v)
	}
	return nil
}

// fetchWithCurl runs the real curl, with no signing flags, on the URL in a
// file: "fetch URLFILE [curl args...]". Its output goes to the script's
// stdout.
func fetchWithCurl(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: fetch URLFILE [curl args...]")
	}
	u := strings.TrimSpace(ts.ReadFile(args[0]))
	err := ts.Exec("curl", append([]string{"-s", "-S", "--fail-with-body"}, append(args[1:], u)...)...)
	if (err != nil) != neg {
		ts.Fatalf("curl %s: %v", u, err)
	}
}

// scriptServer is a small path-style store behind the Verifier: PUT keeps
// the verified body, GET and HEAD return it, and any other verified
// request is answered with what was verified. Failures are S3 XML errors.
type scriptServer struct {
	*httptest.Server
	verifier *sigv4.Verifier
	mu       sync.Mutex
	objects  map[string][]byte
}

func newScriptServer() *scriptServer {
	s := &scriptServer{
		verifier: &sigv4.Verifier{
			Keys:    sigv4.NewKeyring(sigv4.Credentials{AccessKeyID: scriptAccessKey, SecretAccessKey: scriptSecret}),
			Regions: []string{"us-east-1"}, Services: []string{"*"},
		},
		objects: map[string][]byte{},
	}
	s.Server = httptest.NewServer(s)
	return s
}

func (s *scriptServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := s.verifier.Verify(r)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	data, err := io.ReadAll(res.Body)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	w.Header().Set("X-Verified-Payload", res.PayloadHash)
	w.Header().Set("X-Verified-Access-Key", res.Identity.AccessKeyID)
	key := r.URL.Path // decoded, as S3 names objects
	s.mu.Lock()
	obj, found := s.objects[key]
	if r.Method == http.MethodPut {
		s.objects[key] = data
	}
	s.mu.Unlock()
	switch {
	case r.Method == http.MethodPut:
		w.Header().Set("ETag", fmt.Sprintf("%q", fmt.Sprint(len(data))))
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && found:
		w.Header().Set("Content-Length", fmt.Sprint(len(obj)))
		w.Write(obj)
	default:
		fmt.Fprintf(w, "verified %s %s query=%s body=%d bytes\n", r.Method, key, r.URL.RawQuery, len(data))
	}
}

// writeS3Error answers as Amazon S3 does, with the canonical request and
// string to sign of a SignatureDoesNotMatch.
func writeS3Error(w http.ResponseWriter, err error) {
	e, ok := err.(*sigv4.Error)
	if !ok {
		e = &sigv4.Error{Code: "InternalError", Status: 500, Message: err.Error()}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	xml.NewEncoder(&b).Encode(struct {
		XMLName          xml.Name `xml:"Error"`
		Code             string
		Message          string
		AWSAccessKeyId   string `xml:",omitempty"`
		StringToSign     string `xml:",omitempty"`
		CanonicalRequest string `xml:",omitempty"`
	}{Code: e.Code, Message: e.Message, AWSAccessKeyId: e.AccessKeyID, StringToSign: e.StringToSign, CanonicalRequest: e.CanonicalRequest})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	w.Write(b.Bytes())
}
