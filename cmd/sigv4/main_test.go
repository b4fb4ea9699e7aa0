package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const suiteDir = "../../testdata/aws-sig-v4-test-suite/v4"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Normalize        bool `json:"normalize"`
	SignBody         bool `json:"sign_body"`
	OmitSessionToken bool `json:"omit_session_token"`
}

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// suiteCases yields each case of the official suite with its context, the
// credentials set in the environment as the CLI reads them.
func suiteCases(t *testing.T, fn func(t *testing.T, dir string, ctx suiteContext)) {
	dirs, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		dir := filepath.Join(suiteDir, d.Name())
		var ctx suiteContext
		data, err := os.ReadFile(filepath.Join(dir, "context.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ctx); err != nil {
			t.Fatal(err)
		}
		if ctx.OmitSessionToken {
			continue // the CLI always signs the session token
		}
		t.Run(d.Name(), func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", ctx.Credentials.AccessKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", ctx.Credentials.SecretAccessKey)
			t.Setenv("AWS_SESSION_TOKEN", ctx.Credentials.Token)
			fn(t, dir, ctx)
		})
	}
}

func scopeArgs(ctx suiteContext, cmd, file string) []string {
	args := []string{cmd, "--request", file, "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z"}
	if !ctx.Normalize {
		args = append(args, "--s3")
	}
	return args
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignSuite(t *testing.T) {
	suiteCases(t, func(t *testing.T, dir string, ctx suiteContext) {
		args := scopeArgs(ctx, "sign", filepath.Join(dir, "request.txt"))
		if ctx.SignBody {
			args = append(args, "--sign-body")
		}
		out, errOut, code := runCLI(t, "", append(args, "--debug")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if want := "Signature=" + readFile(t, filepath.Join(dir, "header-signature.txt")); !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
		if want := readFile(t, filepath.Join(dir, "header-canonical-request.txt")); !strings.Contains(errOut, want) {
			t.Errorf("--debug lacks the canonical request:\n%s", errOut)
		}
		out, errOut, code = runCLI(t, "", append(args, "--presign", "--expires", "3600")...)
		if want := "X-Amz-Signature=" + readFile(t, filepath.Join(dir, "query-signature.txt")); code != 0 || !strings.Contains(out, want) {
			t.Errorf("presign: exit %d, output lacks %s:\n%s%s", code, want, out, errOut)
		}
	})
}

func TestVerifySuite(t *testing.T) {
	suiteCases(t, func(t *testing.T, dir string, ctx suiteContext) {
		for _, form := range []string{"header", "query"} {
			file := filepath.Join(dir, form+"-signed-request.txt")
			out, errOut, code := runCLI(t, "", scopeArgs(ctx, "verify", file)...)
			if code != 0 || out != "AKIDEXAMPLE\n" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q", form, code, out, errOut)
			}
			// The same request from standard input, with its method changed.
			tampered := strings.Replace(readFile(t, file), "GET ", "DELETE ", 1)
			tampered = strings.Replace(tampered, "POST ", "DELETE ", 1)
			out, errOut, code = runCLI(t, tampered, scopeArgs(ctx, "verify", "-")...)
			if code != 1 || !strings.HasPrefix(out, "SignatureDoesNotMatch: ") || !strings.Contains(errOut, "# canonical request\nDELETE\n") {
				t.Errorf("%s tampered: exit %d, stdout %q, stderr %q", form, code, out, errOut)
			}
		}
	})
}

func TestVerifyKeysFile(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(keys, []byte("# test keys\nAKIDOTHER other\n\nAKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"), 0o600)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	args := []string{"verify", "--request", filepath.Join(suiteDir, "get-vanilla", "header-signed-request.txt"),
		"--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z", "--keys", keys}
	if out, errOut, code := runCLI(t, "", args...); code != 0 || out != "AKIDEXAMPLE\n" {
		t.Fatalf("exit %d: %q %q", code, out, errOut)
	}
	os.WriteFile(keys, []byte("AKIDEXAMPLE wrong-secret\n"), 0o600)
	if out, _, code := runCLI(t, "", args...); code != 1 || !strings.HasPrefix(out, "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: exit %d: %q", code, out)
	}
	os.WriteFile(keys, []byte("AKIDOTHER x\n"), 0o600)
	if out, _, code := runCLI(t, "", args...); code != 1 || !strings.HasPrefix(out, "InvalidAccessKeyId") {
		t.Fatalf("unknown key: exit %d: %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify"}, 2, "--region and --service are required"},
		{[]string{"sign", "--region", "r", "--service", "s"}, 2, "--request is required"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"sign", "--request", "-", "--region", "r", "--service", "s"}, 1, "set AWS_ACCESS_KEY_ID"},
		{[]string{"help", "sign"}, 0, "Examples:"},
	} {
		_, errOut, code := runCLI(t, "GET / HTTP/1.1\nHost:h\n", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestSignVerifySigV4a: sign --sigv4a output verifies with verify, and
// its canonical request is the v4a suite's.
func TestSignVerifySigV4a(t *testing.T) {
	dir := filepath.Join("../../testdata/aws-sig-v4-test-suite/v4a", "get-vanilla-query")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	args := []string{"--request", filepath.Join(dir, "request.txt"), "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z"}
	signed, stderr, code := runCLI(t, "", append([]string{"sign", "--sigv4a", "--debug"}, args...)...)
	if code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	want := readFile(t, filepath.Join(dir, "header-canonical-request.txt"))
	if !strings.Contains(stderr, want) {
		t.Errorf("canonical request:\n%s\nwant\n%s", stderr, want)
	}
	out, stderr, code := runCLI(t, signed, "verify", "--request", "-", "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z")
	if code != 0 || strings.TrimSpace(out) != "AKIDEXAMPLE" {
		t.Fatalf("verify: exit %d: %s%s", code, out, stderr)
	}
	tampered := strings.Replace(signed, "GET / ", "GET /x ", 1)
	if _, _, code := runCLI(t, tampered, "verify", "--request", "-", "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z"); code == 0 {
		t.Error("a tampered SigV4a request verified")
	}
}
