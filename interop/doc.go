// Package interop checks the sigv4 Verifier against real S3 clients: boto3,
// the AWS CLI, curl, aws-sdk-go-v2 and the AWS SDK for JavaScript v3.
//
// Each test starts a small in-memory, path-style S3 server on 127.0.0.1
// whose handler verifies every request with sigv4.Verifier, and records what
// the verifier decided, so the tests assert on the server's verdict and not
// only on what a client printed. Every client is shown both accepted with the
// right secret and rejected (SignatureDoesNotMatch, 403) with a wrong one.
//
// The clients run as they are installed on the machine. A missing client
// skips its test with the command that installs it, except under CI=true,
// where it fails. The JavaScript SDK is pinned in node/package-lock.json and
// installed with:
//
//	npm ci --prefix interop/node --no-audit --no-fund
//
// Streaming uploads (aws-chunked, STREAMING-* payload hashes) are not
// implemented by the verifier yet, so every client here is driven to send a
// plain body with a hex SHA-256 payload hash: plain HTTP, a seekable or
// in-memory body.
package interop
