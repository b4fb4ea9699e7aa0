package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigv4/sigv4"
)

// TestGatewaysLoad: small-GET throughput with 1, 2 and 3 sigv4 serve
// processes on one PostgreSQL store, the load spread over them, on this
// machine. A measurement: run with -args -load.
func TestGatewaysLoad(t *testing.T) {
	if !*loadFlag {
		t.Skip("a load test: run with -args -load")
	}
	ctx := context.Background()
	base := os.Getenv("SIGV4_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	schema := fmt.Sprintf("sigv4_load_%d", time.Now().UnixNano())
	conn.Exec(ctx, "CREATE SCHEMA "+schema)
	defer func() { conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); conn.Close(ctx) }()
	store := base + "&search_path=" + schema + "&keyfile=" + filepath.Join(t.TempDir(), "sealing.key")
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sigv4").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "keys", "create", "--name", "load", "--store", store).CombinedOutput()
	if err != nil {
		t.Fatalf("keys create: %v %s", err, out)
	}
	var creds sigv4.Credentials
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "AWS_ACCESS_KEY_ID="); ok {
			creds.AccessKeyID = v
		}
		if v, ok := strings.CutPrefix(f, "AWS_SECRET_ACCESS_KEY="); ok {
			creds.SecretAccessKey = v
		}
	}
	var gws []string
	for range 3 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--listen", addr, "--admin", "", "--store", store)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		gws = append(gws, "http://"+addr)
	}
	for _, gw := range gws {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.DefaultClient.Do(signedGET(t, creds, gw)); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not answer", gw)
			}
		}
	}
	fmt.Printf("\n| gateways | workers | req/s (all) | p50 / p99 |\n|--:|--:|--:|--:|\n")
	for n := 1; n <= 3; n++ {
		var wg sync.WaitGroup
		results := make([]loadResult, n)
		for i := range n {
			wg.Go(func() { results[i] = runLoad(t, signedGET(t, creds, gws[i]), nil) })
		}
		wg.Wait()
		var rps float64
		for _, r := range results {
			rps += r.rps
			if r.errors > 0 {
				t.Errorf("%d errors: %v", r.errors, r.firstErr)
			}
		}
		fmt.Printf("| %d | %d each | %.0f | %v / %v |\n", n, *loadWorkers, rps, results[0].p50, results[0].p99)
	}
}
