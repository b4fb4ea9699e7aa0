package canonical

import (
	"encoding/binary"
	"slices"
)

// AppendHex appends the lower-case hex of src, as hex.AppendEncode does,
// four bytes at a time: the hashes and signatures of a signature are
// turned into hex on every request.
func AppendHex(dst, src []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(src))[:n+2*len(src)]
	out := dst[n:]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		w := binary.BigEndian.Uint64(src[i:])
		binary.BigEndian.PutUint64(out[2*i:], hexWord(uint32(w>>32)))
		binary.BigEndian.PutUint64(out[2*i+8:], hexWord(uint32(w)))
	}
	for ; i < len(src); i++ {
		c := src[i]
		out[2*i], out[2*i+1] = hexDigits[c>>4], hexDigits[c&0x0f]
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// hexWord returns the eight hex digits of x, most significant first when
// the result is stored big-endian.
func hexWord(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff // one input byte per 16 bits
	n := (v<<4)&0x0f000f000f000f00 | v&0x000f000f000f000f
	letter := (n + ones*6) >> 4 & ones // 1 in the bytes above 9
	return n + ones*'0' + letter*('a'-'0'-10)
}
