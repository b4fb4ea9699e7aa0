package interop

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAWS4S3 puts, gets and fetches a presigned GET of an S3 object with
// aws4 and with aws4fetch (npm, pinned), path-style over plain HTTP.
func TestAWS4S3(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	for _, which := range []string{"aws4", "aws4fetch"} {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", which, "package.json")); err != nil {
			missingClient(t, "%s is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund (from the repository root)", which)
		}
	}
	data := testData()
	file := writeData(t, data)
	// aws4 signs the body's hash; aws4fetch signs UNSIGNED-PAYLOAD for S3.
	payloads := map[string][2]string{
		"aws4":      {sha256Hex(data), emptySHA256},
		"aws4fetch": {"UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD"},
	}
	for _, which := range []string{"aws4", "aws4fetch"} {
		t.Run(which, func(t *testing.T) {
			forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
				got := runScript(t, clientEnv(t, v.secret), "node",
					filepath.Join(nodeDir, "aws4_s3.js"), which, s.URL, bucket, objectKey, file)
				checkResults(t, v, data, got, "PutObject", "GetObject", "PresignedGetObject")
				checkOutcomes(t, s, v,
					want{method: "PUT", payload: payloads[which][0], signs: "x-amz-content-sha256"},
					want{method: "GET", payload: payloads[which][1]},
					want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
				)
			})
		})
	}
}
