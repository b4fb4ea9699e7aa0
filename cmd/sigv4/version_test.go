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
	if _, err := exec.Command("git", "rev-parse", "HEAD").Output(); err != nil {
		t.Skip("not in a git checkout: no revision to compare")
	}
	bin := filepath.Join(t.TempDir(), "sigv4")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// What the build recorded (a git worktree records no revision; a
	// clone does), as go version -m reads it.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rev string
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "build\tvcs.revision="); ok {
			rev = v
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	switch {
	case err != nil:
		t.Fatal(err)
	case rev != "" && !strings.Contains(string(out), "revision "+rev):
		t.Errorf("the built binary says %q, want revision %s", out, rev)
	case rev == "" && strings.Contains(string(out), "revision"):
		t.Errorf("the built binary says %q, but its build recorded no revision", out)
	}
	t.Logf("built: %s", out)
}
