package keyauthority

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sigv4/sigv4"
)

// Revocation refuses the keys of a scope, everywhere, from the moment it
// is added: one access key (AccessKeyID alone), one key from a date
// (AccessKeyID and From), or a region, optionally one service, for a range
// of dates (Region, From and To). Dates are YYYYMMDD, both ends included.
type Revocation struct {
	Seq         int64     `json:"seq"`
	AccessKeyID string    `json:"access_key_id,omitempty"`
	From        string    `json:"from,omitempty"`
	To          string    `json:"to,omitempty"`
	Region      string    `json:"region,omitempty"`
	Service     string    `json:"service,omitempty"`
	Time        time.Time `json:"time"`
	Reason      string    `json:"reason,omitempty"`
	// Invalidate makes it no refusal, only word to the verifiers that the
	// key changed (disabled, deleted, rotated): they drop what they cached
	// of it and ask again, and the authority answers as the store now does.
	Invalidate bool `json:"invalidate,omitempty"`
}

// Covers reports whether r refuses the key of accessKeyID for scope.
func (r Revocation) Covers(accessKeyID string, scope sigv4.Scope) bool {
	return !r.Invalidate && (r.AccessKeyID == "" || r.AccessKeyID == accessKeyID) &&
		(r.From == "" || scope.Date >= r.From) && (r.To == "" || scope.Date <= r.To) &&
		(r.Region == "" || r.Region == scope.Region) && (r.Service == "" || r.Service == scope.Service)
}

func (r Revocation) validate() error {
	for _, d := range []string{r.From, r.To} {
		if _, err := time.Parse("20060102", d); d != "" && err != nil {
			return fmt.Errorf("keyauthority: revocation date %q: want YYYYMMDD", d)
		}
	}
	switch {
	case r.Invalidate && (r.AccessKeyID == "" || r.Region != "" || r.From != "" || r.To != ""):
		return errors.New("keyauthority: an invalidation names an access key only")
	case r.From != "" && r.To != "" && r.To < r.From:
		return errors.New("keyauthority: revocation ends before it starts")
	case r.AccessKeyID == "" && r.Region == "":
		return errors.New("keyauthority: a revocation names an access key or a region")
	case r.AccessKeyID == "" && (r.From == "" || r.To == ""):
		return errors.New("keyauthority: a revocation of a region names its dates, from and to")
	}
	return nil
}

// Revocations is where an authority keeps its revocations: a
// RevocationLog (a file, for one authority) or a PostgresRevocations (for
// replicas sharing one database).
type Revocations interface {
	// Add records r durably, numbered after every other, and wakes the
	// subscribers; it returns r as recorded.
	Add(r Revocation) (Revocation, error)
	// Since returns the revocations numbered after seq, in order.
	Since(seq int64) []Revocation
	// Covering returns a revocation that refuses the key of accessKeyID
	// for scope, if any.
	Covering(accessKeyID string, scope sigv4.Scope) (Revocation, bool)
	// Subscribe returns a channel woken after each new revocation, and
	// its cancel.
	Subscribe() (<-chan struct{}, func())
}

var _ Revocations = (*RevocationLog)(nil)

// RevocationLog is the authority's list of revocations: a file of JSON
// lines, each appended and synced before it takes effect, so that a crash
// loses none that was answered.
type RevocationLog struct {
	mu   sync.Mutex
	f    *os.File
	list []Revocation
	subs map[chan struct{}]struct{}
	now  func() time.Time
}

// OpenRevocationLog opens (or creates) the log at path.
func OpenRevocationLog(path string, now func() time.Time) (*RevocationLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &RevocationLog{f: f, subs: map[chan struct{}]struct{}{}, now: now}
	if l.now == nil {
		l.now = time.Now
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Revocation
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a torn last line: it was never answered
		}
		l.list = append(l.list, r)
	}
	return l, nil
}

// Close closes the file.
func (l *RevocationLog) Close() error { return l.f.Close() }

// Add records r, durably, and tells the subscribers.
func (l *RevocationLog) Add(r Revocation) (Revocation, error) {
	if err := r.validate(); err != nil {
		return Revocation{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Seq, r.Time = int64(len(l.list))+1, l.now().UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return Revocation{}, err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return Revocation{}, err
	}
	if err := l.f.Sync(); err != nil {
		return Revocation{}, err
	}
	l.list = append(l.list, r)
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default: // it has a wake-up pending already
		}
	}
	return r, nil
}

// Since returns the revocations after seq.
func (l *RevocationLog) Since(seq int64) []Revocation {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < 0 || seq >= int64(len(l.list)) {
		return nil
	}
	return append([]Revocation(nil), l.list[seq:]...)
}

// Covering returns a revocation that refuses the key of accessKeyID for
// scope, if any.
func (l *RevocationLog) Covering(accessKeyID string, scope sigv4.Scope) (Revocation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.list {
		if r.Covers(accessKeyID, scope) {
			return r, true
		}
	}
	return Revocation{}, false
}

// Subscribe returns a channel that receives a value after each Add.
func (l *RevocationLog) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}
