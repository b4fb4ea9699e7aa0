package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/replay"
)

// scaleSizes are the store sizes of BenchmarkKeyLookup.
var scaleSizes = []int{1_000, 100_000, 1_000_000}

// fillerID is the access key ID of the i-th filler row.
func fillerID(i int) string { return fmt.Sprintf("AKIAFILL%012d", i) }

// BenchmarkKeyLookup: a key looked up in a store of 1 k, 100 k and 1 M
// keys, on SQLite and on PostgreSQL: cold (no cache: the index lookup,
// the unsealing and the derivation) and warm (the cache). The stores hold
// real keys made by the Store and filler rows written in bulk.
func BenchmarkKeyLookup(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, n := range scaleSizes {
			b.Run(fmt.Sprintf("%s/%d", backend, n), func(b *testing.B) {
				url := scaleStore(b, backend, n)
				for _, cold := range []bool{true, false} {
					name := "warm"
					opts := &credstore.Options{}
					if cold {
						name, opts.CacheTTL = "cold", -1
					}
					b.Run(name, func(b *testing.B) {
						s, err := credstore.Open(context.Background(), url, opts)
						if err != nil {
							b.Fatal(err)
						}
						defer s.Close()
						var ids []string
						for range 10 {
							_, c, err := s.Create(context.Background(), "real", credstore.CreateOptions{})
							if err != nil {
								b.Fatal(err)
							}
							ids = append(ids, c.AccessKeyID)
						}
						scope := sigv4.Scope{Date: time.Now().UTC().Format("20060102"), Region: "us-east-1", Service: "s3"}
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							i++
							if _, _, err := s.SigningKey(context.Background(), ids[i%len(ids)], scope); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			})
		}
	}
}

// scaleStore makes a store of n filler rows and returns its URL.
func scaleStore(b *testing.B, backend string, n int) string {
	ctx := context.Background()
	dir := b.TempDir()
	keyFile := filepath.Join(dir, "sealing.key")
	sealed := make([]byte, 60)
	rand.Read(sealed)
	switch backend {
	case "sqlite":
		path := filepath.Join(dir, "keys.db")
		s, err := credstore.Open(ctx, "sqlite:"+path, nil) // makes the schema
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		tx, _ := db.Begin()
		stmt, err := tx.Prepare(`INSERT INTO access_keys (access_key_id, name, principal, status, created_us, sealed_secret) VALUES (?, 'filler', 'arn:x', 'active', ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if _, err := stmt.Exec(fillerID(i), i, sealed); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		return "sqlite:" + path
	}
	base := os.Getenv("SIGV4_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Skipf("no PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("sigv4_bench_%d", time.Now().UnixNano())
	conn.Exec(ctx, "CREATE SCHEMA "+schema)
	b.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	url := base + "&search_path=" + schema + "&keyfile=" + keyFile
	s, err := credstore.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fillerID(i), "filler", "arn:x", "active", int64(i), sealed}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{schema, "sigv4_access_keys"},
		[]string{"access_key_id", "name", "principal", "status", "created_us", "sealed_secret"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	conn.Exec(ctx, "ANALYZE "+schema+".sigv4_access_keys")
	return url
}

// BenchmarkReplayCache: what a replay check adds to a request, in memory
// and on Redis (127.0.0.1:6379).
func BenchmarkReplayCache(b *testing.B) {
	caches := map[string]replay.Cache{"memory": &replay.Memory{}}
	if r, err := replay.NewRedis("redis://127.0.0.1:6379/0"); err == nil && r.Ping(context.Background()) == nil {
		caches["redis"] = r
	}
	for name, c := range caches {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var k replay.Key
			i := 0
			for b.Loop() {
				i++
				copy(k[:], fmt.Sprintf("%032d", i))
				k[31] = byte(time.Now().UnixNano())
				if _, err := c.Seen(context.Background(), k, time.Now().Add(time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
