package sigv4a_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/sigv4a"
)

// One signature for two regions, checked by a verifier that holds only the
// public key.
func Example() {
	creds := sigv4.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

	signer := sigv4a.NewSigner(creds, "s3", "us-east-1", "eu-west-1")
	signer.Now = at
	req, _ := http.NewRequest("GET", "https://bucket.s3.amazonaws.com/key", nil)
	if err := signer.Sign(req); err != nil {
		panic(err)
	}
	fmt.Println(strings.Fields(req.Header.Get("Authorization"))[0], req.Header.Get("X-Amz-Region-Set"))

	pub, _ := sigv4a.PublicKey(creds)
	x, _, _ := sigv4a.FormatPublicKey(pub)
	fmt.Println("public key X:", x[:16]+"…")
	keys := sigv4.NewPublicKeyring()
	keys.Add(pub, sigv4.Identity{AccessKeyID: creds.AccessKeyID})
	for _, region := range []string{"eu-west-1", "ap-south-1"} {
		v := &sigv4.Verifier{Keys: keys, Regions: []string{region}, Services: []string{"s3"}, Now: at}
		_, err := v.Verify(wire(req))
		fmt.Println(region, err == nil)
	}
	// Output:
	// AWS4-ECDSA-P256-SHA256 us-east-1,eu-west-1
	// public key X: b6618f6a65740a99…
	// eu-west-1 true
	// ap-south-1 false
}

func wire(req *http.Request) *http.Request {
	var b bytes.Buffer
	req.Write(&b)
	r, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		panic(err)
	}
	return r
}
