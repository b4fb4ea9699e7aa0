package v4a

import (
	"bytes"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"testing"
)

var (
	bigN       = elliptic.P256().Params().N
	bigNMinus2 = new(big.Int).Sub(bigN, big.NewInt(2))
)

func bytes32(x *big.Int) *[32]byte {
	var b [32]byte
	x.FillBytes(b[:])
	return &b
}

func TestNMinus2(t *testing.T) {
	var got [32]byte
	for i, w := range nMinus2 {
		binary.BigEndian.PutUint64(got[8*i:], w)
	}
	if got != *bytes32(bigNMinus2) {
		t.Fatalf("nMinus2 = %x, want %x", got, bigNMinus2)
	}
}

// TestAtMostNMinus2 checks the candidate test at and around its boundary,
// where each 64-bit word decides, and against math/big on random values.
func TestAtMostNMinus2(t *testing.T) {
	one := big.NewInt(1)
	max := new(big.Int).Sub(new(big.Int).Lsh(one, 256), one)
	cases := []struct {
		c    *big.Int
		want bool
	}{
		{big.NewInt(0), true},
		{one, true},
		{new(big.Int).Sub(bigNMinus2, one), true},
		{bigNMinus2, true}, // the largest accepted candidate: d = n−1
		{new(big.Int).Add(bigNMinus2, one), false},
		{bigN, false},
		{max, false},
	}
	// n−2 ± 2^(64k): each word decides the comparison once.
	for k := range 4 {
		step := new(big.Int).Lsh(one, uint(64*k))
		cases = append(cases,
			struct {
				c    *big.Int
				want bool
			}{new(big.Int).Sub(bigNMinus2, step), true},
			struct {
				c    *big.Int
				want bool
			}{new(big.Int).Add(bigNMinus2, step), false})
	}
	for _, tc := range cases {
		if tc.c.Cmp(max) > 0 {
			continue // n−2 + 2^192 does not fit in 256 bits
		}
		if got := atMostNMinus2(bytes32(tc.c)); got != tc.want {
			t.Errorf("atMostNMinus2(%x) = %v, want %v", tc.c, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		var c [32]byte
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		if rng.IntN(2) == 0 { // near the boundary: n−2's first 16 bytes
			copy(c[:16], bytes32(bigNMinus2)[:16])
		}
		want := new(big.Int).SetBytes(c[:]).Cmp(bigNMinus2) <= 0
		if got := atMostNMinus2(&c); got != want {
			t.Fatalf("atMostNMinus2(%x) = %v, want %v", c, got, want)
		}
	}
}

func TestAddOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []*big.Int{big.NewInt(0), big.NewInt(255), new(big.Int).SetUint64(1<<64 - 1), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 192), big.NewInt(1)), bigNMinus2}
	for range 1000 {
		var c [32]byte
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		vals = append(vals, new(big.Int).Mod(new(big.Int).SetBytes(c[:]), bigN))
	}
	for _, v := range vals {
		if v.Cmp(bigNMinus2) > 0 {
			continue
		}
		c := bytes32(v)
		addOne(c)
		if want := new(big.Int).Add(v, big.NewInt(1)); *c != *bytes32(want) {
			t.Fatalf("addOne(%x) = %x, want %x", v, c, want)
		}
	}
}

// TestKDFInput checks the HMAC input byte by byte against the layout of
// NIST SP 800-108 as aws-c-auth writes it.
func TestKDFInput(t *testing.T) {
	in := kdfInput("AKIDEXAMPLE")
	in[len(in)-5] = 1
	want := "00000001" + hex.EncodeToString([]byte("AWS4-ECDSA-P256-SHA256")) + "00" +
		hex.EncodeToString([]byte("AKIDEXAMPLE")) + "01" + "00000100"
	if got := hex.EncodeToString(in); got != want {
		t.Fatalf("kdfInput:\n got: %s\nwant: %s", got, want)
	}
}

// rejectedID is an access key id whose first candidate, with the suite's
// secret, exceeds n−2 (the first hit of a search over AKIDREJECT%010d, about
// 2^32 HMACs): its key comes from counter 2. The public key was derived
// from the same pair by aws-sdk-go-v2's internal/v4a (v1.5.11,
// deriveKeyFromAccessKeyPair), independently of this package.
const (
	rejectedID     = "AKIDREJECT2642416211"
	rejectedSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	rejectedFirst  = "ffffffff7c15c145127930a46468fc8ced541a2c8fc40aef658bde178390b384"
	rejectedX      = "f0103767dba0220f1089167c883a64c36b652fede25626b508c4661f9b59f8b2"
	rejectedY      = "26f49a022df644d80c4de13536365e31e32a1a50027376b667554834fea9a7b3"
)

func TestDeriveRejection(t *testing.T) {
	mac := hmac.New(sha256.New, []byte(kdfKeyPrefix+rejectedSecret))
	in := kdfInput(rejectedID)
	var c1, c2 [32]byte
	candidate(&c1, mac, in, 1)
	candidate(&c2, mac, in, 2)
	if hex.EncodeToString(c1[:]) != rejectedFirst {
		t.Fatalf("first candidate = %x, want %s", c1, rejectedFirst)
	}
	if atMostNMinus2(&c1) {
		t.Fatalf("the first candidate %x is not rejected", c1)
	}
	if !atMostNMinus2(&c2) {
		t.Fatalf("the second candidate %x is rejected too", c2)
	}
	key, err := DeriveKey(rejectedID, rejectedSecret)
	if err != nil {
		t.Fatal(err)
	}
	addOne(&c2)
	if d, _ := key.Bytes(); !bytes.Equal(d, c2[:]) {
		t.Fatalf("DeriveKey = %x, want the second candidate plus one, %x", d, c2)
	}
	if x, y, _ := PublicKeyHex(&key.PublicKey); x != rejectedX || y != rejectedY {
		t.Fatalf("public key X=%s Y=%s, want aws-sdk-go-v2's X=%s Y=%s", x, y, rejectedX, rejectedY)
	}
}

// TestDeriveExhausted forces every candidate to be rejected.
func TestDeriveExhausted(t *testing.T) {
	saved := nMinus2
	defer func() { nMinus2 = saved }()
	nMinus2 = [4]uint64{} // only an all-zero candidate would pass
	if _, err := DeriveKey("AKIDEXAMPLE", "secret"); err != errCounterExhausted {
		t.Fatalf("err = %v, want %v", err, errCounterExhausted)
	}
}

// TestDeriveRetry drives DeriveKey's retry with the real candidates of
// AKIDEXAMPLE: with the bound lowered to the smallest of candidates 2..16,
// every candidate before it is rejected and that one is taken.
func TestDeriveRetry(t *testing.T) {
	const id, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	mac := hmac.New(sha256.New, []byte(kdfKeyPrefix+secret))
	in := kdfInput(id)
	var first, best [32]byte
	candidate(&first, mac, in, 1)
	best = first
	for counter := byte(2); counter <= 16; counter++ {
		var c [32]byte
		candidate(&c, mac, in, counter)
		if bytes.Compare(c[:], best[:]) < 0 {
			best = c
		}
	}
	if best == first {
		t.Skip("the first candidate is the smallest of 16") // probability 1/16, fixed inputs
	}
	saved := nMinus2
	defer func() { nMinus2 = saved }()
	for i := range nMinus2 {
		nMinus2[i] = binary.BigEndian.Uint64(best[8*i:])
	}
	key, err := DeriveKey(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	addOne(&best)
	if d, _ := key.Bytes(); !bytes.Equal(d, best[:]) {
		t.Fatalf("DeriveKey = %x, want %x", d, best)
	}
}
