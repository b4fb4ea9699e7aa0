package sigv4_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sigv4/sigv4"
)

// The example credentials of the AWS documentation.
var exampleCreds = sigv4.Credentials{
	AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}

func exampleClock() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) }

func ExampleSigner_Sign() {
	s := &sigv4.Signer{Credentials: exampleCreds, Region: "us-east-1", Service: "s3", Now: exampleClock}

	req, _ := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	if err := s.Sign(req); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("Authorization"))
	// Output:
	// AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41
}

func ExampleSigner_Presign() {
	s := &sigv4.Signer{Credentials: exampleCreds, Region: "us-east-1", Service: "s3", Now: exampleClock}

	req, _ := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	if err := s.Presign(req, 24*time.Hour); err != nil {
		panic(err)
	}
	fmt.Println(strings.ReplaceAll(req.URL.String(), "&", "\n&"))
	// Output:
	// https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256
	// &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request
	// &X-Amz-Date=20130524T000000Z
	// &X-Amz-Expires=86400
	// &X-Amz-SignedHeaders=host
	// &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404
}

// A handler that serves only requests signed with a known key.
func ExampleVerifier_Verify() {
	v := &sigv4.Verifier{
		Keys:     sigv4.NewKeyring(exampleCreds),
		Regions:  []string{"us-east-1"},
		Services: []string{"execute-api"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		var e *sigv4.Error
		if errors.As(err, &e) {
			http.Error(w, e.Code, e.Status)
			return
		}
		defer res.Body.Close() // the only body to read
		fmt.Fprintf(w, "hello, %s", res.Identity.AccessKeyID)
	}))
	defer srv.Close()

	s := &sigv4.Signer{Credentials: exampleCreds, Region: "us-east-1", Service: "execute-api"}
	for _, secret := range []string{exampleCreds.SecretAccessKey, "wrong"} {
		s.Credentials.SecretAccessKey = secret
		req, _ := http.NewRequest("GET", srv.URL+"/items?limit=10", nil)
		s.Sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 hello, AKIAIOSFODNN7EXAMPLE
	// 403 SignatureDoesNotMatch
}
