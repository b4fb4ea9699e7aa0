package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/keyauthority"
)

// benchAuthority is a key authority in process over one store with one
// key, a grant of every region for s3, and its client's TLS.
type benchAuthority struct {
	url   string
	creds sigv4.Credentials
	store *credstore.Store
	cfg   func() *http.Client
	new   func() *keyauthority.Client
}

func startBenchAuthority(b *testing.B) *benchAuthority {
	dir := b.TempDir()
	store, err := credstore.Open(context.Background(), "sqlite:"+filepath.Join(dir, "keys.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	_, creds, err := store.Create(context.Background(), "bench", credstore.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ca, err := keyauthority.NewCA(dir)
	if err != nil {
		b.Fatal(err)
	}
	grants, _ := keyauthority.LoadGrants(filepath.Join(dir, "grants.json"))
	grants.Put(keyauthority.Grant{Name: "bench-gw", Regions: []string{"*"}, Services: []string{"s3"}})
	revs, err := keyauthority.OpenRevocationLog(filepath.Join(dir, "revocations.jsonl"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { revs.Close() })
	s := &keyauthority.Server{Keys: store, Grants: grants, Revocations: revs, Audit: slog.New(slog.DiscardHandler)}
	certPEM, keyPEM, _ := ca.Issue("authority", "127.0.0.1")
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.TLS, _ = keyauthority.ServerTLS(ca.PEM, certPEM, keyPEM)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	b.Cleanup(srv.Close)
	ccert, ckey, _ := ca.Issue("bench-gw")
	tlsConfig, err := keyauthority.ClientTLS(ca.PEM, ccert, ckey)
	if err != nil {
		b.Fatal(err)
	}
	return &benchAuthority{url: srv.URL, creds: creds, store: store,
		cfg: func() *http.Client {
			return &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig.Clone(), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}}
		},
		new: func() *keyauthority.Client { return keyauthority.NewClient(srv.URL, tlsConfig.Clone()) },
	}
}

// BenchmarkAuthority: the key grants the authority serves (requests for a
// signing key, in parallel over kept-alive mutual TLS); a verifier's cold
// miss (a key it has not cached: one request to the authority), with its
// p50 and p99; and a warm hit, beside the embedded store's warm hit.
func BenchmarkAuthority(b *testing.B) {
	a := startBenchAuthority(b)
	today := time.Now().UTC().Format("20060102")
	b.Run("grants", func(b *testing.B) {
		hc := a.cfg()
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body, _ := json.Marshal(map[string]string{"access_key_id": a.creds.AccessKeyID, "date": today,
					"region": fmt.Sprintf("region-%d", n.Add(1)%64), "service": "s3"})
				resp, err := hc.Post(a.url+keyauthority.PathSigningKey, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("grant: %s", resp.Status)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
	})
	b.Run("cold-miss", func(b *testing.B) {
		c := a.new()
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			start := time.Now()
			if _, _, err := c.SigningKey(context.Background(), a.creds.AccessKeyID, sigv4.Scope{Date: today, Region: fmt.Sprintf("cold-%d", i), Service: "s3"}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	scope := sigv4.Scope{Date: today, Region: "eu-west-1", Service: "s3"}
	b.Run("warm-hit/authority-client", func(b *testing.B) {
		c := a.new()
		c.SigningKey(context.Background(), a.creds.AccessKeyID, scope)
		b.ReportAllocs()
		for b.Loop() {
			c.SigningKey(context.Background(), a.creds.AccessKeyID, scope)
		}
	})
	b.Run("warm-hit/embedded-store", func(b *testing.B) {
		a.store.SigningKey(context.Background(), a.creds.AccessKeyID, scope)
		b.ReportAllocs()
		for b.Loop() {
			a.store.SigningKey(context.Background(), a.creds.AccessKeyID, scope)
		}
	})
}
