package credstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

// pgBase is the PostgreSQL of the tests: $SIGV4_POSTGRES, else the
// machine's (trust auth, database test).
func pgBase() string {
	if u := os.Getenv("SIGV4_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var pgSchemas atomic.Int64

// pgSchema makes an empty schema for one test, dropped at its end, and
// returns the URL that uses it. Without PostgreSQL the test is skipped
// (failed under CI=true).
func pgSchema(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgBase())
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL at %s (%v): run one (trust auth, database test) or set SIGV4_POSTGRES", pgBase(), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("sigv4_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, pgSchemas.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgBase())
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(pgBase(), "?") {
		sep = "&"
	}
	return pgBase() + sep + "search_path=" + schema
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (credstore.Backend, func() []byte) {
		dsn := pgSchema(t)
		b, err := credstore.OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return b, func() []byte { return pgDump(t, dsn) }
	})
}

// pgDump returns every byte of the store's tables as PostgreSQL keeps
// them, for the check that no secret is stored in the clear.
func pgDump(t *testing.T, dsn string) []byte {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var all []byte
	for _, table := range []string{"sigv4_access_keys", "sigv4_meta"} {
		rows, err := conn.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					all = append(all, v...)
				default:
					all = append(all, fmt.Sprint(v)...)
				}
			}
		}
		rows.Close()
	}
	return all
}

// TestPostgresNotify: two Stores (as two processes) on one PostgreSQL: a
// key disabled through one is refused by the other, which had it cached,
// within a second, and a new key there at once; the listener's connection
// cut, the second store reconnects and drops what it may have missed.
func TestPostgresNotify(t *testing.T) {
	dsn := pgSchema(t) + "&keyfile=" + filepath.Join(t.TempDir(), "sealing.key")
	ctx := context.Background()
	a, err := credstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := credstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, alice, err := a.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	verify := func(s *credstore.Store) error {
		_, err := storetest.VerifyRequest(s, alice, "us-east-1", "s3", time.Now())
		return err
	}
	if err := verify(b); err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for i := range 20 {
		if err := a.Disable(ctx, alice.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for verify(b) == nil {
			if time.Since(start) > time.Second {
				t.Fatalf("round %d: the other store still accepts the disabled key after 1 s", i)
			}
			time.Sleep(time.Millisecond)
		}
		delays = append(delays, time.Since(start))
		if err := a.Enable(ctx, alice.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		for verify(b) != nil {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("round %d: the enabled key still refused", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Logf("a key disabled through one store was refused by the other after at most %v (20 rounds; %d notifications applied)",
		maxDuration(delays), b.Notified())
	_ = now

	// Cut the listener's connection: the second store reconnects, and
	// what it missed meanwhile is dropped from its cache.
	conn, err := pgx.Connect(ctx, pgBase())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	before := b.Notified()
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN sigv4_keys%' AND pid != pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); b.Notified() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the store did not reconnect its listener")
		}
	}
	if _, _, err := b.SigningKey(ctx, alice.AccessKeyID, sigv4.Scope{Date: time.Now().UTC().Format("20060102"), Region: "us-east-1", Service: "s3"}); err != nil {
		t.Errorf("after the reconnect: %v", err)
	}
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// TestPostgresMigrationRace: several processes of one version starting at
// once on an empty database: every one opens the store (the migrations
// are serialized), with the one sealing key file they share.
func TestPostgresMigrationRace(t *testing.T) {
	dsn := pgSchema(t) + "&keyfile=" + filepath.Join(t.TempDir(), "sealing.key")
	errs := make(chan error, 6)
	stores := make(chan *credstore.Store, 6)
	for range 6 {
		go func() {
			s, err := credstore.Open(context.Background(), dsn, nil)
			errs <- err
			stores <- s
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Errorf("a concurrent open: %v", err)
		}
		if s := <-stores; s != nil {
			s.Close()
		}
	}
}
