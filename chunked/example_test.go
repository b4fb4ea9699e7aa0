package chunked_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
)

// A 100 KiB upload in signed 64 KiB chunks with a trailing CRC32C, and the
// server side: Verify returns the decoded body.
func ExampleSign() {
	creds := sigv4.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	body := strings.Repeat("x", 100<<10)

	req, _ := http.NewRequest("PUT", "https://bucket.s3.us-east-1.amazonaws.com/big.bin", strings.NewReader(body))
	signer := &sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: "s3", Now: at}
	if err := chunked.Sign(signer, req, chunked.Options{Checksum: "CRC32C"}); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("X-Amz-Content-Sha256"))
	fmt.Println(req.Header.Get("X-Amz-Decoded-Content-Length"), "bytes sent as", req.ContentLength)

	// What a server does with it.
	verifier := &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Services: []string{"s3"}, Now: at}
	res, err := verifier.Verify(onTheWireExample(req))
	if err != nil {
		panic(err)
	}
	data, err := io.ReadAll(res.Body)
	fmt.Println(len(data), err)
	// Output:
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	// 102400 bytes sent as 102787
	// 102400 <nil>
}
