// Package interop checks the sigv4 Verifier against real S3 clients: boto3,
// the AWS CLI, curl, aws-sdk-go-v2 and aws-sdk-go (v1), the AWS SDK for
// JavaScript v3, the AWS SDK for Ruby, Perl's AWS::Signature4, and aws4 and
// aws4fetch (npm); and against signers of other services' requests:
// botocore, aws-sdk-go-v2, smithy-go's aws-http-auth, the JS SDK v3's
// SignatureV4, the Ruby SDK's aws-sigv4, aws4, aws4fetch and
// aws-requests-auth (Python).
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
// The tests named TestStream* upload 1 MiB and 64 MiB (skipped under
// -short) of random bytes aws-chunked, as each client sends a streaming
// upload: minio-go with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
// and -TRAILER with a signed x-amz-checksum-crc32c trailer), boto3, the AWS
// CLI and aws-sdk-go-v2 over HTTPS and the JS SDK with a stream body
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER). Each asserts the payload mode the
// client declared and the verifier's Result.PayloadHash, that the object
// stored is the bytes uploaded, and that nothing is stored when the seed
// signature is wrong or a payload byte is corrupted in transit (a chunk
// signature or the trailing checksum must catch it). The other tests drive
// each client to send a plain body with a hex SHA-256 payload hash.
package interop
