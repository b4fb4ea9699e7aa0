package credstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresBackend is a Backend on PostgreSQL, through pgx. Every change
// to a key is announced on the channel sigv4_keys (NOTIFY, in the same
// transaction), which the Store of every process listens to.
type postgresBackend struct {
	pool *pgxpool.Pool
	dsn  string
}

// pgChannel is the LISTEN/NOTIFY channel of key changes; the payload is
// the access key ID.
const pgChannel = "sigv4_keys"

// pgMigrationLock is the advisory lock that serializes the migrations of
// processes starting at once.
const pgMigrationLock = 0x5167_7634 // "Sgv4"

// postgresMigrations are applied in order; schema_version counts those
// done. Never edit one that has shipped: append.
var postgresMigrations = []string{
	`CREATE TABLE sigv4_meta (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE sigv4_access_keys (
		access_key_id TEXT PRIMARY KEY,
		name          TEXT NOT NULL,
		principal     TEXT NOT NULL,
		status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
		created_us    BIGINT NOT NULL,
		last_used_us  BIGINT,
		expires_us    BIGINT,
		services      TEXT NOT NULL DEFAULT '',
		regions       TEXT NOT NULL DEFAULT '',
		parent        TEXT NOT NULL DEFAULT '',
		sealed_secret BYTEA NOT NULL,
		sealed_token  BYTEA
	);
	CREATE INDEX sigv4_access_keys_parent ON sigv4_access_keys (parent) WHERE parent != '';`,
}

// openPostgres connects to dsn (a postgres:// URL or key=value string)
// and brings the schema up to date.
func openPostgres(ctx context.Context, dsn string) (*postgresBackend, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("credstore: %s: %w", redactDSN(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b := &postgresBackend{pool: pool, dsn: dsn}
	if err := b.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("credstore: %s: %w", redactDSN(dsn), err)
	}
	return b, nil
}

// redactDSN drops the password of a URL for messages.
func redactDSN(dsn string) string {
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "postgres:(unparsable)"
}

func (b *postgresBackend) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		// Two processes of one version starting at once: the second
		// waits here, then finds the work done.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS sigv4_schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM sigv4_schema_version`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO sigv4_schema_version (version) VALUES (0)`)
		}
		if err != nil {
			return err
		}
		if v > len(postgresMigrations) {
			return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade sigv4", v, len(postgresMigrations))
		}
		for ; v < len(postgresMigrations); v++ {
			if _, err := tx.Exec(ctx, postgresMigrations[v]); err != nil {
				return fmt.Errorf("schema migration %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE sigv4_schema_version SET version = $1`, v)
		return err
	})
}

const pgRecordColumns = `access_key_id, name, principal, status, created_us, last_used_us, expires_us,
	services, regions, parent, sealed_secret, sealed_token`

func (b *postgresBackend) Insert(ctx context.Context, r Record) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sigv4_access_keys (`+pgRecordColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.AccessKeyID, r.Name, r.Principal, string(r.Status), r.Created.UnixMicro(), pgMicros(r.LastUsed), pgMicros(r.Expires),
			strings.Join(r.Services, ","), strings.Join(r.Regions, ","), r.Parent, r.SealedSecret, r.SealedToken)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
			return ErrExists
		}
		if err != nil {
			return err
		}
		return notify(ctx, tx, r.AccessKeyID)
	})
}

// notify announces a change of accessKeyID, with the time it was made
// (for the listeners' lag).
func notify(ctx context.Context, tx pgx.Tx, accessKeyID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, pgChannel, accessKeyID+" "+strconv.FormatInt(time.Now().UnixNano(), 10))
	return err
}

// Ping reports whether the database answers.
func (b *postgresBackend) Ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *postgresBackend) Get(ctx context.Context, accessKeyID string) (Record, error) {
	r, err := pgScanRecord(b.pool.QueryRow(ctx, `SELECT `+pgRecordColumns+` FROM sigv4_access_keys WHERE access_key_id = $1`, accessKeyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	return r, err
}

func (b *postgresBackend) List(ctx context.Context) ([]Record, error) {
	rows, err := b.pool.Query(ctx, `SELECT `+pgRecordColumns+` FROM sigv4_access_keys ORDER BY created_us, access_key_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []Record
	for rows.Next() {
		r, err := pgScanRecord(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

func pgScanRecord(row pgx.Row) (Record, error) {
	var (
		r                 Record
		status            string
		created           int64
		lastUsed, expires *int64
		services, regions string
	)
	err := row.Scan(&r.AccessKeyID, &r.Name, &r.Principal, &status, &created, &lastUsed, &expires,
		&services, &regions, &r.Parent, &r.SealedSecret, &r.SealedToken)
	if err != nil {
		return Record{}, err
	}
	r.Status, r.Created = Status(status), time.UnixMicro(created).UTC()
	r.LastUsed, r.Expires = pgTime(lastUsed), pgTime(expires)
	r.Services, r.Regions = splitList(services), splitList(regions)
	return r, nil
}

func (b *postgresBackend) SetStatus(ctx context.Context, accessKeyID string, s Status) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sigv4_access_keys SET status = $1 WHERE access_key_id = $2`, string(s), accessKeyID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return notify(ctx, tx, accessKeyID)
	})
}

func (b *postgresBackend) Delete(ctx context.Context, accessKeyID string) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sigv4_access_keys WHERE access_key_id = $1`, accessKeyID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		rows, err := tx.Query(ctx, `DELETE FROM sigv4_access_keys WHERE parent = $1 RETURNING access_key_id`, accessKeyID)
		if err != nil {
			return err
		}
		children, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range append(children, accessKeyID) {
			if err := notify(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *postgresBackend) TouchLastUsed(ctx context.Context, used map[string]time.Time) error {
	batch := &pgx.Batch{}
	for id, t := range used {
		batch.Queue(`UPDATE sigv4_access_keys SET last_used_us = $1
			WHERE access_key_id = $2 AND (last_used_us IS NULL OR last_used_us < $1)`, t.UnixMicro(), id)
	}
	return b.pool.SendBatch(ctx, batch).Close()
}

func (b *postgresBackend) BindSealingKey(ctx context.Context, fingerprint string) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sigv4_meta (name, value) VALUES ('sealing_key_fingerprint', $1)
			ON CONFLICT (name) DO NOTHING`, fingerprint); err != nil {
			return err
		}
		var have string
		if err := tx.QueryRow(ctx, `SELECT value FROM sigv4_meta WHERE name = 'sealing_key_fingerprint'`).Scan(&have); err != nil {
			return err
		}
		if have != fingerprint {
			return ErrWrongSealingKey
		}
		return nil
	})
}

func (b *postgresBackend) Close() error { b.pool.Close(); return nil }

// Watch calls changed with the access key ID of every change any process
// makes and when it was made, and with "" after it (re)connects, when
// changes may have been missed, until ctx is done.
func (b *postgresBackend) Watch(ctx context.Context, changed func(accessKeyID string, at time.Time)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, b.dsn)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+pgChannel); err == nil {
				backoff = 100 * time.Millisecond
				changed("", time.Time{}) // what happened while no one listened
				for {
					n, err := conn.WaitForNotification(ctx)
					if err != nil {
						break
					}
					id, at, _ := strings.Cut(n.Payload, " ")
					ns, _ := strconv.ParseInt(at, 10, 64)
					changed(id, time.Unix(0, ns))
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// watcher is a Backend that reports changes made by other processes.
type watcher interface {
	Watch(ctx context.Context, changed func(accessKeyID string, at time.Time))
}

var _ watcher = (*postgresBackend)(nil)

func pgMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixMicro()
	return &n
}

func pgTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.UnixMicro(*n).UTC()
}
