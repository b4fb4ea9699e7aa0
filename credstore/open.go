package credstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultURL is the store Open uses for an empty URL: a SQLite file in the
// working directory.
const DefaultURL = "sqlite:./sigv4.db"

// Open opens the store at url, creating it (and its sealing key file) on
// first use unless opts.MustExist. nil opts are the defaults.
//
// The URL forms are:
//
//	sqlite:PATH[?keyfile=KEYFILE]   a SQLite database file
//	PATH                            the same
//	""                              DefaultURL
//	postgres://USER@HOST/DB?keyfile=KEYFILE
//	                                a PostgreSQL database (pgx's URL and
//	                                parameters), shared by processes that
//	                                hold the same key file; a change made
//	                                by one reaches the others' caches at
//	                                once (LISTEN/NOTIFY)
//
// The key file defaults to PATH + ".key". A key file that its group or
// other users may read is refused: Open says to "chmod 600" it. So is a
// database file (or its -wal or -shm file), or a key file, that another
// user owns or may write, and a directory of them that others may write
// without the sticky bit. Open creates the files it needs with mode 0600.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgresStore(ctx, url, opts)
	}
	spec, err := sqliteSpec(url)
	if err != nil {
		return nil, err
	}
	return openSQLiteStore(ctx, spec, opts)
}

// Dir returns the directory of the database file that a store URL, as
// Open reads it, names: where a program may keep a file that belongs with
// the store. It returns an error for a URL Open would refuse.
func Dir(url string) (string, error) {
	spec, err := sqliteSpec(url)
	if err != nil {
		return "", err
	}
	path, _, err := parseSQLiteSpec(spec)
	if err != nil {
		return "", err
	}
	return filepath.Dir(path), nil
}

// sqliteSpec returns the PATH[?keyfile=KEYFILE] of a store URL.
func sqliteSpec(url string) (string, error) {
	if url == "" {
		url = DefaultURL
	}
	scheme, rest, ok := strings.Cut(url, ":")
	switch {
	case ok && scheme == "sqlite":
		return strings.TrimPrefix(rest, "//"), nil
	case ok && (scheme == "postgres" || scheme == "postgresql"):
		return "", fmt.Errorf("credstore: %s: a PostgreSQL store has no directory of its own", url)
	case ok && strings.HasPrefix(rest, "//"):
		return "", fmt.Errorf("credstore: %s: unknown store %q; want sqlite:PATH", url, scheme)
	}
	return url, nil
}

func openSQLiteStore(ctx context.Context, spec string, opts *Options) (*Store, error) {
	path, keyFile, err := parseSQLiteSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.KeyFile != "" {
		keyFile = opts.KeyFile
	}
	if opts != nil && opts.MustExist {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("credstore: no store at %s: %w", path, fs.ErrNotExist)
		}
	}
	b, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	s, err := loadSealingKey(ctx, keyFile, b)
	if err != nil {
		b.Close()
		return nil, err
	}
	return newStore(b, s, opts), nil
}

// openPostgresStore opens the store of a postgres:// URL; its keyfile
// parameter (or Options.KeyFile) names the sealing key file, which every
// process on the store must share. The other parameters are pgx's.
func openPostgresStore(ctx context.Context, rawURL string, opts *Options) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("credstore: the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	keyFile := q.Get("keyfile")
	q.Del("keyfile")
	u.RawQuery = q.Encode()
	if opts != nil && opts.KeyFile != "" {
		keyFile = opts.KeyFile
	}
	if keyFile == "" {
		return nil, fmt.Errorf("credstore: %s: a PostgreSQL store needs its sealing key file: add ?keyfile=PATH (the same file for every process)", redactDSN(u.String()))
	}
	b, err := openPostgres(ctx, u.String())
	if err != nil {
		return nil, err
	}
	s, err := loadSealingKey(ctx, keyFile, b)
	if err != nil {
		b.Close()
		return nil, err
	}
	return newStore(b, s, opts), nil
}

// parseSQLiteSpec splits "PATH[?keyfile=KEYFILE]".
func parseSQLiteSpec(spec string) (path, keyFile string, err error) {
	path, query, _ := strings.Cut(spec, "?")
	if path == "" {
		return "", "", fmt.Errorf("credstore: sqlite:%s: no database path", spec)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("credstore: sqlite:%s: %w", spec, err)
	}
	for name := range params {
		if name != "keyfile" {
			return "", "", fmt.Errorf("credstore: sqlite:%s: unknown parameter %q (want keyfile)", spec, name)
		}
	}
	keyFile = params.Get("keyfile")
	if keyFile == "" {
		keyFile = path + ".key"
	}
	return path, keyFile, nil
}
