package chunk

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// The trailing checksum headers Amazon S3 accepts.
const (
	ChecksumCRC32     = "x-amz-checksum-crc32"
	ChecksumCRC32C    = "x-amz-checksum-crc32c"
	ChecksumCRC64NVME = "x-amz-checksum-crc64nvme"
	ChecksumSHA1      = "x-amz-checksum-sha1"
	ChecksumSHA256    = "x-amz-checksum-sha256"
)

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// nvme is CRC-64/NVME: polynomial 0xad93d23594c93659, reflected, as
	// Go's crc64 tables are written.
	nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// NewChecksum returns the hash of a checksum header name (any case), or
// nil if the name is not one of the checksums above.
func NewChecksum(name string) hash.Hash {
	switch strings.ToLower(name) {
	case ChecksumCRC32:
		return crc32.NewIEEE()
	case ChecksumCRC32C:
		return crc32.New(castagnoli)
	case ChecksumCRC64NVME:
		return newCRC64NVME()
	case ChecksumSHA1:
		return sha1.New()
	case ChecksumSHA256:
		return sha256.New()
	}
	return nil
}

// ChecksumName returns the header name of a checksum algorithm as the SDKs
// name it ("CRC32C", "crc64nvme", ...), or "" if there is none.
func ChecksumName(algorithm string) string {
	name := "x-amz-checksum-" + strings.ToLower(algorithm)
	if NewChecksum(name) == nil {
		return ""
	}
	return name
}

// AppendChecksum appends the base64 value of a checksum, as S3 sends it.
func AppendChecksum(b []byte, h hash.Hash) []byte {
	var sum [sha256.Size]byte
	return base64.StdEncoding.AppendEncode(b, h.Sum(sum[:0]))
}

// checksumLen is the length of the base64 value of the checksum name.
func checksumLen(name string) int {
	return base64.StdEncoding.EncodedLen(NewChecksum(name).Size())
}
