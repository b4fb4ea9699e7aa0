package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

// openFirstStore opens a new store in its own directory, with the options
// serve would have for it.
func openFirstStore(t *testing.T) (*credstore.Store, *serveOptions, string) {
	t.Helper()
	dir := t.TempDir()
	o := &serveOptions{store: "sqlite:" + filepath.Join(dir, "sigv4.db"), regions: "*"}
	s, err := credstore.Open(t.Context(), o.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, o, dir
}

// TestFirstKeyNotTerminal: when serve's output is not a terminal (a buffer,
// a pipe: what a service manager logs), the first key's secret is not in
// it; it is in a 0600 credentials file next to the store, and it works.
func TestFirstKeyNotTerminal(t *testing.T) {
	for _, name := range []string{"buffer", "pipe"} {
		t.Run(name, func(t *testing.T) {
			store, o, dir := openFirstStore(t)
			out := firstKeyOutput(t, name, func(w io.Writer) error {
				return firstKey(t.Context(), store, o, "http://127.0.0.1:8080", w)
			})
			path := filepath.Join(dir, adminCredentialsFile)
			creds := readCredentialsFile(t, path)
			if strings.Contains(out, creds.SecretAccessKey) {
				t.Fatalf("the secret was printed:\n%s", out)
			}
			for _, want := range []string{creds.AccessKeyID, "AWS_SHARED_CREDENTIALS_FILE=" + path, "AWS_PROFILE=" + adminProfile,
				"AWS_REGION=us-east-1", "aws sts get-caller-identity --endpoint-url http://127.0.0.1:8080"} {
				if !strings.Contains(out, want) {
					t.Errorf("output without %q:\n%s", want, out)
				}
			}
			if _, err := storetest.VerifyRequest(store, creds, "us-east-1", "sts", time.Now()); err != nil {
				t.Errorf("the credentials in the file: %v", err)
			}

			// The next start finds the key and says nothing.
			var again bytes.Buffer
			if err := firstKey(t.Context(), store, o, "http://127.0.0.1:8080", &again); err != nil || again.Len() > 0 {
				t.Errorf("second start: %v, printed %q", err, again.String())
			}
		})
	}
}

// firstKeyOutput runs write with a bytes.Buffer or the writing end of a
// pipe, and returns what it wrote.
func firstKeyOutput(t *testing.T, kind string, write func(io.Writer) error) string {
	t.Helper()
	if kind == "buffer" {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	err = write(w)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(<-got)
}

// TestFirstKeyFileExists: a credentials file already there (left from
// another store, or planted: a file or a link) is neither overwritten nor
// followed; no key is created, so that the next start tries again.
func TestFirstKeyFileExists(t *testing.T) {
	for _, name := range []string{"file", "symlink"} {
		t.Run(name, func(t *testing.T) {
			store, o, dir := openFirstStore(t)
			path := filepath.Join(dir, adminCredentialsFile)
			target := filepath.Join(t.TempDir(), "planted")
			if name == "file" {
				target = path
				os.WriteFile(path, []byte("planted"), 0o644)
			} else if err := os.Symlink(target, path); err != nil {
				t.Skip(err)
			}
			var out bytes.Buffer
			err := firstKey(t.Context(), store, o, "http://127.0.0.1:8080", &out)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove it") {
				t.Errorf("got %v, want an error naming %s and saying to remove it", err, path)
			}
			if keys, _ := store.List(t.Context()); len(keys) != 0 {
				t.Errorf("a key was created: %v", keys)
			}
			if b, err := os.ReadFile(target); name == "file" && string(b) != "planted" {
				t.Errorf("the file was changed: %q", b)
			} else if name == "symlink" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the link was followed: %q, %v", b, err)
			}
		})
	}
}
