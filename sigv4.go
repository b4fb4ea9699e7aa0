// Package sigv4 signs and verifies requests with AWS Signature Version 4.
//
// A [Signer] signs a request with an Authorization header ([Signer.Sign]) or
// as a presigned URL ([Signer.Presign]). A [Verifier] checks either form
// through one entry point, [Verifier.Verify], and returns the verified
// identity and the only body a handler may read.
//
// Both sides build the canonical request with the same code, so a request
// this package signs is a request it verifies, and the official AWS test
// suite runs through both.
//
// # Keys
//
// A verifier never needs a secret access key: it asks a [KeySource] for the
// signing key of one access key, day, region and service. [Keyring] is a
// KeySource over secrets held in memory; other sources (a credential store,
// a key authority) hand out only scoped keys.
//
// # SigV4a
//
// Verify also checks AWS4-ECDSA-P256-SHA256 (SigV4a) signatures, in both
// forms, when its KeySource is a [PublicKeySource]: the signature is checked
// with the access key's public key, and the signed X-Amz-Region-Set (whose
// entries may hold '*') must take in one of the verifier's regions. A
// Keyring derives public keys from its secrets; a [PublicKeyring] holds
// public keys only, so that a verifier of SigV4a holds no secret at all.
//
// # Errors
//
// Every verification failure is an [*Error] carrying the AWS error code a
// client understands ("SignatureDoesNotMatch", "RequestTimeTooSkewed", ...)
// and the HTTP status AWS answers with. Compare with [errors.Is] against the
// Err* sentinels.
//
// # Amazon S3
//
// Amazon S3 canonicalizes paths differently from other services: it does
// not normalize them and encodes them once rather than twice. These rules
// apply when the service is "s3", or when the S3 field of a Signer or
// Verifier is set.
//
// # Signature Version 2
//
// With [Verifier.SigV2] on, Verify also accepts Amazon S3's legacy AWS
// Signature Version 2, which old tools still send (s3cmd signurl, boto's
// "s3" signer, backup tools): an "AWS AccessKeyId:Signature" Authorization
// header, whose Date or x-amz-date must be within MaxSkew, or a URL with
// AWSAccessKeyId, Signature and Expires (seconds since the epoch, not
// past). The signature is the HMAC-SHA1, under the secret itself, of S3's
// string to sign: the method, Content-MD5, Content-Type, the date (empty
// when x-amz-date gives it; Expires for a URL), every x-amz-* header (and,
// for a URL, every x-amz-* query parameter), and the resource: the bucket
// of a virtual-hosted request (see [Verifier.VirtualHostDomains]), the
// path as received, and S3's sub-resources (acl, uploadId, partNumber,
// versionId, the response-* overrides and the others S3 and botocore
// sign). A Result of SigV2 has Algorithm "AWS", Scope.Service "s3" and no
// region, no SignedHeaders, and for a URL the Expires as its Time.
//
// SigV2 covers less than SigV4, which is why it is off by default: not the
// body (Content-MD5, when sent, is signed, and Result.Body checks it), not
// the host of a path-style request, not the query parameters that are not
// sub-resources (prefix, max-keys...), and a URL may be good for any time
// its signer chose. Its key is the secret itself, so only a [SigV2Source]
// (a Keyring, credstore's Store) can check it: a verifier that holds only
// derived, scoped keys refuses SigV2, saying so.
package sigv4

import (
	"log/slog"
	"time"

	"github.com/sigv4/sigv4/internal/canonical"
)

// Credentials are an AWS access key pair and, for temporary credentials,
// a session token.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// LogValue keeps the secret and the token out of logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID))
}

// Scope is the credential scope of a signature: the day, region and service
// the signing key is good for.
type Scope struct {
	Date    string // YYYYMMDD
	Region  string // empty for SigV4a
	Service string
}

// String returns Date/Region/Service/aws4_request.
func (s Scope) String() string {
	return string(canonical.AppendScope(nil, s.Date, s.Region, s.Service))
}

// Identity is who signed a verified request, as its KeySource describes
// the access key.
type Identity struct {
	AccessKeyID string
	// Principal names the owner of the key: a user name or an ARN.
	Principal string
	// SessionToken, if set, must be sent with every request signed with
	// this key (temporary credentials); Expiration, if set, ends the key.
	SessionToken string
	Expiration   time.Time
}

// LogValue keeps the session token out of logs.
func (id Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", id.AccessKeyID), slog.String("principal", id.Principal))
}
