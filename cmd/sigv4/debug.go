package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sigv4/sigv4/internal/debugpage"
)

var debugCommand = &command{
	name:    "debug",
	summary: "a browser page that shows a signature step by step, and why it fails",
	usage: `Usage: sigv4 debug [--listen ADDR] | sigv4 debug --write FILE

Serves the signing debugger on http://127.0.0.1:8079: paste a request (raw,
curl -v or sigv4 curl -v output, a HAR file, a presigned URL), and the
server's answer if you have it. The page shows each step of Signature
Version 4 filled with that request's values (the canonical request in its
six parts, the string to sign, the scope; with a secret, the four HMACs
of the signing key and the signature), which headers were signed, what a
presigned URL allows and until when, the server's canonical request beside
a correct one with the difference marked, and the cause and fix in words,
as "sigv4 explain" says them. A secret given to the page stays in it: the
page derives the key and signs the strings to sign the server lists, and
sends back only which one the request's signature signs.

--write FILE writes the page as one file that runs entirely in the
browser, explain built to WebAssembly inside it: open it from disk, with
the network off, and nothing you paste leaves the page. It builds with the
Go toolchain, in a clone of the module (or --source DIR).

Examples:
  sigv4 debug                       # then open http://127.0.0.1:8079
  sigv4 debug --write sigv4-debug.html

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &debugOptions{}
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8079", "`address` to serve the page on (loopback unless --allow-remote)")
		fs.BoolVar(&o.allowRemote, "allow-remote", false, "serve on an address other machines reach")
		fs.StringVar(&o.write, "write", "", "write the self-contained WebAssembly page to `file` instead of serving")
		fs.StringVar(&o.source, "source", "", "`directory` of the sigv4 module to build the WebAssembly from (default: the current one)")
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if o.write != "" {
				return o.writePage(stderr)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.serve(ctx, stderr)
		}
	},
}

type debugOptions struct {
	listen, write, source string
	allowRemote           bool
}

func (o *debugOptions) serve(ctx context.Context, stderr io.Writer) error {
	if err := checkLoopback(o.listen, o.allowRemote); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sigv4 debug: open http://%s/\n", ln.Addr())
	return serveUntil(ctx, debugpage.Handler(), ln, 5*time.Second)
}

// writePage builds ./internal/debugpage/wasm for js/wasm with the Go
// toolchain and writes the page with it inlined.
func (o *debugOptions) writePage(stderr io.Writer) error {
	dir := o.source
	if dir == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil || !strings.Contains(string(out), string(filepath.Separator)) {
			return fmt.Errorf("--write builds the page with the Go toolchain in a clone of the sigv4 module: run it there, or give --source DIR: %w", errUsage)
		}
		dir = strings.TrimSpace(string(out))
	}
	tmp, err := os.MkdirTemp("", "sigv4-debug-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wasmFile := filepath.Join(tmp, "debug.wasm")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", wasmFile, "./internal/debugpage/wasm")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the WebAssembly in %s: %v\n%s", dir, err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("Go's wasm_exec.js: %v", err)
	}
	wasm, err := os.ReadFile(wasmFile)
	if err != nil {
		return err
	}
	html, err := debugpage.Standalone(wasm, wasmExec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.write, html, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sigv4 debug: wrote %s (%d KiB): open it in a browser; it needs no network\n", o.write, len(html)>>10)
	return nil
}
