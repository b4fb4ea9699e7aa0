package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
)

// TestAuthorityEndToEnd: sigv4 authority init, grant, keys create on its
// store, authority serve; sigv4 serve --authority with the eu grant
// accepts the key's eu-west-1 requests, refuses us-east-1 ones (outside
// its regions), and, once the region is revoked for today, refuses within
// a second.
func TestAuthorityEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authority")
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(args, nil, &out, &errOut); code != 0 {
			t.Fatalf("sigv4 %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	cli("authority", "init", "--dir", dir, "--host", "127.0.0.1")
	cli("authority", "grant", "--dir", dir, "--name", "eu-gw", "--regions", "eu-west-1", "--services", "s3")
	var key struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(cli("keys", "create", "--store", "sqlite:"+filepath.Join(dir, "keys.db"), "--name", "alice", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	alice := sigv4.Credentials{AccessKeyID: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ao := &authorityOptions{dir: dir, listen: addr}
	done := make(chan error, 1)
	go func() { done <- ao.serve(ctx, io.Discard) }()
	defer func() { cancel(); <-done }()

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := serveFlags(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:0", "--admin", "", "--region", "eu-west-1,us-east-1", "--service", "s3",
		"--authority", "https://" + addr, "--cert", filepath.Join(dir, "clients", "eu-gw.crt"),
		"--key", filepath.Join(dir, "clients", "eu-gw.key"), "--ca", filepath.Join(dir, "ca.crt")}); err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- o.run(ctx, io.Discard, w); w.Close() }()
	defer func() { cancel(); <-served }()
	endpoint := ""
	sc := bufio.NewScanner(r)
	for endpoint == "" && sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "endpoint="); ok {
			endpoint, _, _ = strings.Cut(rest, " ")
		}
	}
	go io.Copy(io.Discard, r)
	if endpoint == "" {
		t.Fatal("serve --authority did not start")
	}

	get := func(region string) (int, string) {
		req, _ := http.NewRequest("GET", endpoint+"/bucket/key", nil)
		if err := (&sigv4.Signer{Credentials: alice, Region: region, Service: "s3"}).Sign(req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if status, _ := get("eu-west-1"); status == 200 || time.Now().After(deadline) {
			break
		}
	}
	if status, body := get("eu-west-1"); status != 200 || !strings.Contains(body, alice.AccessKeyID) {
		t.Fatalf("eu-west-1 through the authority: %d %s", status, body)
	}
	if status, body := get("us-east-1"); status != http.StatusForbidden {
		t.Errorf("us-east-1, outside the grant: %d %s", status, body)
	}
	today := time.Now().UTC().Format("2006-01-02")
	cli("authority", "revoke", "--dir", dir, "--authority", "https://"+addr, "--region", "eu-west-1", "--from", today, "--to", today)
	start := time.Now()
	for {
		status, body := get("eu-west-1")
		if status == http.StatusForbidden && strings.Contains(body, "revoked") {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("1 s after the revocation: %d %s", status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("refused %v after the revocation", time.Since(start).Round(time.Millisecond))
}
