package authz_test

import (
	"testing"

	"github.com/sigv4/sigv4/internal/authz"
)

func TestWithoutAuthParams(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"a=1&b=2", "a=1&b=2"},
		{"uploads", "uploads"},
		{"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=abc", ""},
		{"b=%2F&X-Amz-Signature=abc&a=1+2&&X-Amz-Security-Token=tok&c", "b=%2F&a=1+2&&c"},
		{"X-Amz-%53ignature=abc&x=1", "x=1"},           // names compared decoded, as the verifier does
		{"x-amz-signature=abc", "x-amz-signature=abc"}, // query names are case-sensitive
		{"X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Expires=5", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"},
		{"versionId=X-Amz-Signature", "versionId=X-Amz-Signature"},
	} {
		if got := authz.WithoutAuthParams(tt.in); got != tt.want {
			t.Errorf("WithoutAuthParams(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
