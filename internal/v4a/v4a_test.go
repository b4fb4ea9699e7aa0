package v4a_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/internal/v4a"
)

// vanilla is get-vanilla's header form: a string to sign, a signature of
// it from the suite and the suite's public key.
func vanilla(t testing.TB) (pub *ecdsa.PublicKey, sts []byte, sig string) {
	t.Helper()
	for _, c := range loadSuite(t) {
		if c.name == "get-vanilla" {
			return c.pub(t), c.read(t, "header-string-to-sign.txt"), c.readTrim(t, "header-signature.txt")
		}
	}
	t.Fatal("no get-vanilla case")
	return
}

// derSignature splits a hex DER signature into r and s.
func derSignature(t testing.TB, sig string) (r, s *big.Int) {
	t.Helper()
	der, err := hex.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	// 30 len 02 rlen r 02 slen s, all short-form lengths for P-256.
	rlen := int(der[3])
	r = new(big.Int).SetBytes(der[4 : 4+rlen])
	s = new(big.Int).SetBytes(der[4+rlen+2:])
	return r, s
}

// encodeDER encodes r and s as a DER ECDSA-Sig-Value, in hex.
func encodeDER(r, s *big.Int) string {
	integer := func(x *big.Int) []byte {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{2, byte(len(b))}, b...)
	}
	body := append(integer(r), integer(s)...)
	return hex.EncodeToString(append([]byte{0x30, byte(len(body))}, body...))
}

// TestVerifyStrict checks that encodings other than one lower-case hex DER
// signature are refused, even when they carry a valid (r, s).
func TestVerifyStrict(t *testing.T) {
	pub, sts, sig := vanilla(t)
	if !v4a.Verify(pub, sts, sig) {
		t.Fatal("the suite's signature does not verify")
	}
	r, s := derSignature(t, sig)
	if encodeDER(r, s) != sig {
		t.Fatalf("test helper: encodeDER does not round-trip %s", sig)
	}
	der, _ := hex.DecodeString(sig)
	longForm := hex.EncodeToString(append([]byte{0x30, 0x81, der[1]}, der[2:]...))
	rPadded := hex.EncodeToString(append([]byte{0x30, der[1] + 1, 0x02, der[3] + 1, 0x00}, der[4:]...))
	for name, bad := range map[string]string{
		"empty":            "",
		"upper case":       strings.ToUpper(sig),
		"odd length":       sig[:len(sig)-1],
		"trailing byte":    sig + "00",
		"trailing space":   sig + " ",
		"leading space":    " " + sig,
		"0x prefix":        "0x" + sig,
		"chunk padding":    string(v4a.PadChunkSignature(nil, []byte(sig))),
		"long-form length": longForm,
		"r not minimal":    rPadded,
		"truncated":        sig[:len(sig)-2],
		"r only":           hex.EncodeToString(der[:4+int(der[3])]),
		"r, s swapped":     encodeDER(s, r),
		"r = 0":            encodeDER(big.NewInt(0), s),
		"s = 0":            encodeDER(r, big.NewInt(0)),
		"s + n":            encodeDER(r, new(big.Int).Add(s, elliptic.P256().Params().N)),
		"too long":         strings.Repeat("0", v4a.MaxSignatureLen+2),
		"non-hex":          strings.Repeat("g", len(sig)),
	} {
		if v4a.Verify(pub, sts, bad) {
			t.Errorf("%s: %q verifies", name, bad)
		}
	}
	if v4a.Verify(nil, sts, sig) {
		t.Error("verifies with a nil key")
	}
	if v4a.Verify(&ecdsa.PublicKey{Curve: elliptic.P384(), X: pub.X, Y: pub.Y}, sts, sig) {
		t.Error("verifies with a P-384 key")
	}
}

// TestMalleability documents that (r, n−s) verifies too, which is why a
// signature must not serve as a replay-cache key.
func TestMalleability(t *testing.T) {
	pub, sts, sig := vanilla(t)
	r, s := derSignature(t, sig)
	twin := encodeDER(r, new(big.Int).Sub(elliptic.P256().Params().N, s))
	if twin == sig || !v4a.Verify(pub, sts, twin) {
		t.Fatalf("(r, n−s) = %s should verify and differ from %s", twin, sig)
	}
}

func TestChunkSignaturePadding(t *testing.T) {
	pub, sts, sig := vanilla(t)
	padded := v4a.PadChunkSignature([]byte("x"), []byte(sig))[1:]
	if len(padded) != v4a.ChunkSignatureLen || !bytes.HasPrefix(padded, []byte(sig)) ||
		strings.Trim(string(padded[len(sig):]), "*") != "" {
		t.Fatalf("PadChunkSignature = %q", padded)
	}
	got, ok := v4a.TrimChunkSignature(string(padded))
	if !ok || got != sig || !v4a.Verify(pub, sts, got) {
		t.Fatalf("TrimChunkSignature(%q) = %q, %v", padded, got, ok)
	}
	if got, ok := v4a.TrimChunkSignature(padded); !ok || string(got) != sig {
		t.Fatalf("TrimChunkSignature([]byte) = %q, %v", got, ok)
	}
	full := strings.Repeat("a", v4a.ChunkSignatureLen) // 72-byte DER: no padding
	if got, ok := v4a.TrimChunkSignature(full); !ok || got != full {
		t.Errorf("TrimChunkSignature(unpadded) = %q, %v", got, ok)
	}
	for _, bad := range []string{sig, string(padded) + "*", string(padded[1:]), strings.Repeat("*", v4a.ChunkSignatureLen)} {
		if _, ok := v4a.TrimChunkSignature(bad); ok {
			t.Errorf("TrimChunkSignature(%q) accepted", bad)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _, _ := vanilla(t)
	x, y, err := v4a.PublicKeyHex(pub)
	if err != nil {
		t.Fatal(err)
	}
	back, err := v4a.ParsePublicKey(strings.ToUpper(x), y)
	if err != nil || !back.Equal(pub) {
		t.Fatalf("ParsePublicKey(PublicKeyHex) = %v, %v", back, err)
	}
	offCurve := []byte(y)
	offCurve[63] ^= 1
	for name, xy := range map[string][2]string{
		"short X":   {x[2:], y},
		"long Y":    {x, y + "00"},
		"non-hex":   {"z" + x[1:], y},
		"off curve": {x, string(offCurve)},
		"zero":      {strings.Repeat("0", 64), strings.Repeat("0", 64)},
	} {
		if _, err := v4a.ParsePublicKey(xy[0], xy[1]); err == nil {
			t.Errorf("%s: ParsePublicKey accepted %v", name, xy)
		}
	}
	if _, _, err := v4a.PublicKeyHex(nil); err == nil {
		t.Error("PublicKeyHex(nil) succeeded")
	}
}

func TestSignRejectsOtherCurves(t *testing.T) {
	if _, err := v4a.Sign(nil, []byte("x")); err == nil {
		t.Error("Sign(nil) succeeded")
	}
}

// TestPythonCryptography verifies our signatures over the suite's strings
// to sign with an independent ECDSA implementation: Python's cryptography
// package (OpenSSL), with the public keys of public-key.json. It skips when
// that is not installed, unless CI=true.
func TestPythonCryptography(t *testing.T) {
	if err := exec.Command("python3", "-c", "import cryptography").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with the cryptography package is required under CI: %v", err)
		}
		t.Skipf("python3 with the cryptography package is not available: %v", err)
	}
	type vector struct {
		X, Y, STS, Sig string
		Valid          bool
	}
	var vectors []vector
	for _, c := range loadSuite(t) {
		cr := c.context.Credentials
		key, err := v4a.DeriveKey(cr.AccessKeyID, cr.SecretAccessKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range forms {
			sts := c.read(t, form+"-string-to-sign.txt")
			sig, err := v4a.Sign(key, sts)
			if err != nil {
				t.Fatal(err)
			}
			v := vector{c.publicKey.X, c.publicKey.Y, hex.EncodeToString(sts), string(sig), true}
			vectors = append(vectors, v)
			v.STS, v.Valid = hex.EncodeToString(append(sts, '\n')), false // a control that must fail
			vectors = append(vectors, v)
		}
	}
	data, err := json.Marshal(vectors)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vectors.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
bad = 0
vectors = json.load(open(sys.argv[1]))
for v in vectors:
    pub = ec.EllipticCurvePublicNumbers(int(v["X"], 16), int(v["Y"], 16), ec.SECP256R1()).public_key()
    try:
        pub.verify(bytes.fromhex(v["Sig"]), bytes.fromhex(v["STS"]), ec.ECDSA(hashes.SHA256()))
        ok = True
    except InvalidSignature:
        ok = False
    if ok != v["Valid"]:
        bad += 1
        print("mismatch:", v, file=sys.stderr)
print(len(vectors), "checked,", bad, "mismatches")
sys.exit(1 if bad else 0)
`
	out, err := exec.Command("python3", "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	t.Logf("python3 cryptography: %s", bytes.TrimSpace(out))
}

func decodeHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
