// Package sigv4a is SigV4a, AWS4-ECDSA-P256-SHA256: the asymmetric variant
// of Signature Version 4, whose one signature is good in several regions
// and which a verifier checks with a public key only.
//
// Signing and verifying go through the same code as SigV4, and the same
// canonicalization: a [sigv4.Signer] with a RegionSet signs with SigV4a
// ([NewSigner] makes one), and [sigv4.Verifier.Verify] checks SigV4a
// requests when its KeySource is a [sigv4.PublicKeySource]. This package
// adds what is particular to SigV4a: the P-256 key AWS derives from an
// access key pair, and the public key a verifier holds.
//
// A verifier that holds public keys only holds no secret: a breach of it
// lets nobody sign.
//
//	pub, _ := sigv4a.PublicKey(creds) // where the secret is
//	keys := sigv4.NewPublicKeyring()    // where requests are verified
//	keys.Add(pub, sigv4.Identity{AccessKeyID: creds.AccessKeyID})
//	v := &sigv4.Verifier{Keys: keys, Regions: []string{"eu-west-1"}, Services: []string{"s3"}}
package sigv4a

import (
	"crypto/ecdsa"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/v4a"
)

// Algorithm is the SigV4a algorithm name.
const Algorithm = v4a.Algorithm

// NewSigner returns a Signer that signs with SigV4a for service in the
// regions of regionSet: region names, or patterns with '*' ("*" for all).
func NewSigner(creds sigv4.Credentials, service string, regionSet ...string) *sigv4.Signer {
	return &sigv4.Signer{Credentials: creds, Service: service, RegionSet: regionSet}
}

// PublicKey returns the SigV4a public key of an access key pair, derived as
// AWS derives it.
func PublicKey(creds sigv4.Credentials) (*ecdsa.PublicKey, error) {
	key, err := v4a.DeriveKey(creds.AccessKeyID, creds.SecretAccessKey)
	if err != nil {
		return nil, err
	}
	return &key.PublicKey, nil
}

// ParsePublicKey reads a public key written as the hex of its X and Y
// coordinates, as the official test suite writes them.
func ParsePublicKey(x, y string) (*ecdsa.PublicKey, error) { return v4a.ParsePublicKey(x, y) }

// FormatPublicKey writes a P-256 public key as the hex of its X and Y.
func FormatPublicKey(pub *ecdsa.PublicKey) (x, y string, err error) { return v4a.PublicKeyHex(pub) }
