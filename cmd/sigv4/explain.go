package main

import (
	"errors"
	"flag"
	"io"
)

// explainCommand is being written; see the issue.
var explainCommand = &command{
	name:    "explain",
	summary: "say why a server answered SignatureDoesNotMatch",
	usage:   "Usage: sigv4 explain [flags]\n",
	setup: func(fs *flag.FlagSet) runFunc {
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			return errors.New("not written yet")
		}
	},
}
