package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

// TestServeV4a: the gateway serve builds (a Verifier over the credential
// store, the built-in whoami) accepts a SigV4a request of a store key with
// its identity, and refuses one signed with another secret.
func TestServeV4a(t *testing.T) {
	ctx := t.Context()
	store, err := credstore.Open(ctx, keysStore(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, creds, err := store.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := &serveOptions{regions: "us-east-1", services: "s3,sts", errorFormat: "xml"}
	g, err := o.gateway(store, store.CacheStats, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	send := func(secret string) (int, []byte) {
		c := creds
		c.SecretAccessKey = secret
		req, _ := http.NewRequest("GET", srv.URL+"/bucket/key", nil)
		if err := storetest.SignV4a(req, c, "*", "s3", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	status, body := send(creds.SecretAccessKey)
	var id map[string]string
	if err := json.Unmarshal(body, &id); status != http.StatusOK || err != nil {
		t.Fatalf("answer %d (%v): %s", status, err, body)
	}
	if id["AccessKeyId"] != creds.AccessKeyID || id["Arn"] != "arn:aws:iam::000000000000:user/alice" {
		t.Errorf("whoami = %v", id)
	}
	if status, body := send("not/the/secret"); status != http.StatusForbidden {
		t.Errorf("wrong secret: answer %d: %s", status, body)
	}
}
