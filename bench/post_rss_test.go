package bench

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4/postpolicy"
)

// TestGatewayPostRSS sends a 1 GiB browser upload (a POST policy form)
// through "sigv4 serve" (the built binary, its own process) to an
// upstream that counts what it gets, in both --post-policy modes, and
// reports the gateway's peak resident memory (VmHWM). The file is held
// until it verified: in memory up to MaxMemoryBody, then in a temporary
// file, so memory stays flat.
//
// It runs with go test ./... (a few seconds a mode), and fails above
// 64 MiB.
func TestGatewayPostRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB twice: not under -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sigv4").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, mode := range []string{"put", "passthrough"} {
		t.Run(mode, func(t *testing.T) { postRSS(t, bin, mode) })
	}
}

func postRSS(t *testing.T, bin, mode string) {
	const size = 1 << 30
	var received atomic.Int64
	var method atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method.Store(r.Method)
		n, _ := io.Copy(io.Discard, r.Body)
		received.Add(n)
	}))
	defer upstream.Close()
	dir := t.TempDir()
	addr, creds, cmd := startServe(t, bin, dir, upstream.URL, "--post-policy", mode)

	now := time.Now()
	p := postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: []postpolicy.Condition{
		postpolicy.Eq("key", "big/1gib.bin"), postpolicy.ContentLengthRange(1, 2<<30)}}
	fields, err := postpolicy.Sign(p, creds, "us-east-1", now, map[string]string{"bucket": "bucket", "key": "big/1gib.bin"})
	if err != nil {
		t.Fatal(err)
	}
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.CreateFormFile("file", "1gib.bin")
	head := bytes.Clone(form.Bytes())
	form.Reset()
	w.Close()
	tail := form.Bytes()
	body := io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, size), bytes.NewReader(tail))
	req, _ := http.NewRequest("POST", "http://"+addr+"/bucket", body)
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", w.FormDataContentType())
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	hwm := vmHWM(t, cmd.Process.Pid)
	want, wantMethod, wantStatus := int64(size), "PUT", http.StatusNoContent
	if mode == "passthrough" {
		want, wantMethod, wantStatus = req.ContentLength, "POST", http.StatusOK
	}
	if resp.StatusCode != wantStatus || received.Load() != want || method.Load() != wantMethod {
		t.Fatalf("status %s %s; upstream received %v of %d bytes, want %s of %d", resp.Status, answer, method.Load(), received.Load(), wantMethod, want)
	}
	t.Logf("1 GiB by POST (--post-policy %s) through sigv4 serve: %v (%.0f MB/s); gateway peak RSS (VmHWM) %d KiB",
		mode, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6, hwm)
	if hwm > 64<<10 {
		t.Errorf("the gateway's peak RSS was %d KiB for a 1 GiB POST; the bound is 64 MiB", hwm)
	}
}
