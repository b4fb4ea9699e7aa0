package main

import (
	"flag"
	"fmt"
	"net/http"
	"strings"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// stringVar defines one string flag under several names (-X, --request).
func stringVar(fs *flag.FlagSet, p *string, names []string, value, usage string) {
	for i, n := range names {
		if i == 0 {
			fs.StringVar(p, n, value, usage)
		} else {
			fs.StringVar(p, n, value, aliasUsage+names[0])
		}
	}
}

func boolVar(fs *flag.FlagSet, p *bool, names []string, usage string) {
	for i, n := range names {
		if i == 0 {
			fs.BoolVar(p, n, false, usage)
		} else {
			fs.BoolVar(p, n, false, aliasUsage+names[0])
		}
	}
}

func listVar(fs *flag.FlagSet, p *stringList, names []string, usage string) {
	for i, n := range names {
		if i == 0 {
			fs.Var(p, n, usage)
		} else {
			fs.Var(p, n, aliasUsage+names[0])
		}
	}
}

// addHeaders adds "Name: value" lines to h, as curl's -H does: a name
// that h already has (a default, such as Accept) is replaced, "Name:"
// with no value removes it, and "Name;" sends it empty.
func addHeaders(h http.Header, lines []string) error {
	defaults := map[string]bool{}
	for k := range h {
		defaults[k] = true
	}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		empty := false
		if !ok && strings.HasSuffix(line, ";") {
			name, ok, empty = strings.TrimSuffix(line, ";"), true, true
		}
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("-H %q: want 'Name: value': %w", line, errUsage)
		}
		value = strings.TrimSpace(value)
		key := http.CanonicalHeaderKey(name)
		if defaults[key] {
			h.Del(key)
			defaults[key] = false
		}
		if value != "" || empty {
			h.Add(name, value)
		}
	}
	return nil
}
