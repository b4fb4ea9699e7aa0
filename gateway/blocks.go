package gateway

import (
	"io"
	"sync"
)

// blockSize is the unit in which held bodies take memory: one block more
// than what arrived, at most, and none before a byte does.
const blockSize = 64 << 10

var blockPool = sync.Pool{New: func() any { return new([blockSize]byte) }}

// blocks holds a body in memory as it arrives, in pooled blocks: it is
// never copied to grow, and a request that declares a large body and
// sends none holds nothing.
type blocks struct {
	bufs []*[blockSize]byte
	n    int64
}

// readFrom reads r until its end, or until limit bytes are held.
func (b *blocks) readFrom(r io.Reader, limit int64) error {
	for b.n < limit {
		off := int(b.n % blockSize)
		if off == 0 {
			b.bufs = append(b.bufs, blockPool.Get().(*[blockSize]byte))
		}
		blk := b.bufs[len(b.bufs)-1]
		m, err := r.Read(blk[off:min(blockSize, int64(off)+limit-b.n)])
		b.n += int64(m)
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return nil
}

// writeTo writes what b holds to w.
func (b *blocks) writeTo(w io.Writer) error {
	r := b.reader()
	_, err := io.Copy(w, &r)
	return err
}

// reader reads what b holds, from the start.
func (b *blocks) reader() blocksReader { return blocksReader{b: b} }

// release gives the blocks back to the pool; b holds nothing after. No
// reader of b may be in use.
func (b *blocks) release() {
	for _, blk := range b.bufs {
		blockPool.Put(blk)
	}
	b.bufs, b.n = nil, 0
}

type blocksReader struct {
	b   *blocks
	off int64
}

func (r *blocksReader) Read(p []byte) (int, error) {
	if r.off >= r.b.n {
		return 0, io.EOF
	}
	blk := r.b.bufs[r.off/blockSize]
	start := int(r.off % blockSize)
	end := int(min(blockSize, int64(start)+r.b.n-r.off))
	n := copy(p, blk[start:end])
	r.off += int64(n)
	return n, nil
}
