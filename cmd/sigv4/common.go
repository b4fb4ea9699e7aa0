package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// readRequestFile reads a request file; "-" is standard input.
func readRequestFile(name string, stdin io.Reader) (*httpfile.File, error) {
	if name == "" {
		return nil, fmt.Errorf("--request is required: %w", errUsage)
	}
	r, done, err := openInput(name, stdin)
	if err != nil {
		return nil, err
	}
	defer done()
	return httpfile.Read(r)
}

// openInput opens a file named on the command line; "-" is stdin.
func openInput(name string, stdin io.Reader) (io.Reader, func(), error) {
	if name == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// credentials resolves the credentials to sign with, as the AWS CLI does.
func credentials(profile string) (sigv4.Credentials, error) {
	id, err := resolveIdentity(context.Background(), profile)
	return id.creds, err
}

// clock returns a fixed clock for an RFC 3339 --time, or time.Now.
func clock(s string) (func() time.Time, error) {
	if s == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--time %q: want RFC 3339, like 2015-08-30T12:36:00Z", s)
	}
	return func() time.Time { return t }, nil
}

func requireScope(region, service string) error {
	if region == "" || service == "" {
		return fmt.Errorf("--region and --service are required: %w", errUsage)
	}
	return nil
}
