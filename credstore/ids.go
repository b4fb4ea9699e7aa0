package credstore

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
)

// Access key ID prefixes, as AWS uses them.
const (
	LongTermPrefix  = "AKIA"
	TemporaryPrefix = "ASIA"
)

// newAccessKeyID returns prefix and 16 random base32 characters (80 bits).
// A variable, so that a test can choose the ID of a key yet to be made.
var newAccessKeyID = func(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + base32.StdEncoding.EncodeToString(b[:])
}

// newSecret returns 40 random characters of base64 (240 bits), the form
// of an AWS secret access key.
func newSecret() string {
	var b [30]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newSessionToken returns 128 random characters of base64 (768 bits).
func newSessionToken() string {
	var b [96]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// validAccessKeyID reports whether id has the form of a key this package
// makes, so that a malformed ID costs no backend read.
func validAccessKeyID(id string) bool {
	if len(id) != 20 || id[:4] != LongTermPrefix && id[:4] != TemporaryPrefix {
		return false
	}
	for _, c := range []byte(id[4:]) {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// checkName accepts IAM user names: 1 to 64 of A-Z a-z 0-9 + = , . @ _ -.
func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("credstore: name %q: want 1 to 64 characters", name)
	}
	for _, c := range []byte(name) {
		if !isAlnum(c) && !isAnyOf(c, "+=,.@_-") {
			return fmt.Errorf("credstore: name %q: want only letters, digits and + = , . @ _ -", name)
		}
	}
	return nil
}

// checkScopeNames accepts service or region names: lower-case letters,
// digits and hyphens, as in a credential scope.
func checkScopeNames(what string, names []string) error {
	for _, n := range names {
		ok := n != "" && len(n) <= 64
		for _, c := range []byte(n) {
			ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-')
		}
		if !ok {
			return fmt.Errorf("credstore: %s %q: want lower-case letters, digits and hyphens", what, n)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isAnyOf(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
