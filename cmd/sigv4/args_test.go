package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestCurlSyntax: sigv4 curl reads its command line as curl's manual
// says curl does ("Short options", "Long options", "--" in curl(1)):
// bundled short flags, values attached or following, long flags with a
// following value, and (beyond curl) "--name=value" and Go's "-name".
func TestCurlSyntax(t *testing.T) {
	type want struct {
		method, data, output, region string
		headers                      []string
		silent, showError, fail      bool
		include, verbose             bool
		positional                   []string
	}
	for _, tc := range []struct {
		args []string
		want want
	}{
		{[]string{"-sS", "u"}, want{silent: true, showError: true, positional: []string{"u"}}},
		{[]string{"-fsS", "u"}, want{fail: true, silent: true, showError: true, positional: []string{"u"}}},
		{[]string{"-XPOST", "u"}, want{method: "POST", positional: []string{"u"}}},
		{[]string{"-X", "PUT", "u"}, want{method: "PUT", positional: []string{"u"}}},
		{[]string{"-sXDELETE", "u"}, want{method: "DELETE", silent: true, positional: []string{"u"}}},
		{[]string{"-sX", "DELETE", "u"}, want{method: "DELETE", silent: true, positional: []string{"u"}}},
		{[]string{"-HHost:x", "u"}, want{headers: []string{"Host:x"}, positional: []string{"u"}}},
		{[]string{"-H", "A: 1", "--header", "B: 2", "--header=C: 3", "u"}, want{headers: []string{"A: 1", "B: 2", "C: 3"}, positional: []string{"u"}}},
		{[]string{"--request", "PATCH", "u"}, want{method: "PATCH", positional: []string{"u"}}},
		{[]string{"--request=PATCH", "u"}, want{method: "PATCH", positional: []string{"u"}}},
		{[]string{"-d@body.json", "u"}, want{data: "@body.json", positional: []string{"u"}}},
		{[]string{"-d", "a=b", "u"}, want{data: "a=b", positional: []string{"u"}}},
		{[]string{"-o-", "u"}, want{output: "-", positional: []string{"u"}}},
		{[]string{"u", "-iv"}, want{include: true, verbose: true, positional: []string{"u"}}},
		{[]string{"-region", "eu-west-1", "u"}, want{region: "eu-west-1", positional: []string{"u"}}},
		{[]string{"--region=eu-west-1", "u"}, want{region: "eu-west-1", positional: []string{"u"}}},
		{[]string{"--silent", "--fail", "u"}, want{silent: true, fail: true, positional: []string{"u"}}},
		{[]string{"--silent=false", "u"}, want{positional: []string{"u"}}},
		{[]string{"-s", "--", "-u", "-X"}, want{silent: true, positional: []string{"-u", "-X"}}},
		{[]string{"-", "u"}, want{positional: []string{"-", "u"}}},
	} {
		var o curlOptions
		fs := flag.NewFlagSet("curl", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.define(fs)
		pos, err := parseArgs(fs, tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		got := want{method: o.method, data: o.data, output: o.output, region: o.region, headers: o.headers,
			silent: o.silent, showError: o.showError, fail: o.fail, include: o.include, verbose: o.verbose, positional: pos}
		if got.method != tc.want.method || got.data != tc.want.data || got.output != tc.want.output || got.region != tc.want.region ||
			!slices.Equal(got.headers, tc.want.headers) || got.silent != tc.want.silent || got.showError != tc.want.showError ||
			got.fail != tc.want.fail || got.include != tc.want.include || got.verbose != tc.want.verbose || !slices.Equal(got.positional, tc.want.positional) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}

// TestCurlSyntaxErrors: a flag sigv4 does not know, or one without its
// value, is one line naming it (and the nearest known one), exit 2, not
// the whole usage.
func TestCurlSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hedaer", "A: 1", "u"}, "sigv4 curl: option --hedaer: is unknown; did you mean --header?"},
		{[]string{"--silnet", "u"}, "sigv4 curl: option --silnet: is unknown; did you mean --silent?"},
		{[]string{"--zzzzzzzz", "u"}, "sigv4 curl: option --zzzzzzzz: is unknown"},
		{[]string{"-sZ", "u"}, "sigv4 curl: option -Z: is unknown"},
		{[]string{"u", "-X"}, "sigv4 curl: option -X: requires a value"},
		{[]string{"u", "--request"}, "sigv4 curl: option --request: requires a value"},
	} {
		_, errOut, code := runCLI(t, "", append([]string{"curl"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want+" (sigv4 help curl lists the flags)") {
			t.Errorf("%q: exit %d:\n%s\nwant %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestHelpLongFlags: help lists each flag once, short and long names
// together, long ones with two dashes.
func TestHelpLongFlags(t *testing.T) {
	_, errOut, code := runCLI(t, "", "curl", "--help")
	if code != 0 || !strings.Contains(errOut, "  -X, --request method\n") || !strings.Contains(errOut, "  -s, --silent\n") ||
		!strings.Contains(errOut, "  --region string\n") || strings.Contains(errOut, "same as") || strings.Contains(errOut, "\n  -request") {
		t.Errorf("sigv4 curl --help: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "", "help", "curl"); code != 0 || !strings.Contains(errOut, "-H, --header") {
		t.Errorf("sigv4 help curl: exit %d\n%s", code, errOut)
	}
}
