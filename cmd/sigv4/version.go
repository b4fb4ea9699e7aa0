package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version is what "sigv4 version" prints: the module's version, the VCS
// revision it was built from (and whether the tree had changes), its
// time, and the Go version, from the build information.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "sigv4 (no build information) " + runtime.Version()
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	parts := []string{"sigv4", v}
	if rev != "" {
		parts = append(parts, "revision "+rev+dirty)
	}
	if when != "" {
		parts = append(parts, when)
	}
	return strings.Join(append(parts, info.GoVersion), " ")
}

// moduleVersion is the module's version alone, for User-Agent.
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
