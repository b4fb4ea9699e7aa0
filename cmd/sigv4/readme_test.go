package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMECommands pastes the README's commands into a shell, in order,
// on a fresh clone, as a newcomer does: every sh block but the first
// (serve, which TestServeFirstRun runs, and the tests themselves), with
// bash -e, so the first command that fails fails the test. The README's
// console block of explain's output must be what explain printed.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README's commands build sigv4 and start the gateway")
	}
	for _, tool := range []string{"git", "bash", "curl", "aws"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingTool(t, tool)
		}
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := fencedBlocks(string(readme), "sh")
	if len(blocks) < 2 {
		t.Fatalf("the README has %d sh blocks, want the first and the first five minutes", len(blocks))
	}
	if l, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		if ciRun() {
			t.Fatalf("127.0.0.1:8080, where the README starts the gateway, is taken: %v", err)
		}
		t.Skipf("127.0.0.1:8080, where the README starts the gateway, is taken: %v", err)
	} else {
		l.Close()
	}
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "-q", root, clone).CombinedOutput(); err != nil {
		if ciRun() { // CI runs on a clone
			t.Fatalf("git clone: %v: %s", err, out)
		}
		t.Skipf("not a git checkout (%v: %s): the README's commands run on a clone", err, out)
	}
	overlayWorkTree(t, root, clone)

	out, err := runREADME(t, clone, strings.Join(blocks[1:], "\n"))
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"Arn": "arn:aws:iam::000000000000:user/tourist"`, `"Principal":"arn:aws:iam::000000000000:user/tourist"`, "curl -g --path-as-is", "sigv4 debug: wrote sigv4-debug.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	for _, block := range fencedBlocks(string(readme), "console") {
		cmdLine, printed, _ := strings.Cut(block, "\n")
		if cmdLine != "$ sigv4 explain --request trace.txt" {
			continue
		}
		_, findings, ok := strings.Cut(printed, "\nCause:")
		if !ok || !strings.Contains(out, "Cause:"+findings) {
			t.Errorf("the README shows explain printing\nCause:%s\nbut it printed:\n%s", findings, out)
		}
	}
}

// overlayWorkTree brings the changes of the tree under test that are not
// committed (edits, and new files git does not ignore) onto the clone of
// its last commit; in CI, on a clean clone, there are none.
func overlayWorkTree(t *testing.T, root, clone string) {
	diff, err := exec.Command("git", "-C", root, "diff", "--binary", "HEAD").Output()
	if err != nil {
		t.Fatalf("git diff: %v", err)
	}
	if len(diff) > 0 {
		apply := exec.Command("git", "-C", clone, "apply", "--binary", "-")
		apply.Stdin = bytes.NewReader(diff)
		if out, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("git apply of the uncommitted changes: %v\n%s", err, out)
		}
	}
	untracked, err := exec.Command("git", "-C", root, "ls-files", "--others", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(untracked), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(clone, name)), 0o755)
		if err := os.WriteFile(filepath.Join(clone, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runREADME runs script with bash -e in dir, with sigv4 installed to a
// directory of its own on PATH and no AWS configuration of the machine's,
// and kills what it left running.
func runREADME(t *testing.T, dir, script string) (string, error) {
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(cleanAWSEnv(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// The gateway started with & outlives a failed script: end the group.
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	err := cmd.Wait()
	return out.String(), err
}

// fencedBlocks are the contents of the README's ``` blocks of a language.
func fencedBlocks(md, lang string) []string {
	var blocks []string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```"+lang {
			continue
		}
		var b []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			b = append(b, lines[i])
		}
		blocks = append(blocks, strings.Join(b, "\n"))
	}
	return blocks
}
