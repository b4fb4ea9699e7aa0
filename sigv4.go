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
