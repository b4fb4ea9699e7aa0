package v4a_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/sigv4/sigv4/internal/v4a"
)

// The floors are one crypto/ecdsa operation on a precomputed digest: what
// Sign and Verify cost beyond them is hashing, hex and checks.

func benchKey(b *testing.B) (*ecdsa.PrivateKey, []byte) {
	b.Helper()
	key, err := v4a.DeriveKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		b.Fatal(err)
	}
	_, sts, _ := vanilla(b)
	return key, sts
}

func BenchmarkSign(b *testing.B) {
	key, sts := benchKey(b)
	buf := make([]byte, 0, v4a.MaxSignatureLen)
	for b.Loop() {
		if _, err := v4a.AppendSign(buf[:0], key, sts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignFloor(b *testing.B) {
	key, sts := benchKey(b)
	digest := sha256.Sum256(sts)
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, sts, sig := vanilla(b)
	for b.Loop() {
		if !v4a.Verify(pub, sts, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyFloor(b *testing.B) {
	pub, sts, sig := vanilla(b)
	digest := sha256.Sum256(sts)
	der := decodeHex(b, sig)
	for b.Loop() {
		if !ecdsa.VerifyASN1(pub, digest[:], der) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkDeriveKey(b *testing.B) {
	for b.Loop() {
		if _, err := v4a.DeriveKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"); err != nil {
			b.Fatal(err)
		}
	}
}
