package interop

import (
	"os"
	"path/filepath"
	"testing"
)

// nodeDir holds the pinned JS SDK (package.json, package-lock.json) and
// the script that drives it.
const nodeDir = "node"

// requireJSSDK checks for node and the installed, pinned SDK packages.
func requireJSSDK(t *testing.T) {
	t.Helper()
	const install = "npm ci --prefix interop/node --no-audit --no-fund (from the repository root)"
	requireCommand(t, "node", "apt-get install -y nodejs npm, then "+install)
	for _, pkg := range []string{"@aws-sdk/client-s3", "@aws-sdk/s3-request-presigner"} {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", pkg, "package.json")); err != nil {
			missingClient(t, "%s is not installed; install it with: %s", pkg, install)
		}
	}
}

// TestJSSDK puts and gets an object with the AWS SDK for JavaScript v3 and
// fetches a presigned GET with fetch(). The body is a Buffer, which the SDK
// signs as a hex SHA-256; a stream is sent aws-chunked even over plain
// HTTP (TestStreamJSSDK).
func TestJSSDK(t *testing.T) {
	requireJSSDK(t)
	data := testData()
	file := writeData(t, data)
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		got := runScript(t, clientEnv(t, v.secret), "node",
			filepath.Join(nodeDir, "s3client.js"), s.URL, bucket, objectKey, file)
		checkResults(t, v, data, got, "PutObject", "GetObject", "PresignedGetObject")
		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "x-amz-checksum-crc32"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}
