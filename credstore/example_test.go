package credstore_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "credstore")
	defer os.RemoveAll(dir)

	// The database and its sealing key file (sigv4.db.key) are made on first use.
	store, err := credstore.Open(ctx, "sqlite:"+filepath.Join(dir, "sigv4.db"), nil)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	_, creds, err := store.Create(ctx, "alice", credstore.CreateOptions{Services: []string{"s3"}})
	if err != nil {
		panic(err)
	}

	req := httptest.NewRequest("GET", "https://example.com/bucket/key", nil)
	signer := &sigv4.Signer{Credentials: creds, Region: "eu-west-1", Service: "s3"}
	signer.Sign(req)

	v := &sigv4.Verifier{Keys: store, Regions: []string{"eu-west-1"}, Services: []string{"s3"}}
	res, err := v.Verify(req)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Identity.Principal)
	// Output: arn:aws:iam::000000000000:user/alice
}
