// Command sigv4 signs, sends and verifies requests with AWS Signature
// Version 4, and explains why a signature does not match.
//
// Usage:
//
//	sigv4 curl [curl's flags] URL
//	sigv4 presign [--expires 15m] [-X METHOD] [-H 'Name: value'] URL
//	sigv4 explain --request FILE [--error FILE]
//	sigv4 sign   --request FILE --region R --service S [flags]
//	sigv4 verify --request FILE --region R --service S [flags]
//	sigv4 version
//
// Run "sigv4 help COMMAND" for the flags of a command, with examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: its flags are defined by setup, and the
// runFunc it returns does the work once they are parsed.
type command struct {
	name, summary, usage string
	setup                func(fs *flag.FlagSet) runFunc
	// args says the command takes positional arguments; run refuses them
	// otherwise.
	args bool
}

// runFunc runs a command with its positional arguments, which may come
// before, between or after the flags, as curl takes them.
type runFunc func(args []string, stdin io.Reader, stdout, stderr io.Writer) error

var commands = []*command{signCommand, verifyCommand, curlCommand, presignCommand, explainCommand, debugCommand, keysCommand, serveCommand, proxyCommand, authorityCommand, postPolicyCommand}

const usage = `sigv4 signs, sends and verifies requests with AWS Signature Version 4,
and explains why a signature does not match.

Usage:
  sigv4 <command> [flags]

Commands:
%s
Examples:
  sigv4 curl https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv -o report.csv
  tar c dir | sigv4 curl -T - https://my-bucket.s3.amazonaws.com/dir.tar
  sigv4 presign --expires 1h https://my-bucket.s3.amazonaws.com/report.csv
  sigv4 explain --request sent.txt --error response.xml

Credentials are found where the AWS CLI finds them (environment, --profile
or AWS_PROFILE, ~/.aws/config and credentials, SSO, credential_process,
container and instance metadata).

Run "sigv4 help <command>" for a command's flags and examples, and
"sigv4 version" for the version and revision of this build.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage is returned for bad command lines; run exits 2 on it.
var errUsage = errors.New("usage")

// exitError carries a specific exit code, and the message to print, if
// the command has not said it already.
type exitError struct {
	code int
	err  error // nil: nothing more to say
}

func (e exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e exitError) Unwrap() error { return e.err }

// exitErrorf is an error with an exit code (curl's, for sigv4 curl) and a
// message.
func exitErrorf(code int, format string, args ...any) error {
	return exitError{code: code, err: fmt.Errorf(format, args...)}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1 {
		printUsage(stdout)
		return 0
	}
	name := args[0]
	if name == "version" || name == "--version" {
		fmt.Fprintln(stdout, version())
		return 0
	}
	if name == "help" {
		name, args = args[1], []string{args[1], "-h"}
	}
	cmd := find(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "sigv4: unknown command %q\n\n", name)
		printUsage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("sigv4 "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cmd.usage); printFlags(stderr, fs) }
	do := cmd.setup(fs)
	positional, err := parseArgs(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return 0
		}
		fmt.Fprintf(stderr, "sigv4 %s: %v (sigv4 help %s lists the flags)\n", cmd.name, strings.TrimSuffix(err.Error(), ": usage"), cmd.name)
		return 2
	}
	if len(positional) > 0 && !cmd.args {
		err = fmt.Errorf("unexpected argument %q: %w", positional[0], errUsage)
	} else {
		err = do(positional, stdin, stdout, stderr)
	}
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if exit.err != nil {
			fmt.Fprintf(stderr, "sigv4 %s: %v\n", cmd.name, err)
		}
		return exit.code
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "sigv4 %s: %v\n\n", cmd.name, strings.TrimSuffix(err.Error(), ": usage"))
		fs.Usage()
		return 2
	}
	fmt.Fprintf(stderr, "sigv4 %s: %v\n", cmd.name, err)
	return 1
}

func find(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	list := ""
	for _, c := range commands {
		list += fmt.Sprintf("  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, usage, list)
}
