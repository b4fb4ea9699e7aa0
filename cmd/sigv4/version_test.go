package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: "sigv4 version" and "sigv4 --version" print the build's
// module version and Go version; a binary built from this checkout names
// its revision.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, errOut, code := runCLI(t, "", arg)
		if code != 0 || !strings.HasPrefix(out, "sigv4 ") || !strings.Contains(out, runtime.Version()) || errOut != "" {
			t.Errorf("sigv4 %s: exit %d: %q %q", arg, code, out, errOut)
		}
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout: no revision to compare")
	}
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "revision "+strings.TrimSpace(string(head))) {
		t.Errorf("the built binary says %q (%v), want revision %s", out, err, head)
	}
}
