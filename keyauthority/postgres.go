package keyauthority

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigv4/sigv4"
)

// PostgresRevocations keeps revocations in PostgreSQL, for authority
// replicas sharing one database: a revocation added through one replica
// is served by every other, and pushed to their verifiers, at once
// (LISTEN/NOTIFY); a replica that lost its connection reads what it
// missed when it is back.
type PostgresRevocations struct {
	pool *pgxpool.Pool
	dsn  string

	mu   sync.Mutex
	list []Revocation
	subs map[chan struct{}]struct{}
	stop context.CancelFunc
	done chan struct{}
}

const pgRevocationsChannel = "sigv4_revocations"

var _ Revocations = (*PostgresRevocations)(nil)

// OpenPostgresRevocations opens (creating its table if needed) the
// revocations of the database at dsn, and follows them until Close.
func OpenPostgresRevocations(ctx context.Context, dsn string) (*PostgresRevocations, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(5167763500)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS sigv4_revocations (seq BIGSERIAL PRIMARY KEY, revocation JSONB NOT NULL)`)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	p := &PostgresRevocations{pool: pool, dsn: dsn, subs: map[chan struct{}]struct{}{}, done: make(chan struct{})}
	if err := p.load(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	go p.watch(wctx)
	return p, nil
}

// Close stops following and closes the connections.
func (p *PostgresRevocations) Close() error {
	p.stop()
	<-p.done
	p.pool.Close()
	return nil
}

// load reads the revocations after those held, and wakes the subscribers
// if there were any.
func (p *PostgresRevocations) load(ctx context.Context) error {
	p.mu.Lock()
	var last int64
	if len(p.list) > 0 {
		last = p.list[len(p.list)-1].Seq
	}
	p.mu.Unlock()
	rows, err := p.pool.Query(ctx, `SELECT seq, revocation FROM sigv4_revocations WHERE seq > $1 ORDER BY seq`, last)
	if err != nil {
		return err
	}
	defer rows.Close()
	var got []Revocation
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return err
		}
		var r Revocation
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		r.Seq = seq
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range got {
		if len(p.list) == 0 || r.Seq > p.list[len(p.list)-1].Seq { // in order, once (sequences have gaps)
			p.list = append(p.list, r)
		}
	}
	if len(got) > 0 {
		p.wakeLocked()
	}
	return nil
}

func (p *PostgresRevocations) wakeLocked() {
	for ch := range p.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// watch listens for revocations added by any replica, and reads them.
func (p *PostgresRevocations) watch(ctx context.Context) {
	defer close(p.done)
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, p.dsn)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+pgRevocationsChannel); err == nil {
				p.load(ctx) // what was added while no one listened
				for {
					if _, err := conn.WaitForNotification(ctx); err != nil {
						break
					}
					p.load(ctx)
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Add implements Revocations: the row and its NOTIFY in one transaction.
func (p *PostgresRevocations) Add(r Revocation) (Revocation, error) {
	if err := r.validate(); err != nil {
		return Revocation{}, err
	}
	ctx := context.Background()
	r.Time = time.Now().UTC()
	data, _ := json.Marshal(r)
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO sigv4_revocations (revocation) VALUES ($1) RETURNING seq`, data).Scan(&r.Seq); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, pgRevocationsChannel)
		return err
	})
	if err != nil {
		return Revocation{}, err
	}
	if err := p.load(ctx); err != nil {
		return Revocation{}, err
	}
	return r, nil
}

// Since implements Revocations: those numbered after seq (the numbers of
// a database sequence, which may have gaps).
func (p *PostgresRevocations) Since(seq int64) []Revocation {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, _ := slices.BinarySearchFunc(p.list, seq+1, func(r Revocation, s int64) int { return cmpInt(r.Seq, s) })
	return append([]Revocation(nil), p.list[i:]...)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Covering implements Revocations.
func (p *PostgresRevocations) Covering(accessKeyID string, scope sigv4.Scope) (Revocation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.list {
		if r.Covers(accessKeyID, scope) {
			return r, true
		}
	}
	return Revocation{}, false
}

// Subscribe implements Revocations.
func (p *PostgresRevocations) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		delete(p.subs, ch)
		p.mu.Unlock()
	}
}
