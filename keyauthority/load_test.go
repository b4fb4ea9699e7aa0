package keyauthority_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/gateway"
	"github.com/sigv4/sigv4/keyauthority"
)

// TestPreciseRevocationUnderLoad: an eu and a us gateway on the authority
// serve a steady load: eu requests signed today, eu presigned URLs signed
// yesterday, us requests today. eu-west-1 is revoked for today only: the
// eu requests of today are refused within 1 s; yesterday's eu URLs and
// every us request never fail.
func TestPreciseRevocationUnderLoad(t *testing.T) {
	a := newAuthority(t)
	now := time.Now().UTC()
	a.clock.Set(now)
	alice := a.key("alice", credstore.CreateOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gw := func(name, region string) (string, *keyauthority.Client) {
		c := a.client(name, a.ca)
		c.Now = nil // real time, as the gateways
		go c.Run(ctx)
		waitFor(t, name+"'s stream", c.Connected)
		g, err := gateway.New(gateway.Config{Logger: slog.New(slog.DiscardHandler),
			Verifier: &sigv4.Verifier{Keys: c, Regions: []string{region}, Services: []string{"s3"}}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		return srv.URL, c
	}
	euURL, _ := gw("eu-gw", "eu-west-1")
	usURL, _ := gw("us-gw", "us-east-1")
	signed := func(base, region string) *http.Request {
		req, _ := http.NewRequest("GET", base+"/bucket/k", nil)
		(&sigv4.Signer{Credentials: alice, Region: region, Service: "s3"}).Sign(req)
		return req
	}
	yesterdayURL := func() *http.Request {
		req, _ := http.NewRequest("GET", euURL+"/bucket/k", nil)
		s := &sigv4.Signer{Credentials: alice, Region: "eu-west-1", Service: "s3", Now: func() time.Time { return now.Add(-24 * time.Hour) }}
		if err := s.Presign(req, 48*time.Hour); err != nil {
			t.Fatal(err)
		}
		return req
	}
	type outcome struct {
		at time.Time
		ok bool
	}
	var mu sync.Mutex
	results := map[string][]outcome{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for name, mk := range map[string]func() *http.Request{
		"eu today":     func() *http.Request { return signed(euURL, "eu-west-1") },
		"eu yesterday": yesterdayURL,
		"us today":     func() *http.Request { return signed(usURL, "us-east-1") },
	} {
		wg.Go(func() {
			for !stop.Load() {
				start := time.Now()
				resp, err := http.DefaultClient.Do(mk())
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				results[name] = append(results[name], outcome{start, ok})
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	admin := a.client("admin", a.ca)
	today := now.Format("20060102")
	if _, err := admin.Revoke(ctx, keyauthority.Revocation{Region: "eu-west-1", From: today, To: today}); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	lastOK := time.Time{}
	for _, o := range results["eu today"] {
		if o.ok && o.at.After(lastOK) {
			lastOK = o.at
		}
		if o.ok && o.at.After(revoked.Add(time.Second)) {
			t.Errorf("an eu request of today started %v after the revocation succeeded", o.at.Sub(revoked))
		}
	}
	t.Logf("eu today: %d requests, the last accepted began %v after the revocation", len(results["eu today"]), lastOK.Sub(revoked))
	for _, name := range []string{"eu yesterday", "us today"} {
		failed := 0
		for _, o := range results[name] {
			if !o.ok {
				failed++
			}
		}
		t.Logf("%s: %d requests, %d failed", name, len(results[name]), failed)
		if failed > 0 || len(results[name]) == 0 {
			t.Errorf("%s: %d of %d failed", name, failed, len(results[name]))
		}
	}
}
