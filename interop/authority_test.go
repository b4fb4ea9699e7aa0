package interop

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigv4/sigv4/keyauthority"
)

// authorityKeys serves keys through a key authority in process (mutual
// TLS, its own CA, a grant for the test region and S3 and STS) and returns
// a running client of it: what a gateway on the authority holds, which is
// no secret.
func authorityKeys(t *testing.T, keys keyauthority.Keys, now func() time.Time) *keyauthority.Client {
	t.Helper()
	dir := t.TempDir()
	ca, err := keyauthority.NewCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := keyauthority.LoadGrants(filepath.Join(dir, "grants.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := grants.Put(keyauthority.Grant{Name: "interop-gw", Regions: []string{region}, Services: []string{"s3", "sts"}}); err != nil {
		t.Fatal(err)
	}
	revs, err := keyauthority.OpenRevocationLog(filepath.Join(dir, "revocations.jsonl"), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { revs.Close() })
	s := &keyauthority.Server{Keys: keys, Grants: grants, Revocations: revs, Now: now, Audit: slog.New(slog.DiscardHandler)}
	certPEM, keyPEM, err := ca.Issue("authority", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	if srv.TLS, err = keyauthority.ServerTLS(ca.PEM, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ccert, ckey, err := ca.Issue("interop-gw")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := keyauthority.ClientTLS(ca.PEM, ccert, ckey)
	if err != nil {
		t.Fatal(err)
	}
	c := keyauthority.NewClient(srv.URL, cfg)
	c.Now = now
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	for deadline := time.Now().Add(5 * time.Second); !c.Connected(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the key authority's stream did not open")
		}
	}
	return c
}
