package v4a_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/sigv4/sigv4/internal/v4a"
)

// FuzzVerify feeds arbitrary signatures and strings to sign to Verify
// under a suite key. It must never panic, must agree with a reference
// (strict lower-case hex, then crypto/ecdsa's DER verifier), and can only
// accept a pair the suite signed, or its malleated twin (r, n−s).
func FuzzVerify(f *testing.F) {
	var pub *ecdsa.PublicKey
	valid := map[string]bool{} // sts + "\x00" + sig of the suite's pairs
	for _, c := range loadSuite(f) {
		pub = c.pub(f) // the same key for every case
		for _, form := range forms {
			sts := c.read(f, form+"-string-to-sign.txt")
			sig := c.readTrim(f, form+"-signature.txt")
			f.Add(sig, sts)
			f.Add(sig+"00", sts)
			f.Add(sig[:len(sig)-2], sts)
			r, s := derSignature(f, sig)
			twin := encodeDER(r, new(big.Int).Sub(elliptic.P256().Params().N, s))
			valid[string(sts)+"\x00"+sig] = true
			valid[string(sts)+"\x00"+twin] = true // (r, n−s) verifies too
		}
	}
	f.Add("", []byte{})
	f.Add("3006020101020101", []byte("x"))
	f.Fuzz(func(t *testing.T, sig string, sts []byte) {
		got := v4a.Verify(pub, sts, sig)
		if got != v4a.Verify(pub, sts, []byte(sig)) {
			t.Fatal("Verify differs between string and []byte signatures")
		}
		if got != reference(pub, sts, sig) {
			t.Fatalf("Verify(%q) = %v, the reference disagrees", sig, got)
		}
		if got && !valid[string(sts)+"\x00"+sig] {
			t.Fatalf("Verify accepted a pair the suite did not sign: %q over %q", sig, sts)
		}
		padded := v4a.PadChunkSignature(nil, []byte(sig))
		if trimmed, ok := v4a.TrimChunkSignature(padded); ok && v4a.Verify(pub, sts, trimmed) != got {
			t.Fatal("padding and trimming a chunk signature changes the verdict")
		}
	})
}

// reference is Verify written the obvious way.
func reference(pub *ecdsa.PublicKey, sts []byte, sig string) bool {
	der, err := hex.DecodeString(sig)
	if err != nil || hex.EncodeToString(der) != sig || len(sig) < v4a.MinSignatureLen || len(sig) > v4a.MaxSignatureLen {
		return false
	}
	digest := sha256.Sum256(sts)
	return ecdsa.VerifyASN1(pub, digest[:], der)
}
