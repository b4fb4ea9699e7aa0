package chunk

import (
	"strings"
	"testing"
)

// The standard check values of each algorithm ("123456789") and the S3
// example's CRC32C of 66560 bytes of 'a'.
func TestChecksums(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{ChecksumCRC32, "123456789", "y/Q5Jg=="},         // 0xcbf43926
		{ChecksumCRC32C, "123456789", "4waSgw=="},        // 0xe3069283
		{ChecksumCRC64NVME, "123456789", "rosUhgp5mIg="}, // 0xae8b14860a799888
		{ChecksumSHA1, "123456789", "98O8HYCOBHMq32eZZczDTKeuNEE="},
		{ChecksumSHA256, "123456789", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
		{ChecksumCRC32C, strings.Repeat("a", 66560), "sOO8/Q=="},
	} {
		h := NewChecksum(strings.ToUpper(tc.name))
		h.Write([]byte(tc.data))
		if got := string(AppendChecksum(nil, h)); got != tc.want {
			t.Errorf("%s(%.20q) = %s, want %s", tc.name, tc.data, got, tc.want)
		}
		if n := checksumLen(tc.name); n != len(tc.want) {
			t.Errorf("checksumLen(%s) = %d, want %d", tc.name, n, len(tc.want))
		}
	}
	if NewChecksum("x-amz-checksum-md5") != nil || ChecksumName("md5") != "" || ChecksumName("CRC32C") != ChecksumCRC32C {
		t.Error("unknown algorithms must not be accepted")
	}
}
