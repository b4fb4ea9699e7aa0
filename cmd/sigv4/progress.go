package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressMin is the smallest transfer that gets a progress bar.
const progressMin = 1 << 20

// progress draws a one-line progress report on a terminal.
type progress struct{ w io.Writer }

// progressTo returns a progress drawer on stderr if it is a terminal and
// -s was not given, else nil.
func (o *curlOptions) progressTo(stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	if o.silent || o.verbose || !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: stderr}
}

// reader counts what passes through r, drawing the bar at most four
// times a second, for transfers of progressMin bytes or more (or unknown).
func (p *progress) reader(r io.ReadCloser, total int64, verb string) io.ReadCloser {
	if total >= 0 && total < progressMin {
		return r
	}
	return &progressReader{ReadCloser: r, p: p, total: total, verb: verb, start: time.Now()}
}

type progressReader struct {
	io.ReadCloser
	p           *progress
	total, done int64
	verb        string
	start, last time.Time
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	r.done += int64(n)
	if now := time.Now(); now.Sub(r.last) > 250*time.Millisecond || err != nil {
		r.last = now
		r.draw(now, err != nil)
	}
	return n, err
}

func (r *progressReader) draw(now time.Time, end bool) {
	rate := float64(r.done) / max(now.Sub(r.start).Seconds(), 1e-3)
	line := fmt.Sprintf("\r%s %s", r.verb, mib(r.done))
	if r.total > 0 {
		line = fmt.Sprintf("\r%3d%% %s %s of %s", 100*r.done/r.total, r.verb, mib(r.done), mib(r.total))
	}
	fmt.Fprintf(r.p.w, "%s, %s/s   ", line, mib(int64(rate)))
	if end {
		fmt.Fprintln(r.p.w)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
