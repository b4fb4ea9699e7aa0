package v4a_test

import (
	"fmt"

	"github.com/sigv4/sigv4/internal/v4a"
)

// The key pair of the test suite's credentials, and a signature that its
// public half verifies.
func Example() {
	key, err := v4a.DeriveKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		panic(err)
	}
	x, y, _ := v4a.PublicKeyHex(&key.PublicKey)
	fmt.Println("X:", x)
	fmt.Println("Y:", y)

	stringToSign := []byte("AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n" +
		"cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02")
	sig, err := v4a.Sign(key, stringToSign) // randomized: differs every time
	if err != nil {
		panic(err)
	}
	pub, _ := v4a.ParsePublicKey(x, y)
	fmt.Println("verifies:", v4a.Verify(pub, stringToSign, sig))

	// In aws-chunked bodies the signature travels padded with '*'.
	padded := v4a.PadChunkSignature(nil, sig)
	trimmed, _ := v4a.TrimChunkSignature(padded)
	fmt.Println("padded:", len(padded), "bytes; verifies:", v4a.Verify(pub, stringToSign, trimmed))
	// Output:
	// X: b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1
	// Y: 865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518
	// verifies: true
	// padded: 144 bytes; verifies: true
}
