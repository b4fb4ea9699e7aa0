// Package keyauthority keeps the master secrets of access keys in one
// place and hands verifiers only what SigV4 needs: the signing key of one
// access key for one day, region and service (and, for SigV4a, its public
// key). A verifier breached on one day in one region exposes those scoped
// keys only; the secret, and every other day's, region's and service's
// key, was never there.
//
// A [Server] answers over mutual TLS. Each verifier has a certificate
// whose common name names its [Grant]: the regions and services it may ask
// for. Only yesterday's, today's and tomorrow's keys (UTC) are served.
// [Revocation]s refuse one access key, one key from a date, or a region
// (and service) for a range of dates; they are pushed to every connected
// verifier as a stream of server-sent events, and replayed to one that
// reconnects.
//
// A [Client] is a sigv4.PublicKeySource for a Verifier: it caches each key
// until its day ends, fetches concurrent misses once, prefetches
// tomorrow's keys for the access keys it has seen today, follows the
// revocation stream, and keeps serving what it cached while the authority
// cannot be reached (a miss is then ServiceUnavailable, never an unknown
// key).
package keyauthority

import (
	"errors"
	"time"

	"github.com/sigv4/sigv4"
)

// Paths of the authority's API.
const (
	PathSigningKey  = "/v1/signing-key"
	PathPublicKey   = "/v1/public-key"
	PathRevocations = "/v1/revocations"
	PathHealth      = "/v1/health"
)

// signingKeyRequest asks for the signing key of an access key for a scope.
type signingKeyRequest struct {
	AccessKeyID string `json:"access_key_id"`
	Date        string `json:"date"` // YYYYMMDD
	Region      string `json:"region"`
	Service     string `json:"service"`
}

// keyAnswer is the authority's answer: the key (or public key) and who it
// belongs to. It holds no secret and no date or region key.
type keyAnswer struct {
	SigningKey []byte        `json:"signing_key,omitempty"` // 32 bytes
	PublicKey  []byte        `json:"public_key,omitempty"`  // SigV4a: an uncompressed P-256 point
	Identity   identityJSON  `json:"identity"`
	ValidUntil time.Time     `json:"valid_until"` // the end of the key's day, plus the skew verifiers allow
	Error      *errorJSON    `json:"error,omitempty"`
	Grant      *grantSummary `json:"grant,omitempty"`
}

type identityJSON struct {
	AccessKeyID  string    `json:"access_key_id"`
	Principal    string    `json:"principal,omitempty"`
	SessionToken string    `json:"session_token,omitempty"`
	Expiration   time.Time `json:"expiration,omitzero"`
}

func toIdentity(j identityJSON) sigv4.Identity {
	return sigv4.Identity{AccessKeyID: j.AccessKeyID, Principal: j.Principal, SessionToken: j.SessionToken, Expiration: j.Expiration}
}

func fromIdentity(id sigv4.Identity) identityJSON {
	return identityJSON{AccessKeyID: id.AccessKeyID, Principal: id.Principal, SessionToken: id.SessionToken, Expiration: id.Expiration}
}

// errorJSON is a refusal. Code is one of the codes below.
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Refusal codes of the API.
const (
	codeUnknownKey  = "UnknownAccessKey" // no such key, or not usable: the verifier answers InvalidAccessKeyId
	codeNotGranted  = "NotGranted"       // outside the verifier's grant
	codeBadDate     = "DateOutOfWindow"  // not yesterday, today or tomorrow
	codeRevoked     = "Revoked"          // a revocation covers it
	codeBadRequest  = "BadRequest"
	codeUnavailable = "Unavailable"
)

type grantSummary struct {
	Name     string   `json:"name"`
	Regions  []string `json:"regions"`
	Services []string `json:"services"`
}

// ErrNotGranted is returned by a Client for a scope outside its grant.
var ErrNotGranted = errors.New("keyauthority: outside this verifier's grant")

// skew is how long after its day a key stays useful: the clock skew a
// Verifier accepts by default.
const skew = sigv4.DefaultMaxSkew

// dayEnd is the end of the UTC day of date (YYYYMMDD), plus the skew.
func dayEnd(date string) (time.Time, bool) {
	d, err := time.Parse("20060102", date)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(24*time.Hour + skew), true
}

// date is the YYYYMMDD of t in UTC.
func date(t time.Time) string { return t.UTC().Format("20060102") }
