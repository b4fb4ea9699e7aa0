package credstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

// crashChildEnv names the store a child process fills until it is killed.
const crashChildEnv = "SIGV4_CREDSTORE_CRASH_CHILD"

// TestCrashKeepsCommittedKeys runs a child process that creates keys in a
// loop and prints each one once Create returned, kills it with SIGKILL in
// the middle of the loop, and checks that every printed key is in the
// store and verifies a request.
func TestCrashKeepsCommittedKeys(t *testing.T) {
	if url := os.Getenv(crashChildEnv); url != "" {
		crashChild(url)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	url := "sqlite:" + filepath.Join(t.TempDir(), "sigv4.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsCommittedKeys$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+url)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 150
	var printed []sigv4.Credentials
	killed := false
	deadline := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, secret, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "KEY "), " ")
		if !ok || !strings.HasPrefix(sc.Text(), "KEY ") {
			continue
		}
		printed = append(printed, sigv4.Credentials{AccessKeyID: id, SecretAccessKey: secret})
		if len(printed) == killAfter && !killed {
			cmd.Process.Kill() // SIGKILL: no deferred function, no Close
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped after %d keys: %v", len(printed), err)
	}

	s, err := credstore.Open(t.Context(), url, &credstore.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range printed {
		if _, err := storetest.VerifyRequest(s, c, "us-east-1", "s3", time.Now()); err != nil {
			t.Errorf("key %s, printed before the kill: %v", c.AccessKeyID, err)
		}
	}
	t.Logf("killed the child after %d printed keys (%d printed in all); the store holds %d keys; all printed keys verify",
		killAfter, len(printed), len(keys))
}

func crashChild(url string) {
	ctx := context.Background()
	s, err := credstore.Open(ctx, url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := range 100000 { // killed long before
		_, c, err := s.Create(ctx, fmt.Sprintf("user%d", i), credstore.CreateOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stdout, "KEY %s %s\n", c.AccessKeyID, c.SecretAccessKey)
	}
	os.Exit(1)
}
