package chunk

import (
	"encoding/base64"
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

// TestCRC64NVME: the table-driven CRC agrees with hash/crc64 on the same
// polynomial for every length and split of the input, and with the
// published check value of CRC-64/NVME.
func TestCRC64NVME(t *testing.T) {
	h := newCRC64NVME()
	h.Write([]byte("123456789"))
	if got := h.Sum64(); got != 0xae8b14860a799888 {
		t.Fatalf("check value %#x, want 0xae8b14860a799888", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 2047, 2048, 4999} {
		want := crc64.New(nvme)
		want.Write(data[:n])
		got := newCRC64NVME()
		split := r.IntN(n + 1)
		got.Write(data[:split])
		got.Write(data[split:n])
		if a, b := base64.StdEncoding.EncodeToString(got.Sum(nil)), base64.StdEncoding.EncodeToString(want.Sum(nil)); a != b {
			t.Errorf("%d bytes split at %d: %s, want %s", n, split, a, b)
		}
	}
}
