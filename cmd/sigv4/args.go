package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Command lines are read as curl reads them: short flags bundle ("-sS",
// "-fsSL"), a short flag's value may be attached ("-XPOST", "-HHost:x")
// or follow, long flags take "--name value" or "--name=value", "--" ends
// the flags, and flags and arguments come in any order. A Go-style
// "-name" for a long flag is taken too.

// parseArgs parses args into fs and returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		next := func() (string, bool) {
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case arg == "--":
			return append(positional, args[i+1:]...), nil
		case arg == "-" || !strings.HasPrefix(arg, "-"):
			positional = append(positional, arg)
		case strings.HasPrefix(arg, "--"):
			if err := setLong(fs, "--", arg[2:], next); err != nil {
				return nil, err
			}
		default:
			name, _, _ := strings.Cut(arg[1:], "=")
			if len(name) > 1 && fs.Lookup(name) != nil {
				if err := setLong(fs, "-", arg[1:], next); err != nil {
					return nil, err
				}
				continue
			}
			if err := setShort(fs, arg[1:], next); err != nil {
				return nil, err
			}
		}
	}
	return positional, nil
}

// setLong sets the flag of "name" or "name=value".
func setLong(fs *flag.FlagSet, dashes, spec string, next func() (string, bool)) error {
	name, value, hasValue := strings.Cut(spec, "=")
	f := fs.Lookup(name)
	if f == nil {
		return unknownFlag(fs, dashes+name)
	}
	if isBool(f) {
		if !hasValue {
			value = "true"
		}
		return set(fs, f, value)
	}
	if !hasValue {
		var ok bool
		if value, ok = next(); !ok {
			return fmt.Errorf("option %s%s: requires a value", dashes, name)
		}
	}
	return set(fs, f, value)
}

// setShort sets the bundled short flags of "abc" or "Xvalue".
func setShort(fs *flag.FlagSet, bundle string, next func() (string, bool)) error {
	for j := 0; j < len(bundle); j++ {
		name := bundle[j : j+1]
		f := fs.Lookup(name)
		if f == nil {
			return unknownFlag(fs, "-"+name)
		}
		if isBool(f) {
			if err := set(fs, f, "true"); err != nil {
				return err
			}
			continue
		}
		value := bundle[j+1:]
		if value == "" {
			var ok bool
			if value, ok = next(); !ok {
				return fmt.Errorf("option -%s: requires a value", name)
			}
		}
		return set(fs, f, value)
	}
	return nil
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func set(fs *flag.FlagSet, f *flag.Flag, value string) error {
	if err := fs.Set(f.Name, value); err != nil {
		return fmt.Errorf("%s %q: %v", dashed(f.Name), value, err)
	}
	return nil
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// unknownFlag is the one line said of a flag fs does not define, with the
// nearest one it does.
func unknownFlag(fs *flag.FlagSet, given string) error {
	name := strings.TrimLeft(given, "-")
	if name == "h" || name == "help" {
		return flag.ErrHelp // -h, --help: the usage
	}
	best, bestDist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 && len(name) > 1 {
			return
		}
		if d := editDistance(name, f.Name); d < bestDist || d == bestDist && f.Name < best {
			best, bestDist = f.Name, d
		}
	})
	if best != "" && len(name) > 1 {
		return fmt.Errorf("option %s: is unknown; did you mean %s?", given, dashed(best))
	}
	return fmt.Errorf("option %s: is unknown", given)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// printFlags writes the flags of fs as curl's help does: each flag once,
// its short and long names together ("-X, --request method"), long names
// with two dashes.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	aliases := map[string][]string{}
	var primary []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if of, ok := strings.CutPrefix(f.Usage, aliasUsage); ok {
			aliases[of] = append(aliases[of], f.Name)
			return
		}
		primary = append(primary, f)
	})
	for _, f := range primary {
		names := append([]string{f.Name}, aliases[f.Name]...)
		slices.SortFunc(names, func(a, b string) int { return len(a) - len(b) })
		for i, n := range names {
			names[i] = dashed(n)
		}
		value, usage := flag.UnquoteUsage(f)
		line := "  " + strings.Join(names, ", ")
		if value != "" && !isBool(f) {
			line += " " + value
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	}
}

// aliasUsage starts the usage of a flag's other name; what follows is
// the flag's first name.
const aliasUsage = "same as "
