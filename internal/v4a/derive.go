package v4a

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
)

// The SigV4a key derivation, as aws-c-auth (source/key_derivation.c) and
// aws-sdk-go-v2 (internal/v4a, deriveKeyFromAccessKeyPair) implement it:
// NIST SP 800-108 KDF in counter mode, with HMAC-SHA256 as the PRF.
//
//	K     = "AWS4A" || SecretAccessKey
//	input = i || Label || 0x00 || Context || L
//	        i       = 0x00000001 (one 256-bit block is enough)
//	        Label   = "AWS4-ECDSA-P256-SHA256"
//	        Context = AccessKeyId || counter (one byte, from 1)
//	        L       = 0x00000100 (256 bits, big-endian)
//	c     = HMAC-SHA256(K, input)
//
// If c <= n−2, n the order of P-256, the private scalar is c+1, which is
// in [1, n−1]; otherwise the counter byte is incremented and c derived
// again. Since n is just below 2^256, a candidate is rejected with
// probability about 2^−32.
//
// aws-c-auth gives up after counter 254 (MAX_KEY_DERIVATION_COUNTER_VALUE),
// aws-sdk-go-v2 after 255, and aws-sdk-go-v2 also rejects c == n−2 (it
// accepts c < n−2 only). Neither difference can be observed: each needs
// events of probability 2^−256 or less. This follows aws-c-auth.
const (
	kdfKeyPrefix = "AWS4A"
	kdfLabel     = Algorithm
	kdfBits      = 256
	maxCounter   = 254
)

// nMinus2 is n−2, n the order of P-256, as big-endian 64-bit words.
var nMinus2 = [4]uint64{0xffffffff00000000, 0xffffffffffffffff, 0xbce6faada7179e84, 0xf3b9cac2fc63254f}

var errCounterExhausted = errors.New("v4a: key derivation found no valid candidate (counter exhausted)")

// DeriveKey derives the SigV4a private key of an access key pair. The same
// pair always gives the same key; its public half is what a verifier needs.
//
// The secret enters only HMAC-SHA256 and constant-time arithmetic, and the
// scalar only crypto/ecdsa's constant-time P-256 code. Whether the first
// candidate was rejected (probability about 2^−32) is not hidden, as in
// AWS's own implementations.
func DeriveKey(accessKeyID, secretAccessKey string) (*ecdsa.PrivateKey, error) {
	secret := make([]byte, 0, len(kdfKeyPrefix)+len(secretAccessKey))
	secret = append(append(secret, kdfKeyPrefix...), secretAccessKey...)
	mac := hmac.New(sha256.New, secret)
	clear(secret)

	input := kdfInput(accessKeyID)
	var c [sha256.Size]byte
	defer clear(c[:])
	for counter := 1; counter <= maxCounter; counter++ {
		candidate(&c, mac, input, byte(counter))
		if !atMostNMinus2(&c) {
			continue
		}
		addOne(&c)
		key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), c[:])
		if err != nil { // c+1 is in [1, n−1]: cannot happen
			return nil, errors.New("v4a: derived an invalid P-256 scalar")
		}
		return key, nil
	}
	return nil, errCounterExhausted
}

// kdfInput returns the HMAC input i || Label || 0x00 || AccessKeyId ||
// counter || L, with the counter byte (fifth from the end) left zero.
func kdfInput(accessKeyID string) []byte {
	b := make([]byte, 0, 4+len(kdfLabel)+1+len(accessKeyID)+1+4)
	b = binary.BigEndian.AppendUint32(b, 1) // i: the first and only block
	b = append(b, kdfLabel...)
	b = append(b, 0)
	b = append(b, accessKeyID...)
	b = append(b, 0) // counter
	return binary.BigEndian.AppendUint32(b, kdfBits)
}

// candidate computes into c the KDF output for one counter value.
func candidate(c *[sha256.Size]byte, mac hash.Hash, input []byte, counter byte) {
	input[len(input)-5] = counter
	mac.Reset()
	mac.Write(input)
	mac.Sum(c[:0])
}

// atMostNMinus2 reports whether c, big-endian, is at most n−2, in constant
// time: it computes n−2 − c and looks at the final borrow.
func atMostNMinus2(c *[32]byte) bool {
	var borrow uint64
	for i := 3; i >= 0; i-- {
		_, borrow = bits.Sub64(nMinus2[i], binary.BigEndian.Uint64(c[8*i:]), borrow)
	}
	return borrow == 0
}

// addOne adds one to c, big-endian, in constant time. The caller ensures c
// is at most n−2, so it does not overflow.
func addOne(c *[32]byte) {
	carry := uint64(1)
	for i := 3; i >= 0; i-- {
		var w uint64
		w, carry = bits.Add64(binary.BigEndian.Uint64(c[8*i:]), 0, carry)
		binary.BigEndian.PutUint64(c[8*i:], w)
	}
}
