package canonical

import (
	"strings"
	"testing"
)

func TestLowerWordAllBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for _, fill := range []byte{0, 'A', 'z', 0xff, '@', '['} {
				var in [8]byte
				for i := range in {
					in[i] = fill
				}
				in[pos] = byte(c)
				got := string(appendLower(nil, string(in[:])))
				var want [8]byte
				for i := range in {
					want[i] = lowerTable[in[i]]
				}
				if got != string(want[:]) {
					t.Fatalf("appendLower(%q) = %q, want %q", in, got, want)
				}
			}
		}
	}
}

func cleanBytewise(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] == ' ' && v[i+1] == ' ' {
			return false
		}
	}
	return true
}

// TestCleanWords checks the word-at-a-time clean against a byte loop on
// every placement of one or two special bytes in strings of 1 to 24 bytes.
func TestCleanWords(t *testing.T) {
	specials := []byte{' ', '\t', 0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xa0, 0xff, 'a'}
	for n := 1; n <= 24; n++ {
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				for _, a := range specials {
					for _, b := range specials {
						v := []byte(strings.Repeat("x", n))
						v[i], v[j] = a, b
						if got, want := clean(string(v)), cleanBytewise(string(v)); got != want {
							t.Fatalf("clean(%q) = %v, want %v", v, got, want)
						}
					}
				}
			}
		}
	}
}

// TestEqualFold checks the word-at-a-time equalFold against lowering byte
// by byte, for names of 0 to 24 bytes differing in one byte anywhere.
func TestEqualFold(t *testing.T) {
	for n := 0; n <= 24; n++ {
		name := []byte(strings.Repeat("X-aMz", 5)[:n])
		low := appendLower(nil, string(name))
		if !equalFold(string(name), low) {
			t.Fatalf("equalFold(%q, %q) = false", name, low)
		}
		if equalFold(string(name)+"a", low) || n > 0 && equalFold(string(name[:n-1]), low) {
			t.Fatalf("equalFold of %q: a longer or shorter name matched", name)
		}
		for i := range n {
			for _, c := range []byte{0, 'a', 'Q', 'q', '-', 0x80, 0xff} {
				other := append([]byte(nil), name...)
				other[i] = c
				want := string(appendLower(nil, string(other))) == string(low)
				if got := equalFold(string(other), low); got != want {
					t.Fatalf("equalFold(%q, %q) = %v, want %v", other, low, got, want)
				}
			}
		}
	}
}
