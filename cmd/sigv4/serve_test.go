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

	"github.com/sigv4/sigv4"
)

// TestServeFirstRun runs the newcomer's flow: "sigv4 serve" in an empty
// directory, its output not a terminal (a service's, which is logged),
// creates a store and a key, writes the key's credentials to a 0600 file
// and prints, without the secret, an AWS CLI command that uses the file;
// that command, run as printed, gets the key's identity from the gateway.
// A wrong secret is refused.
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

	run := readFirstRun(t, bufio.NewScanner(stdout))
	if !strings.HasPrefix(run.try, "aws sts get-caller-identity --endpoint-url http://127.0.0.1:") {
		t.Fatalf("printed command %q", run.try)
	}
	if want := filepath.Join(dir, adminCredentialsFile); run.file != want {
		t.Errorf("credentials file %s, want %s", run.file, want)
	}
	env := append(cleanAWSEnv(), run.env...)
	out, err := runShell(ctx, dir, env, run.try)
	if err != nil || !strings.Contains(out, `"Arn": "arn:aws:iam::000000000000:user/admin"`) {
		t.Fatalf("%s: %v\n%s", run.try, err, out)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.credentials")
	os.WriteFile(wrong, []byte("["+adminProfile+"]\naws_access_key_id = "+run.creds.AccessKeyID+"\naws_secret_access_key = not/the/secret\n"), 0o600)
	out, err = runShell(ctx, dir, append(env, "AWS_SHARED_CREDENTIALS_FILE="+wrong), run.try)
	if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("with a wrong secret: %v\n%s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sigv4.db.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

// firstRun is what the first start of serve printed: the environment and
// the command to try it, and the credentials file the environment names.
type firstRun struct {
	env   []string
	try   string
	file  string
	creds sigv4.Credentials
}

// readFirstRun reads the command serve prints, and the credentials from
// the file it names, which must be 0600; the secret must not be printed.
func readFirstRun(t *testing.T, sc *bufio.Scanner) firstRun {
	t.Helper()
	var lines []string
	var run firstRun
	for run.try == "" && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		lines = append(lines, line)
		fields := strings.Fields(line)
		for i, f := range fields {
			if !strings.Contains(f, "=") {
				run.env, run.try = fields[:i], strings.Join(fields[i:], " ")
				break
			}
		}
		if !strings.HasPrefix(run.try, "aws ") || len(run.env) == 0 {
			run.env, run.try = nil, ""
		}
	}
	if run.try == "" {
		t.Fatalf("serve printed no command:\n%s", strings.Join(lines, "\n"))
	}
	run.file = exportValue(run.env, "AWS_SHARED_CREDENTIALS_FILE")
	run.creds = readCredentialsFile(t, run.file)
	if printed := strings.Join(lines, "\n"); strings.Contains(printed, run.creds.SecretAccessKey) ||
		!strings.Contains(printed, run.creds.AccessKeyID) {
		t.Fatalf("serve printed the secret, or not the access key ID:\n%s", printed)
	}
	return run
}

// readCredentialsFile reads the adminProfile of a shared credentials file
// that must have mode 0600.
func readCredentialsFile(t *testing.T, path string) sigv4.Credentials {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %#o, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c sigv4.Credentials
	profile := ""
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k, v = strings.TrimSpace(k), strings.TrimSpace(v); {
		case strings.HasPrefix(k, "["):
			profile = strings.Trim(k, "[]")
		case profile == adminProfile && k == "aws_access_key_id":
			c.AccessKeyID = v
		case profile == adminProfile && k == "aws_secret_access_key":
			c.SecretAccessKey = v
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		t.Fatalf("%s holds no [%s] credentials:\n%s", path, adminProfile, data)
	}
	return c
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
	run := readFirstRun(t, bufio.NewScanner(stdout))
	endpoint := strings.TrimPrefix(run.try, "aws sts get-caller-identity --endpoint-url ")
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("endpoint %q, want https", endpoint)
	}
	c := exec.CommandContext(ctx, bin, "curl", "-k", "--service", "s3", "--region", "us-east-1", endpoint+"/bucket/key")
	c.Env = append(cleanAWSEnv(), run.env...)
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), run.creds.AccessKeyID) {
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
