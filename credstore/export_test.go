package credstore

import "context"

// OpenSQLite opens a bare SQLite backend, for the conformance suite.
var OpenSQLite = openSQLite

// CacheSizes returns how many keys and refusals s caches.
func CacheSizes(s *Store) (keys, refusals int) { return s.cache.sizes() }

// SetAccessKeyIDs makes the next access key IDs the ones given, then
// random ones again.
func SetAccessKeyIDs(ids ...string) (restore func()) {
	orig := newAccessKeyID
	newAccessKeyID = func(prefix string) string {
		if len(ids) == 0 {
			return orig(prefix)
		}
		id := ids[0]
		ids = ids[1:]
		return id
	}
	return func() { newAccessKeyID = orig }
}

// OpenPostgres opens a bare PostgreSQL backend, for the conformance suite.
func OpenPostgres(ctx context.Context, dsn string) (Backend, error) { return openPostgres(ctx, dsn) }
