package interop

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAWS4Node signs requests for a service other than S3 with aws4, the
// npm package many Node programs sign with (an implementation of its own,
// pinned in node/package-lock.json), including a path with dot segments
// and a repeated slash, which aws4 normalizes as AWS does outside S3 (see
// testServiceSigner).
func TestAWS4Node(t *testing.T) {
	requireCommand(t, "node", "apt-get install -y nodejs npm, then npm ci --prefix interop/node --no-audit --no-fund")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "aws4", "package.json")); err != nil {
		missingClient(t, "aws4 is not installed; install it with: npm ci --prefix interop/node --no-audit --no-fund (from the repository root)")
	}
	testServiceSigner(t, append(serviceOps, "GetDotSegments", "PresignedGet"), "node", filepath.Join(nodeDir, "aws4_service.js"))
}
