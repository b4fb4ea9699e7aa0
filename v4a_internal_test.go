package sigv4

import "testing"

// A SigV4a region set may hold '*' wildcards; a verifier's region is
// literal.
func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, region string
		want            bool
	}{
		{"us-east-1", "us-east-1", true},
		{"us-east-1", "us-east-2", false},
		{"*", "eu-west-1", true},
		{"us-*", "us-west-2", true},
		{"us-*", "eu-west-1", false},
		{"*-west-*", "eu-west-1", true},
		{"*-west-*", "us-east-1", false},
		{"us-east-*", "us-east-", true},
		{"", "us-east-1", false},
		{"**", "", true},
		{"us-east-1*", "us-east-1", true},
		{"*1", "us-east-12", false},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.region); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.region, got, tc.want)
		}
	}
}
