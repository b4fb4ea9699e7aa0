package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// One duration syntax for every flag that takes one (--expires,
// --duration, --idle-timeout, ...): a number of seconds ("900"), Go's
// durations ("90s", "15m", "1h30m"), and whole days in front ("7d",
// "1d12h"). Each refusal says the same thing.

// parseDuration reads the value s of the flag named name.
func parseDuration(name, s string) (time.Duration, error) {
	if d, ok := durationOf(s); ok {
		return d, nil
	}
	return 0, fmt.Errorf("--%s %q: %s: %w", name, s, wantDuration, errUsage)
}

func durationOf(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(maxDuration/time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	var days time.Duration
	if n, rest, ok := strings.Cut(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 || v > maxDays {
			return 0, false
		}
		days, s = time.Duration(v)*24*time.Hour, rest
		if s == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || s[0] == '+' {
		return 0, false
	}
	return days + d, true
}

// maxDays bounds a number of days (a century), so that no sum overflows.
const (
	maxDays     = 100 * 365
	maxDuration = maxDays * 24 * time.Hour
)

// durationFlag is a flag.Value of the one syntax.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, ok := durationOf(s)
	if !ok {
		return errors.New(wantDuration)
	}
	*f.d = d
	return nil
}

// wantDuration is what every refused duration is told.
const wantDuration = "want a duration (90s, 15m, 12h, 7d) or a number of seconds"

// durationVar is fs.DurationVar, in the one syntax.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage)
}

// secondsFlag is a timeout as curl takes it, in seconds with a fraction
// ("2.5"), or in the one duration syntax ("90s").
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f secondsFlag) Set(s string) error {
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v < float64(maxDuration/time.Second) {
		*f.d = time.Duration(v * float64(time.Second))
		return nil
	}
	d, ok := durationOf(s)
	if !ok {
		return fmt.Errorf("want a number of seconds (2.5) or a duration (90s, 15m)")
	}
	*f.d = d
	return nil
}
