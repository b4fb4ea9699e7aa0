package credstore_test

import (
	crand "crypto/rand"
	"encoding/base32"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// TestEqualWorkForUnknownKeys times, interleaved in random order, the
// verification of requests a prober can send: one signed with a wrong
// secret for a known, warm key, one for an unknown key, one for a disabled
// key. A backend read per unknown or disabled key, as the store once did,
// makes those about ten times slower than the known key; with refusals
// cached, the medians must be within maxRatio of each other.
func TestEqualWorkForUnknownKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("a timing measurement")
	}
	const (
		rounds   = 3000
		attempts = 3
		maxRatio = 2.0
	)
	probes := timingProbes(t)
	for attempt := 1; ; attempt++ {
		medians := timeProbes(probes, rounds)
		lo, hi := slices.Min(medians), slices.Max(medians)
		ratio := float64(hi) / float64(lo)
		t.Logf("attempt %d: median Verify time: known %v, unknown %v, disabled %v (max/min %.2f)",
			attempt, medians[0], medians[1], medians[2], ratio)
		if ratio <= maxRatio {
			return
		}
		if attempt == attempts {
			t.Fatalf("unknown and disabled keys do not cost what a warm known key costs: max/min of the medians %.2f > %.1f", ratio, maxRatio)
		}
	}
}

// A timingProbe is a request a prober without the secret can send.
type timingProbe struct {
	name string
	v    *sigv4.Verifier
	req  *http.Request
	want error
}

// timingProbes makes a store with a known and a disabled key, and a signed
// request (with a wrong secret) for each and for an unknown key, each
// verified once to warm what can be warmed.
func timingProbes(t *testing.T) []timingProbe {
	ctx := t.Context()
	s, err := credstore.Open(ctx, filepath.Join(t.TempDir(), "sigv4.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	known, _, err := s.Create(ctx, "known", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	disabled, _, err := s.Create(ctx, "disabled", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, disabled.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	v := &sigv4.Verifier{Keys: s, Regions: []string{"*"}, Services: []string{"*"}, Now: clock}
	probes := []timingProbe{
		{"known", v, nil, sigv4.ErrSignatureDoesNotMatch},
		{"unknown", v, nil, sigv4.ErrInvalidAccessKeyID},
		{"disabled", v, nil, sigv4.ErrInvalidAccessKeyID},
	}
	for i, id := range []string{known.AccessKeyID, randomAccessKeyID(), disabled.AccessKeyID} {
		req := httptest.NewRequest("GET", "https://example.com/bucket/object?versionId=1", nil)
		signer := &sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: id, SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
			Region: "us-east-1", Service: "s3", Now: clock}
		if err := signer.Sign(req); err != nil {
			t.Fatal(err)
		}
		probes[i].req = req
		for range 100 {
			if _, err := v.Verify(req); !errors.Is(err, probes[i].want) {
				t.Fatalf("%s key: got %v, want %v", probes[i].name, err, probes[i].want)
			}
		}
	}
	return probes
}

// timeProbes verifies each probe rounds times, in a new random order each
// round, and returns the median time of each.
func timeProbes(probes []timingProbe, rounds int) []time.Duration {
	times := make([][]time.Duration, len(probes))
	order := make([]int, len(probes))
	for i := range order {
		order[i] = i
	}
	for range rounds {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			start := time.Now()
			probes[i].v.Verify(probes[i].req)
			times[i] = append(times[i], time.Since(start))
		}
	}
	medians := make([]time.Duration, len(probes))
	for i, ts := range times {
		slices.Sort(ts)
		medians[i] = ts[len(ts)/2]
	}
	return medians
}

// randomAccessKeyID returns a well-formed long-term access key ID that no
// store has made.
func randomAccessKeyID() string {
	var b [10]byte
	crand.Read(b[:])
	return credstore.LongTermPrefix + base32.StdEncoding.EncodeToString(b[:])
}
