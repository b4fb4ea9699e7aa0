package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/sigv4/sigv4"
)

// printCurl writes the signed request as a curl command line that sends
// it as signed (--dry-run): the method, every header, the body, and the
// URL as typed (-g and --path-as-is, so that curl neither globs nor
// normalizes it). A streamed upload cannot be written so (each chunk is
// signed as it goes), nor a body read from standard input (not kept).
func (o *curlOptions) printCurl(req *http.Request, stdout io.Writer) error {
	if strings.HasPrefix(req.Header.Get(sigv4.HeaderContentSHA256), "STREAMING-") {
		return fmt.Errorf("--dry-run: a streamed (aws-chunked) upload signs each chunk as it is sent, so no curl command can send it; raise --stream-over to sign the whole body: %w", errUsage)
	}
	if o.upload == "-" || o.data == "@-" || o.dataBinary == "@-" || o.json == "@-" {
		return fmt.Errorf("--dry-run: a body from standard input is not kept to be sent later; give a file: %w", errUsage)
	}
	args := []string{"curl", "-g", "--path-as-is", "-X", req.Method}
	if o.head {
		args = append(args, "-I")
	}
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range req.Header[name] {
			args = append(args, "-H", name+": "+v)
		}
	}
	switch {
	case o.upload != "":
		args = append(args, "-T", o.upload)
	case o.data != "" || o.dataBinary != "" || o.json != "":
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return err
		}
		args = append(args, "--data-binary", string(body))
	}
	args = append(args, req.URL.String())
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	_, err := fmt.Fprintln(stdout, strings.Join(args, " "))
	return err
}
