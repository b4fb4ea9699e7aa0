package sigv4_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// corePackages may import the standard library only (see ARCHITECTURE.md).
var corePackages = []string{".", "./internal/...", "./chunked/...", "./postpolicy/...", "./sigv4a/..."}

// TestCoreImportsStandardLibraryOnly fails if a core package, or anything
// it imports, is outside the standard library.
func TestCoreImportsStandardLibraryOnly(t *testing.T) {
	var patterns []string
	for _, p := range corePackages {
		if _, err := os.Stat(strings.TrimSuffix(p, "/...")); err == nil {
			patterns = append(patterns, p)
		}
	}
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, patterns...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/sigv4/sigv4" && !strings.HasPrefix(pkg, "github.com/sigv4/sigv4/internal/") &&
			!strings.HasPrefix(pkg, "github.com/sigv4/sigv4/chunked") && !strings.HasPrefix(pkg, "github.com/sigv4/sigv4/postpolicy") &&
			!strings.HasPrefix(pkg, "github.com/sigv4/sigv4/sigv4a") {
			t.Errorf("core package depends on %s, which is outside the standard library", pkg)
		}
	}
}
