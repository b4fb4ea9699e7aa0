package keyauthority_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/keyauthority"
)

// pgSchemaURL makes an empty schema for one test and returns the URL of
// the machine's PostgreSQL that uses it (skipped without PostgreSQL, failed
// under CI=true).
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SIGV4_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL at %s: %v", base, err)
		}
		t.Skipf("no PostgreSQL at %s (%v): run one, or set SIGV4_POSTGRES", base, err)
	}
	schema := fmt.Sprintf("sigv4_ka_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	return base + "&search_path=" + schema
}

// TestReplicas: two authority replicas on one PostgreSQL (the store and
// the revocations): both serve keys; a revocation added through one
// reaches a verifier connected to the other within a second, and the other
// refuses the key too.
func TestReplicas(t *testing.T) {
	dsn := pgSchemaURL(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ca, err := keyauthority.NewCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	grants, _ := keyauthority.LoadGrants(filepath.Join(dir, "grants.json"))
	grants.Put(keyauthority.Grant{Name: "eu-gw", Regions: []string{"eu-west-1"}, Services: []string{"s3"}})
	grants.Put(keyauthority.Grant{Name: "admin", Regions: []string{"*"}, Services: []string{"*"}, Admin: true})
	replica := func() string {
		store, err := credstore.Open(ctx, dsn+"&keyfile="+filepath.Join(dir, "sealing.key"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		revs, err := keyauthority.OpenPostgresRevocations(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { revs.Close() })
		s := &keyauthority.Server{Keys: store, Store: store, Grants: grants, Revocations: revs, Audit: slog.New(slog.DiscardHandler)}
		certPEM, keyPEM, _ := ca.Issue("authority", "127.0.0.1")
		srv := httptest.NewUnstartedServer(s.Handler())
		srv.TLS, _ = keyauthority.ServerTLS(ca.PEM, certPEM, keyPEM)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a, b := replica(), replica()
	client := func(url, name string) *keyauthority.Client {
		certPEM, keyPEM, _ := ca.Issue(name)
		cfg, _ := keyauthority.ClientTLS(ca.PEM, certPEM, keyPEM)
		c := keyauthority.NewClient(url, cfg)
		c.Reconnect = 50 * time.Millisecond
		return c
	}
	admin := keyauthority.NewAdmin(client(a, "admin"))
	_, alice, err := admin.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scope := sigv4.Scope{Date: time.Now().UTC().Format("20060102"), Region: "eu-west-1", Service: "s3"}
	onA, onB := client(a, "eu-gw"), client(b, "eu-gw")
	go onB.Run(ctx)
	waitFor(t, "the stream of replica b", onB.Connected)
	for name, c := range map[string]*keyauthority.Client{"a": onA, "b": onB} {
		if k, _, err := c.SigningKey(ctx, alice.AccessKeyID, scope); err != nil || k != sigv4.DeriveSigningKey(alice.SecretAccessKey, scope) {
			t.Fatalf("replica %s: %v", name, err)
		}
	}
	start := time.Now()
	if _, err := client(a, "admin").Revoke(ctx, keyauthority.Revocation{AccessKeyID: alice.AccessKeyID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation at replica b's verifier", func() bool {
		_, _, err := onB.SigningKey(ctx, alice.AccessKeyID, scope)
		return code(err) == "AccessDenied"
	})
	t.Logf("a revocation added through replica a refused at replica b's verifier after %v", time.Since(start).Round(time.Millisecond))
	if time.Since(start) > time.Second {
		t.Errorf("it took %v", time.Since(start))
	}
	// A third replica started now has it too.
	c := client(replica(), "eu-gw")
	if _, _, err := c.SigningKey(ctx, alice.AccessKeyID, scope); code(err) != "AccessDenied" {
		t.Errorf("a new replica: %v", err)
	}
}
