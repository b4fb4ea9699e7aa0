// Package canonical builds the canonical request, the string to sign and the
// credential scope of AWS Signature Version 4.
//
// It is the only canonicalization in sigv4: the signer, the verifier, SigV4a,
// the chunk chain and the CLI's explain all call it, so that the two sides of
// a signature can never disagree about the bytes they hash.
//
// Every function appends to a caller-owned buffer and allocates nothing in
// steady state; callers pool their buffers.
package canonical

import (
	"crypto/sha256"
	"time"
)

// Algorithms, as they appear in the Authorization header, in X-Amz-Algorithm
// and on the first line of the string to sign.
const (
	AlgorithmHMAC  = "AWS4-HMAC-SHA256"
	AlgorithmECDSA = "AWS4-ECDSA-P256-SHA256"
)

// Terminal is the last element of every credential scope.
const Terminal = "aws4_request"

// TimeFormat is the ISO 8601 basic format of X-Amz-Date.
const TimeFormat = "20060102T150405Z"

// DateFormat is the format of the date in a credential scope.
const DateFormat = "20060102"

// EmptySHA256 is the hex SHA-256 of an empty payload.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Request holds the inputs of a canonical request. Path and RawQuery are as
// sent on the wire: escaped, not decoded.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	// Headers are the signed headers, sorted (see HeaderSet.Sort).
	Headers     *HeaderSet
	PayloadHash string
	// S3 selects Amazon S3's path rules: no normalization, encoded once.
	S3 bool
	// PathDecoded says Path is already decoded (S3 rules only): it is
	// encoded without being decoded first.
	PathDecoded bool
	// Presigned leaves X-Amz-Signature out of the canonical query; with
	// OmitSecurityToken, X-Amz-Security-Token too, for services that add
	// the token after signing. A request signed in its Authorization header
	// signs every query parameter, whatever its name.
	Presigned         bool
	OmitSecurityToken bool
}

// Scratch is reusable working memory for Append.
type Scratch struct {
	query []byte
	pairs []pair
}

// pair is a parameter of the canonical query: query[k0:v1] is
// "name=value", its name query[k0:k1], and key the name's prefix key.
type pair struct {
	key        uint64
	k0, k1, v1 int32
}

// Append appends the canonical request:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
func (r *Request) Append(b []byte, s *Scratch) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	if r.S3 && r.PathDecoded {
		b = AppendDecodedURI(b, r.Path)
	} else {
		b = AppendURI(b, r.Path, r.S3)
	}
	b = append(b, '\n')
	omit := OmitNone
	if r.Presigned {
		omit = OmitSignature
		if r.OmitSecurityToken {
			omit |= OmitSecurityToken
		}
	}
	b = s.AppendQuery(b, r.RawQuery, omit)
	b = append(b, '\n')
	b = r.Headers.AppendCanonical(b)
	b = append(b, '\n')
	b = r.Headers.AppendSigned(b)
	b = append(b, '\n')
	return append(b, r.PayloadHash...)
}

// IsS3Service reports whether a service signs with Amazon S3's rules:
// paths encoded once and not normalized, and X-Amz-Content-Sha256 sent.
func IsS3Service(service string) bool {
	switch service {
	case "s3", "s3-object-lambda", "s3-outposts", "s3express":
		return true
	}
	return false
}

// AppendScope appends date/region/service/aws4_request. An empty region is
// left out, as SigV4a scopes do.
func AppendScope(b []byte, date, region, service string) []byte {
	b = append(b, date...)
	b = append(b, '/')
	if region != "" {
		b = append(b, region...)
		b = append(b, '/')
	}
	b = append(b, service...)
	b = append(b, '/')
	return append(b, Terminal...)
}

// AppendStringToSign appends the string to sign for a canonical request
// whose SHA-256 is creqHash.
func AppendStringToSign(b []byte, algorithm, amzDate, date, region, service string, creqHash *[sha256.Size]byte) []byte {
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = AppendScope(b, date, region, service)
	b = append(b, '\n')
	return AppendHex(b, creqHash[:])
}

// AppendTime appends t in the X-Amz-Date format, 20060102T150405Z.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	b = append4(b, year)
	b = append2(append2(b, int(month)), day)
	b = append(b, 'T')
	b = append2(append2(append2(b, hour), min), sec)
	return append(b, 'Z')
}

// ParseTime parses an X-Amz-Date value, 20060102T150405Z, strictly: what
// time.Parse(TimeFormat, s) accepts, without its generality (it runs on
// every request a verifier sees).
func ParseTime(s string) (time.Time, bool) {
	if len(s) != len(TimeFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	var bad byte
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			c -= '0'
			bad |= c&^0x0f | (c+6)&0x10 // c > 9 sets bit 4 of c+6
			v = v*10 + int(c)
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if bad != 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	days := daysFromCivil(year, month, day)
	return time.Unix(days*86400+int64(hour*3600+minute*60+sec), 0).UTC(), true
}

func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2 // 31 in Jan, Mar, May, Jul, Aug, Oct, Dec
}

// daysFromCivil counts the days from 1970-01-01 to a proleptic Gregorian
// date of a year from 0 to 9999 (years counted from March, so that the
// leap day is the last of its year).
func daysFromCivil(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := (year+400)/400 - 1 // year >= -1
	yoe := year - era*400
	mp := (month + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }
