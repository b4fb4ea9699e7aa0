package credstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (credstore.Backend, func() []byte) {
		path := filepath.Join(t.TempDir(), "sigv4.db")
		b, err := credstore.OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return b, func() []byte { return sqliteFiles(t, path) }
	})
}

// sqliteFiles returns the database file and its WAL, where the newest
// pages are.
func sqliteFiles(t *testing.T, path string) []byte {
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestOpenURLs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for _, tc := range []struct{ url, db, key string }{
		{"sqlite:" + dir + "/a.db", dir + "/a.db", dir + "/a.db.key"},
		{"sqlite://" + dir + "/b.db", dir + "/b.db", dir + "/b.db.key"},
		{dir + "/c.db", dir + "/c.db", dir + "/c.db.key"},
		{"sqlite:" + dir + "/d.db?keyfile=" + dir + "/d-secret", dir + "/d.db", dir + "/d-secret"},
	} {
		s, err := credstore.Open(ctx, tc.url, nil)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.url, err)
			continue
		}
		s.Close()
		if _, err := os.Stat(tc.db); err != nil {
			t.Errorf("Open(%q): %v", tc.url, err)
		}
		fi, err := os.Stat(tc.key)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("Open(%q): key file %s: %v, %v (want mode 0600)", tc.url, tc.key, fi, err)
		}
	}
	for _, url := range []string{
		"postgres://localhost/sigv4", "redis://localhost", "sqlite:" + dir + "/e.db?key=x", "sqlite:",
	} {
		if s, err := credstore.Open(ctx, url, nil); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

func TestOpenDefaultURL(t *testing.T) {
	t.Chdir(t.TempDir())
	s, err := credstore.Open(t.Context(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, name := range []string{"sigv4.db", "sigv4.db.key"} {
		if _, err := os.Stat(name); err != nil {
			t.Error(err)
		}
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	url := "sqlite:" + filepath.Join(t.TempDir(), "sigv4.db")
	s, err := credstore.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, creds, err := s.Create(ctx, "alice", credstore.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = credstore.Open(ctx, url, &credstore.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := storetest.VerifyRequest(s, creds, "us-east-1", "s3", time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	_, err := credstore.Open(t.Context(), path, &credstore.Options{MustExist: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MustExist created %s", path)
	}
}

func TestKeyFileReadableByOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigv4.db")
	newStore(t, path).Close()
	if err := os.Chmod(path+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := credstore.Open(t.Context(), path, nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open with a 0644 key file: got %v, want advice to chmod 600", err)
	}
}

func TestKeyFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigv4.db")
	newStore(t, path).Close()
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}
	_, err := credstore.Open(t.Context(), path, nil)
	if !errors.Is(err, credstore.ErrWrongSealingKey) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open without its key file: got %v, want ErrWrongSealingKey saying it is missing", err)
	}
	if _, err := os.Stat(path + ".key"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Open left a new key file behind")
	}
}

func TestKeyFileWrong(t *testing.T) {
	dir := t.TempDir()
	newStore(t, filepath.Join(dir, "a.db")).Close()
	newStore(t, filepath.Join(dir, "b.db")).Close()
	_, err := credstore.Open(t.Context(), "sqlite:"+dir+"/a.db?keyfile="+dir+"/b.db.key", nil)
	if !errors.Is(err, credstore.ErrWrongSealingKey) {
		t.Errorf("Open with another store's key file: got %v, want ErrWrongSealingKey", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sigv4.db")
	newStore(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("schema version %d, %v; want 1", v, err)
	}
	var mode string
	if db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); mode != "wal" {
		t.Errorf("journal_mode = %q, want wal (it persists in the file)", mode)
	}
	if _, err := db.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if _, err := credstore.Open(ctx, path, nil); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("Open of a newer schema: got %v, want advice to upgrade", err)
	}
}

func TestRecordLogValue(t *testing.T) {
	var buf bytes.Buffer
	r := credstore.Record{Key: credstore.Key{AccessKeyID: "AKIAQQQQQQQQQQQQQQQQ"}, SealedSecret: []byte("SEALED"), SealedToken: []byte("TOKEN")}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "record", r)
	if !strings.Contains(buf.String(), r.AccessKeyID) || strings.Contains(buf.String(), "SEALED") || strings.Contains(buf.String(), "TOKEN") {
		t.Errorf("log: %s", buf.String())
	}

	// A Store's cache holds session tokens.
	st := newStore(t, filepath.Join(t.TempDir(), "sigv4.db"))
	defer st.Close()
	keys, _ := st.List(t.Context())
	_, creds, err := st.Session(t.Context(), keys[0].AccessKeyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.VerifyRequest(st, creds, "us-east-1", "s3", time.Now()); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "store", st, "creds", creds)
	if strings.Contains(buf.String(), creds.SessionToken) || strings.Contains(buf.String(), creds.SecretAccessKey) || !strings.Contains(buf.String(), "cache_hits") {
		t.Errorf("log: %s", buf.String())
	}
}

func newStore(t *testing.T, path string) *credstore.Store {
	t.Helper()
	s, err := credstore.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(t.Context(), "alice", credstore.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDir(t *testing.T) {
	for url, want := range map[string]string{
		"":                                      ".",
		"sqlite:/var/lib/sigv4/keys.db":         "/var/lib/sigv4",
		"sqlite:///srv/k.db?keyfile=/etc/k.key": "/srv",
		"data/keys.db":                          "data",
	} {
		if got, err := credstore.Dir(url); got != want || err != nil {
			t.Errorf("Dir(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	if _, err := credstore.Dir("redis://localhost"); err == nil {
		t.Error("Dir of an unknown store succeeded")
	}
}
