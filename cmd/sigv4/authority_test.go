package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/keyauthority"
)

// TestAuthorityEndToEnd: sigv4 authority init, grant, keys create on its
// store, authority serve; sigv4 serve --authority with the eu grant
// accepts the key's eu-west-1 requests, refuses us-east-1 ones (outside
// its regions), and, once the region is revoked for today, refuses within
// a second.
func TestAuthorityEndToEnd(t *testing.T) {
	dir, addr, alice, cli := startTestAuthority(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

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
	// The audit log has the grant, the keys handed out and the refusals,
	// and no key material.
	audit, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"grant"`, `"name":"eu-gw"`, `"msg":"granted"`, "outside the grant", `"why":"revoked"`} {
		if !bytes.Contains(audit, []byte(want)) {
			t.Errorf("the audit log lacks %s:\n%s", want, audit)
		}
	}
	if bytes.Contains(audit, []byte(alice.SecretAccessKey)) {
		t.Error("the audit log holds the secret")
	}
}

// TestAuthorityGatewayHoldsNoSecret: a sigv4 serve --authority process,
// after serving a key's requests, holds in its whole memory (every
// readable mapping of /proc/PID/mem) neither the key's secret nor its
// date, region or service keys, only the day's signing key (found, which
// shows the scan sees what is there); its directory holds no file with
// the secret.
func TestAuthorityGatewayHoldsNoSecret(t *testing.T) {
	if _, err := os.Stat("/proc/self/mem"); err != nil {
		t.Skip("no /proc")
	}
	dir, addr, alice, _ := startTestAuthority(t)

	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	gwDir := t.TempDir()
	gw := freeTCPAddr(t)
	cmd := exec.Command(bin, "serve", "--listen", gw, "--admin", "", "--region", "eu-west-1", "--service", "s3",
		"--authority", "https://"+addr, "--cert", filepath.Join(dir, "clients", "eu-gw.crt"),
		"--key", filepath.Join(dir, "clients", "eu-gw.key"), "--ca", filepath.Join(dir, "ca.crt"))
	cmd.Dir = gwDir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ok := 0
	for deadline := time.Now().Add(10 * time.Second); ok < 20 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		req, _ := http.NewRequest("PUT", "http://"+gw+"/bucket/key", strings.NewReader("some data"))
		if err := (&sigv4.Signer{Credentials: alice, Region: "eu-west-1", Service: "s3"}).Sign(req); err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok++
			}
		}
	}
	if ok < 20 {
		t.Fatalf("%d requests through the gateway succeeded", ok)
	}

	now := time.Now().UTC()
	mem := processMemory(t, cmd.Process.Pid)
	t.Logf("scanned %d MiB of the gateway's memory", len(mem)>>20)
	found := func(b []byte) bool { return bytes.Contains(mem, b) }
	if !found([]byte(alice.AccessKeyID)) {
		t.Fatal("the scan does not find the access key ID the gateway served: it sees nothing")
	}
	for _, day := range []time.Time{now.Add(-24 * time.Hour), now, now.Add(24 * time.Hour)} {
		d := day.Format("20060102")
		kDate := hmacSHA256([]byte("AWS4"+alice.SecretAccessKey), d)
		kRegion := hmacSHA256(kDate, "eu-west-1")
		kService := hmacSHA256(kRegion, "s3")
		for name, secret := range map[string][]byte{"the secret": []byte(alice.SecretAccessKey), "kDate " + d: kDate,
			"kRegion " + d: kRegion, "kService " + d: kService} {
			if found(secret) {
				t.Errorf("the gateway's memory holds %s", name)
			}
		}
	}
	kSigning := sigv4.DeriveSigningKey(alice.SecretAccessKey, sigv4.Scope{Date: now.Format("20060102"), Region: "eu-west-1", Service: "s3"})
	if !found(kSigning[:]) {
		t.Error("today's signing key is not in the gateway's memory: the scan is blind")
	}
	filepath.WalkDir(gwDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(alice.SecretAccessKey)) {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func freeTCPAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// processMemory reads every readable mapping of a process.
func processMemory(t *testing.T, pid int) []byte {
	t.Helper()
	maps, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mem")
	if err != nil {
		t.Skipf("cannot read the process's memory: %v", err)
	}
	defer f.Close()
	var all []byte
	for line := range strings.SplitSeq(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[1][0] != 'r' || strings.Contains(line, "[vvar") || strings.Contains(line, "[vsyscall") {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end-start > 1<<30 {
			continue
		}
		buf := make([]byte, end-start)
		n, _ := f.ReadAt(buf, int64(start))
		all = append(all, buf[:n]...)
	}
	return all
}

// TestKeysThroughAuthority: sigv4 keys --authority (the admin grant)
// creates, lists and disables keys at the authority; a disabled key is
// refused by a verifier that had it cached, at once; a verifier grant
// cannot manage keys.
func TestKeysThroughAuthority(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authority")
	cli := func(want int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(args, nil, &out, &errOut); code != want {
			t.Fatalf("sigv4 %s: exit %d, want %d: %s", strings.Join(args, " "), code, want, errOut.String())
		}
		return out.String() + errOut.String()
	}
	cli(0, "authority", "init", "--dir", dir, "--host", "127.0.0.1")
	cli(0, "authority", "grant", "--dir", dir, "--name", "eu-gw", "--regions", "eu-west-1", "--services", "s3")
	addr := freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&authorityOptions{dir: dir, listen: addr}).serve(ctx, io.Discard) }()
	defer func() { cancel(); <-done }()
	admin := func(name string) []string {
		return []string{"--authority", "https://" + addr, "--cert", filepath.Join(dir, "clients", name+".crt"),
			"--key", filepath.Join(dir, "clients", name+".key"), "--ca", filepath.Join(dir, "ca.crt")}
	}
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var o, e bytes.Buffer
		if run(append([]string{"keys", "create", "--name", "alice", "--json"}, admin("admin")...), nil, &o, &e) == 0 {
			out = o.String()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys create --authority: %s", e.String())
		}
	}
	var key struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.AccessKeyId == "" {
		t.Fatalf("keys create: %q %v", out, err)
	}
	if list := cli(0, append([]string{"keys", "list"}, admin("admin")...)...); !strings.Contains(list, key.AccessKeyId) {
		t.Errorf("keys list: %s", list)
	}
	if msg := cli(1, append([]string{"keys", "list"}, admin("eu-gw")...)...); !strings.Contains(msg, "may not manage keys") {
		t.Errorf("keys list with a verifier's grant: %s", msg)
	}

	c, err := authorityClient("https://"+addr, filepath.Join(dir, "clients", "eu-gw.crt"), filepath.Join(dir, "clients", "eu-gw.key"), filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	go c.Run(ctx)
	scope := sigv4.Scope{Date: time.Now().UTC().Format("20060102"), Region: "eu-west-1", Service: "s3"}
	if _, _, err := c.SigningKey(ctx, key.AccessKeyId, scope); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !c.Connected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no stream")
		}
	}
	cli(0, append([]string{"keys", "disable", key.AccessKeyId}, admin("admin")...)...)
	start := time.Now()
	for {
		if _, _, err := c.SigningKey(ctx, key.AccessKeyId, scope); errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("the disabled key still served from the verifier's cache after 1 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the disabled key refused at the verifier %v after keys disable", time.Since(start).Round(time.Millisecond))
}

// TestAuthorityAdoptsCA: init with --ca-cert and --ca-key takes an
// existing CA: the certificates it issues chain to that CA.
func TestAuthorityAdoptsCA(t *testing.T) {
	existing := t.TempDir()
	ca, err := keyauthority.NewCA(existing)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "authority")
	var out, errOut bytes.Buffer
	if code := run([]string{"authority", "init", "--dir", dir, "--ca-cert", filepath.Join(existing, "ca.crt"),
		"--ca-key", filepath.Join(existing, "ca.key")}, nil, &out, &errOut); code != 0 {
		t.Fatalf("init: %s", errOut.String())
	}
	adopted, err := keyauthority.LoadCA(dir)
	if err != nil || !adopted.Cert.Equal(ca.Cert) {
		t.Fatalf("the authority's CA is not the one given: %v", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, "clients", "admin.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		t.Errorf("the admin certificate does not chain to the given CA: %v", err)
	}
}

// startTestAuthority makes an authority with the CLI (init, an eu-west-1/s3
// grant for eu-gw, a key for alice on its store) and serves it until the
// test ends; cli runs sigv4 commands in process.
func startTestAuthority(t *testing.T) (dir, addr string, alice sigv4.Credentials, cli func(args ...string) string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "authority")
	cli = func(args ...string) string {
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
	alice = sigv4.Credentials{AccessKeyID: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey}
	addr = freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&authorityOptions{dir: dir, listen: addr}).serve(ctx, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	return dir, addr, alice, cli
}
