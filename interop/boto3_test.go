package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// objectKey has a space, a plus, parentheses and a slash, which every
// client encodes in the path it signs; S3 signs the path encoded once.
const objectKey = "dir/hello world+(1).bin"

// requireBoto3 checks for python3 with boto3 importable.
func requireBoto3(t *testing.T) {
	t.Helper()
	requireCommand(t, "python3", "apt-get install -y python3 python3-boto3")
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		missingClient(t, "python3 cannot import boto3; install it with: apt-get install -y python3-boto3 (or python3 -m pip install boto3)")
	}
}

// writeData writes the test body to a file for clients that upload files.
func writeData(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBoto3 puts, gets and fetches a presigned GET (urllib) with boto3,
// path-style over plain HTTP, so botocore signs a hex payload hash.
func TestBoto3(t *testing.T) {
	requireBoto3(t)
	data := testData()
	file := writeData(t, data)
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		got := runScript(t, clientEnv(t, v.secret), "python3",
			filepath.Join("testdata", "boto3_client.py"), s.URL, bucket, objectKey, file)
		checkResults(t, v, data, got, "PutObject", "GetObject", "PresignedGetObject")
		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "x-amz-checksum-crc32"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}
