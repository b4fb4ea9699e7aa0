package sigv4

import (
	"testing"

	"github.com/sigv4/sigv4/internal/authz"
)

// FuzzQueryChecksums: the one pass over a presigned query reads each
// checksum parameter as authz.QueryValue reads it alone: names compared
// decoded, the last kept, a value that does not decode ignored.
func FuzzQueryChecksums(f *testing.F) {
	for _, q := range []string{
		"x-amz-checksum-crc32=AAAAAA%3D%3D&X-Amz-Signature=00",
		"x-amz-checksum-sha256=a&x-amz-checksum-sha256=b&x-amz-sdk-checksum-algorithm=SHA256",
		"x%2Damz%2Dchecksum%2Dcrc32c=v&x-amz-checksum-crc64nvme=%zz&x-amz-checksum-crc64nvme=ok",
		"x-amz-checksum-sha1=&x-amz-checksum-sha1",
		"a=1&b=2",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := queryChecksums(q)
		for i, name := range checksumParams {
			if want := authz.QueryValue(q, name); got.sums[i] != want {
				t.Fatalf("%s of %q: %q, QueryValue says %q", name, q, got.sums[i], want)
			}
		}
		if want := authz.QueryValue(q, "x-amz-sdk-checksum-algorithm"); got.algorithm != want {
			t.Fatalf("algorithm of %q: %q, QueryValue says %q", q, got.algorithm, want)
		}
	})
}
