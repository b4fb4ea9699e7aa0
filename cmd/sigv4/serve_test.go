package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeFirstRun runs the newcomer's flow: "sigv4 serve" in an empty
// directory creates a store and a key and prints an AWS CLI command; that
// command, run as printed with the printed credentials, gets the key's
// identity from the gateway. A wrong secret is refused.
func TestServeFirstRun(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		missingTool(t, "the AWS CLI (aws)")
	}
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--admin", "")
	cmd.Dir = dir
	cmd.Env = cleanAWSEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()

	exports, try := readFirstRun(t, bufio.NewScanner(stdout))
	if !strings.HasPrefix(try, "aws sts get-caller-identity --endpoint-url http://127.0.0.1:") {
		t.Fatalf("printed command %q", try)
	}
	env := append(cleanAWSEnv(), exports...)
	out, err := runShell(ctx, dir, env, try)
	if err != nil || !strings.Contains(out, `"Arn": "arn:aws:iam::000000000000:user/admin"`) {
		t.Fatalf("%s: %v\n%s", try, err, out)
	}
	out, err = runShell(ctx, dir, append(env, "AWS_SECRET_ACCESS_KEY=not/the/secret"), try)
	if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("with a wrong secret: %v\n%s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sigv4.db.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

// readFirstRun reads the export line and the command serve prints.
func readFirstRun(t *testing.T, sc *bufio.Scanner) (exports []string, try string) {
	t.Helper()
	var lines []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		lines = append(lines, line)
		if v, ok := strings.CutPrefix(line, "export "); ok {
			exports = strings.Fields(v)
		} else if strings.HasPrefix(line, "aws ") {
			return exports, line
		}
	}
	t.Fatalf("serve printed no command:\n%s", strings.Join(lines, "\n"))
	return nil, ""
}

func runShell(ctx context.Context, dir string, env []string, line string) (string, error) {
	c := exec.CommandContext(ctx, "sh", "-c", line)
	c.Dir, c.Env = dir, env
	out, err := c.CombinedOutput()
	return string(out), err
}

// cleanAWSEnv is the environment without AWS settings of the machine's.
func cleanAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
}

// TestServeTLS runs serve with --tls-cert and --tls-key and signs a
// request to it with sigv4 curl: the whoami answer names the key.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	bin := filepath.Join(dir, "sigv4")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--admin", "",
		"--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir, cmd.Env = dir, cleanAWSEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	exports, try := readFirstRun(t, bufio.NewScanner(stdout))
	endpoint := strings.TrimPrefix(try, "aws sts get-caller-identity --endpoint-url ")
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("endpoint %q, want https", endpoint)
	}
	c := exec.CommandContext(ctx, bin, "curl", "-k", "--service", "s3", "--region", "us-east-1", endpoint+"/bucket/key")
	c.Env = append(cleanAWSEnv(), exports...)
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), exportValue(exports, "AWS_ACCESS_KEY_ID")) {
		t.Fatalf("sigv4 curl over TLS: %v\n%s", err, out)
	}
}

func exportValue(exports []string, name string) string {
	for _, kv := range exports {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return "\x00missing"
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
