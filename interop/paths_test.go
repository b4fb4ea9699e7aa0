package interop

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// The start of the differential test of issue 12: random paths, dot
// segments above all, signed by us and by botocore's SigV4Auth and the JS
// SDK v3's SignatureV4 for a service other than S3, compared signature
// for signature. SIGV4_DIFF_SEED picks another seed than CI's.

// diffPaths returns n random wire paths from seed.
func diffPaths(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 0x5167))
	segs := []string{"a", "b", "c%20d", "%C3%A9", ".", "..", "", "%2e", "%2E%2e", "~x", "a+b", "%2F", "x=y", "@", ":", "-_.", "%25"}
	paths := make([]string, n)
	for i := range paths {
		var b strings.Builder
		for range 1 + r.IntN(7) {
			b.WriteString("/" + segs[r.IntN(len(segs))])
		}
		if r.IntN(4) == 0 {
			b.WriteString("/")
		}
		paths[i] = b.String()
	}
	return paths
}

// signPath is our signature of a GET of path at the scripts' time.
func signPath(t *testing.T, path string, headers map[string]string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "https://example.amazonaws.com"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	s := &sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		Region: region, Service: serviceName, Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }}
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig
}

func TestPathsAgree(t *testing.T) {
	seed := diffSeed(t)
	paths := diffPaths(seed, 2000)
	input, _ := json.Marshal(paths)
	signers := []struct {
		name    string
		cmd     []string
		need    func(t *testing.T)
		headers map[string]string // what the signer adds and signs
	}{
		{"botocore", []string{"python3", filepath.Join("testdata", "botocore_paths.py")}, requireBoto3, nil},
		{"smithy", []string{"node", filepath.Join(nodeDir, "smithy_paths.js")}, func(t *testing.T) {
			requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
			if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@smithy", "signature-v4", "package.json")); err != nil {
				missingClient(t, "@smithy/signature-v4 is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund")
			}
		}, map[string]string{"X-Amz-Content-Sha256": sigv4.EmptySHA256}},
	}
	for _, sg := range signers {
		t.Run(sg.name, func(t *testing.T) {
			sg.need(t)
			cmd := exec.Command(sg.cmd[0], append(sg.cmd[1:], serviceName, region)...)
			cmd.Env = clientEnv(t, secretKey)
			cmd.Stdin = bytes.NewReader(input)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			var theirs []struct{ Creq, Signature string }
			if err := json.Unmarshal(out, &theirs); err != nil || len(theirs) != len(paths) {
				t.Fatalf("%d answers for %d paths: %v", len(theirs), len(paths), err)
			}
			disagree := 0
			for i, p := range paths {
				if ours := signPath(t, p, sg.headers); ours != theirs[i].Signature {
					if disagree++; disagree <= 5 {
						t.Errorf("path %q: our signature %s, %s's %s\n%s", p, ours, sg.name, theirs[i].Signature, theirs[i].Creq)
					}
				}
			}
			t.Logf("seed %d: %d paths, %d disagreements with %s", seed, len(paths), disagree, sg.name)
		})
	}
}
