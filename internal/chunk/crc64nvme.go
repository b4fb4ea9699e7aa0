package chunk

import (
	"encoding/binary"
	"hash"
	"hash/crc64"
)

// CRC-64/NVME, the checksum the 2025 SDKs send by default. hash/crc64
// computes it with the table of any polynomial, but it rebuilds its
// eight-way table on every long Write for a polynomial other than ISO's
// and ECMA's; this one builds it once.

// nvme8 is the slicing-by-8 table of nvme: nvme8[k][b] is the CRC of
// byte b followed by k zero bytes.
var nvme8 = func() (t [8]crc64.Table) {
	t[0] = *nvme
	for b := range 256 {
		crc := t[0][b]
		for k := 1; k < 8; k++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[k][b] = crc
		}
	}
	return t
}()

type crc64NVME struct{ crc uint64 }

func newCRC64NVME() hash.Hash64 { return &crc64NVME{} }

func (c *crc64NVME) Write(p []byte) (int, error) {
	crc := ^c.crc
	n := len(p)
	for ; len(p) >= 8; p = p[8:] {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = nvme8[7][crc&0xff] ^ nvme8[6][crc>>8&0xff] ^ nvme8[5][crc>>16&0xff] ^ nvme8[4][crc>>24&0xff] ^
			nvme8[3][crc>>32&0xff] ^ nvme8[2][crc>>40&0xff] ^ nvme8[1][crc>>48&0xff] ^ nvme8[0][crc>>56]
	}
	for _, b := range p {
		crc = nvme8[0][byte(crc)^b] ^ crc>>8
	}
	c.crc = ^crc
	return n, nil
}

func (c *crc64NVME) Sum(b []byte) []byte { return binary.BigEndian.AppendUint64(b, c.crc) }
func (c *crc64NVME) Sum64() uint64       { return c.crc }
func (c *crc64NVME) Reset()              { c.crc = 0 }
func (c *crc64NVME) Size() int           { return crc64.Size }
func (c *crc64NVME) BlockSize() int      { return 1 }
