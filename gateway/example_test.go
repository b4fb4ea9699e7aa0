package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

// A gateway with no upstream answers STS GetCallerIdentity, as
// `aws sts get-caller-identity --endpoint-url` asks it.
func Example() {
	alice := sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	keys := sigv4.NewKeyring()
	keys.Add(alice, sigv4.Identity{Principal: "arn:aws:iam::123456789012:user/alice"})
	gw, err := gateway.New(gateway.Config{
		Verifier: &sigv4.Verifier{Keys: keys, Regions: []string{"us-east-1"}, Services: []string{"sts", "s3"}},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(gw) // in production: gateway.NewServer(":8080", gw)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signer := &sigv4.Signer{Credentials: alice, Region: "us-east-1", Service: "sts"}
	if err := signer.Sign(req); err != nil {
		panic(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "<Arn>") || strings.Contains(line, "<Account>") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// 200 OK
	// <Arn>arn:aws:iam::123456789012:user/alice</Arn>
	// <Account>123456789012</Account>
}
