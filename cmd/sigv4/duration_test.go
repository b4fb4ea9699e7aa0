package main

import (
	"strings"
	"testing"
	"time"
)

// TestDurationSyntax: one syntax for every duration flag, and one message
// for what it refuses.
func TestDurationSyntax(t *testing.T) {
	good := map[string]time.Duration{
		"900": 900 * time.Second, "0": 0, "90s": 90 * time.Second, "15m": 15 * time.Minute, "12h": 12 * time.Hour,
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1h30m": 90 * time.Minute, "1.5h": 90 * time.Minute, "0d": 0,
	}
	for s, want := range good {
		if d, err := parseDuration("expires", s); err != nil || d != want {
			t.Errorf("%q: %v %v, want %v", s, d, err, want)
		}
	}
	for _, s := range []string{"", "soon", "-5", "-1h", "+1h", "1w", "d", "7dd", "1.5d", "d1h", "7 d", "99999999d", "9223372036854775807", "1h-1m"} {
		_, err := parseDuration("expires", s)
		if err == nil || !strings.HasPrefix(err.Error(), `--expires "`+s+`": want a duration (90s, 15m, 12h, 7d) or a number of seconds`) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// TestDurationFlags: presign, post-policy, keys and serve read durations
// alike, and say what they refuse once, with their own name.
func TestDurationFlags(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDDURATION")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "duration-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	for _, args := range [][]string{
		{"presign", "--expires", "2d", "https://b.s3.amazonaws.com/k"},
		{"presign", "--expires", "3600", "https://b.s3.amazonaws.com/k"},
		{"post-policy", "--bucket", "b", "--key", "k", "--expires", "90m"},
	} {
		if out, errOut, code := runCLI(t, "", args...); code != 0 || out == "" {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if out, _, _ := runCLI(t, "", "presign", "--expires", "2d", "https://b.s3.amazonaws.com/k"); !strings.Contains(out, "X-Amz-Expires=172800") {
		t.Errorf("presign --expires 2d: %s", out)
	}
	for _, args := range [][]string{
		{"presign", "--expires", "soon", "https://b.s3.amazonaws.com/k"},
		{"post-policy", "--bucket", "b", "--key", "k", "--expires", "soon"},
	} {
		_, errOut, code := runCLI(t, "", args...)
		prefix := "sigv4 " + args[0] + ": "
		if code != 2 || !strings.HasPrefix(errOut, prefix+`--expires "soon": want a duration (90s, 15m, 12h, 7d) or a number of seconds`) ||
			strings.Count(errOut, prefix) != 1 {
			t.Errorf("%v: exit %d:\n%s", args, code, errOut)
		}
	}
	_, errOut, code := runCLI(t, "", "serve", "--idle-timeout", "soon")
	if code != 2 || !strings.HasPrefix(errOut, `sigv4 serve: --idle-timeout "soon": want a duration (90s, 15m, 12h, 7d) or a number of seconds`) {
		t.Errorf("serve --idle-timeout soon: exit %d:\n%s", code, errOut)
	}
}
