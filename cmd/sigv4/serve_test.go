package main

import (
	"bufio"
	"context"
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
