package explain

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzExplainInput feeds Explain what people paste (a request, a curl -v
// trace, a HAR file, a URL), seeded with the suite's requests and the
// shapes of the others: it must answer or say why not, never panic, and a
// report it gives must have a cause and print.
func FuzzExplainInput(f *testing.F) {
	for _, name := range []string{"get-vanilla/header-signed-request.txt", "get-vanilla-query/query-signed-request.txt", "post-x-www-form-urlencoded/header-signed-request.txt"} {
		if data, err := os.ReadFile(filepath.Join(suiteDir, name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("* Trying\n> GET /a*b HTTP/1.1\n> Host: h\n> Authorization: AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\n>\n< HTTP/1.1 403 Forbidden\n<\n<Error><Code>SignatureDoesNotMatch</Code></Error>* Connection #0 to host h left intact\n"))
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"https://h/k?X-Amz-Signature=00","headers":[{"name":":authority","value":"h"}]},"response":{"status":403,"content":{"text":"","encoding":"base64"}}}]}}`))
	f.Add([]byte("https://h/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"))
	creds := func(akid string) (Credentials, error) {
		return Credentials{AccessKeyID: akid, SecretAccessKey: "secret"}, nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Explain(Input{Request: data, Credentials: creds})
		if err != nil {
			return
		}
		v := r.View()
		if len(v.Findings) == 0 || v.Findings[0].Cause == "" {
			t.Fatalf("a report without a cause for %q", data)
		}
		if err := r.WriteText(discard{}); err != nil {
			t.Fatal(err)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
