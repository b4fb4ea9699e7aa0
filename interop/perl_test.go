package interop

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPerlSignature4 puts, gets and fetches a presigned GET with Perl's
// AWS::Signature4, path-style over plain HTTP.
func TestPerlSignature4(t *testing.T) {
	requireCommand(t, "perl", "apt-get install -y perl libaws-signature4-perl")
	if err := exec.Command("perl", "-MAWS::Signature4", "-MLWP::UserAgent", "-e", "1").Run(); err != nil {
		missingClient(t, "perl cannot load AWS::Signature4 and LWP; install them with: apt-get install -y libaws-signature4-perl libwww-perl")
	}
	data := testData()
	file := writeData(t, data)
	forEachVerdict(t, data, func(t *testing.T, s *s3Server, v verdict) {
		got := runScript(t, clientEnv(t, v.secret), "perl",
			filepath.Join("testdata", "perl_s3.pl"), s.URL, bucket, objectKey, file)
		checkResults(t, v, data, got, "PutObject", "GetObject", "PresignedGetObject")
		checkOutcomes(t, s, v,
			want{method: "PUT", payload: sha256Hex(data), signs: "x-amz-content-sha256"},
			want{method: "GET", payload: emptySHA256},
			want{method: "GET", presigned: true, payload: "UNSIGNED-PAYLOAD"},
		)
	})
}
