package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// The progress bar counts what passes and ends with a newline; small
// transfers get none.
func TestProgressReader(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out}
	data := strings.Repeat("x", 3<<20)
	r := p.reader(io.NopCloser(strings.NewReader(data)), int64(len(data)), "sent")
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("copied %d, %v", n, err)
	}
	if s := out.String(); !strings.Contains(s, "100% sent 3.0 MiB of 3.0 MiB") || !strings.HasSuffix(s, "\n") {
		t.Errorf("progress output %q", s)
	}
	small := io.NopCloser(strings.NewReader("tiny"))
	if p.reader(small, 4, "sent") != small {
		t.Error("a 4-byte transfer got a progress bar")
	}
	o := &curlOptions{}
	if o.progressTo(&out) != nil {
		t.Error("a progress bar on a writer that is not a terminal")
	}
}
