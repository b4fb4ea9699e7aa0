package keyauthority_test

import (
	"context"
	"os"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/keyauthority"
)

// A verifier on a key authority: it holds its certificate (from "sigv4
// authority grant") and the authority's CA, never a secret.
func ExampleNewClient() {
	caPEM, _ := os.ReadFile("ca.crt")
	certPEM, _ := os.ReadFile("eu-gw.crt")
	keyPEM, _ := os.ReadFile("eu-gw.key")
	tlsConfig, err := keyauthority.ClientTLS(caPEM, certPEM, keyPEM)
	if err != nil {
		return
	}
	keys := keyauthority.NewClient("https://authority.internal:8443", tlsConfig)
	go keys.Run(context.Background()) // revocations, and tomorrow's keys before midnight
	verifier := &sigv4.Verifier{Keys: keys, Regions: []string{"eu-west-1"}, Services: []string{"s3"}}
	_ = verifier // verifier.Verify(req), or a gateway.Config's Verifier
}
