package credstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteBackend keeps records in one SQLite file, in WAL mode with
// synchronous=FULL: a key is on disk when Insert returns, and survives a
// crash of the process or of the machine.
type sqliteBackend struct {
	db *sql.DB
}

// sqliteMigrations are applied in order; schema_version counts those done.
// Never edit one that has shipped: append.
var sqliteMigrations = []string{
	`CREATE TABLE meta (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE access_keys (
		access_key_id TEXT PRIMARY KEY,
		name          TEXT NOT NULL,
		principal     TEXT NOT NULL,
		status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
		created_us    INTEGER NOT NULL,
		last_used_us  INTEGER,
		expires_us    INTEGER,
		services      TEXT NOT NULL DEFAULT '',
		regions       TEXT NOT NULL DEFAULT '',
		parent        TEXT NOT NULL DEFAULT '',
		sealed_secret BLOB NOT NULL,
		sealed_token  BLOB
	);
	CREATE INDEX access_keys_parent ON access_keys (parent) WHERE parent != '';`,
}

// openSQLite opens (creating if needed) the database at path.
func openSQLite(ctx context.Context, path string) (Backend, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// A URI filename, so that any path works: escape what SQLite's URI
	// parser would take for syntax.
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs)) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	if err := checkSQLiteFiles(abs); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	b := &sqliteBackend{db: db}
	if err := b.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("credstore: opening %s: %w", path, err)
	}
	return b, nil
}

// checkSQLiteFiles creates the database at path and its -wal and -shm
// files with mode 0600 before SQLite opens them, so that no other user
// can create them first (see checkFile); those that exist must be the
// user's own. No secret is in them, but names and principals are, and a
// planted WAL would be read as part of the database.
func checkSQLiteFiles(path string) error {
	if err := checkDir(filepath.Dir(path)); err != nil {
		return err
	}
	for _, f := range [...]struct{ what, suffix string }{
		{"store file", ""}, {"store WAL file", "-wal"}, {"store shared-memory file", "-shm"},
	} {
		if err := openPrivate(f.what, path+f.suffix); err != nil {
			return err
		}
	}
	return nil
}

func (b *sqliteBackend) migrate(ctx context.Context) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`)
	}
	if err != nil {
		return err
	}
	if v > len(sqliteMigrations) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade sigv4", v, len(sqliteMigrations))
	}
	for ; v < len(sqliteMigrations); v++ {
		if _, err := tx.ExecContext(ctx, sqliteMigrations[v]); err != nil {
			return fmt.Errorf("schema migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v); err != nil {
		return err
	}
	return tx.Commit()
}

const recordColumns = `access_key_id, name, principal, status, created_us, last_used_us, expires_us,
	services, regions, parent, sealed_secret, sealed_token`

func (b *sqliteBackend) Insert(ctx context.Context, r Record) error {
	_, err := b.db.ExecContext(ctx, `INSERT INTO access_keys (`+recordColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.AccessKeyID, r.Name, r.Principal, string(r.Status), r.Created.UnixMicro(), micros(r.LastUsed), micros(r.Expires),
		strings.Join(r.Services, ","), strings.Join(r.Regions, ","), r.Parent, r.SealedSecret, r.SealedToken)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return ErrExists
	}
	return err
}

func (b *sqliteBackend) Get(ctx context.Context, accessKeyID string) (Record, error) {
	r, err := scanRecord(b.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM access_keys WHERE access_key_id = ?`, accessKeyID))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	return r, err
}

func (b *sqliteBackend) List(ctx context.Context) ([]Record, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT `+recordColumns+` FROM access_keys ORDER BY created_us, access_key_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

func scanRecord(row interface{ Scan(...any) error }) (Record, error) {
	var (
		r                 Record
		status            string
		created           int64
		lastUsed, expires sql.NullInt64
		services, regions string
	)
	err := row.Scan(&r.AccessKeyID, &r.Name, &r.Principal, &status, &created, &lastUsed, &expires,
		&services, &regions, &r.Parent, &r.SealedSecret, &r.SealedToken)
	if err != nil {
		return Record{}, err
	}
	r.Status, r.Created = Status(status), time.UnixMicro(created).UTC()
	r.LastUsed, r.Expires = fromMicros(lastUsed), fromMicros(expires)
	r.Services, r.Regions = splitList(services), splitList(regions)
	return r, nil
}

func (b *sqliteBackend) SetStatus(ctx context.Context, accessKeyID string, s Status) error {
	return affectedOne(b.db.ExecContext(ctx, `UPDATE access_keys SET status = ? WHERE access_key_id = ?`, string(s), accessKeyID))
}

func (b *sqliteBackend) Delete(ctx context.Context, accessKeyID string) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := affectedOne(tx.ExecContext(ctx, `DELETE FROM access_keys WHERE access_key_id = ?`, accessKeyID)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE parent = ?`, accessKeyID); err != nil {
		return err
	}
	return tx.Commit()
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (b *sqliteBackend) TouchLastUsed(ctx context.Context, used map[string]time.Time) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE access_keys SET last_used_us = ?1
		WHERE access_key_id = ?2 AND (last_used_us IS NULL OR last_used_us < ?1)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for id, t := range used {
		if _, err := stmt.ExecContext(ctx, t.UnixMicro(), id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (b *sqliteBackend) BindSealingKey(ctx context.Context, fingerprint string) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var have string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'sealing_key_fingerprint'`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('sealing_key_fingerprint', ?)`, fingerprint); err != nil {
			return err
		}
		return tx.Commit()
	case err != nil:
		return err
	case have != fingerprint:
		return ErrWrongSealingKey
	}
	return nil
}

func (b *sqliteBackend) Close() error { return b.db.Close() }

func micros(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}
