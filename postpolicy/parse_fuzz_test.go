package postpolicy

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParsePolicy feeds arbitrary policy documents to the parser: each is
// a policy or an error, and a policy written back (MarshalJSON) parses to
// the same policy. Seeded with the policies of the real clients' forms
// (FuzzVerify's seeds) and of the S3 documentation's example.
func FuzzParsePolicy(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzVerify/*")
	field := regexp.MustCompile(`(?i)name=\\"policy\\"\\r\\n\\r\\n([A-Za-z0-9+/=]+)\\r\\n`)
	for _, path := range seeds {
		data, _ := os.ReadFile(path)
		for _, line := range strings.Split(string(data), "\n") {
			if m := field.FindStringSubmatch(line); m != nil {
				if doc, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
					f.Add(doc)
				}
			}
		}
	}
	if data, err := os.ReadFile("../testdata/s3-examples.json"); err == nil {
		var ex struct {
			Examples []struct {
				Expected struct {
					PolicyJSON string `json:"policy_json"`
				}
			}
		}
		json.Unmarshal(data, &ex)
		for _, e := range ex.Examples {
			if e.Expected.PolicyJSON != "" {
				f.Add([]byte(e.Expected.PolicyJSON))
			}
		}
	}
	f.Add([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$$odd","v"],{"a":"1","b":"2"},["STARTS-WITH","$Key",""]]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := parsePolicy(doc)
		if err != nil {
			return
		}
		out, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("%s parsed, but does not marshal: %v", doc, err)
		}
		q, err := parsePolicy(out)
		if err != nil {
			t.Fatalf("%s parsed, written as %s, which does not: %v", doc, out, err)
		}
		if !p.Expiration.Truncate(time.Millisecond).Equal(q.Expiration) || !slices.Equal(sorted(p.Conditions), sorted(q.Conditions)) {
			t.Fatalf("%s parsed as %+v; written as %s, parsed as %+v", doc, p, out, q)
		}
	})
}

func sorted(cs []Condition) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Op + "\x00" + c.Field + "\x00" + c.Value + "\x00" + strconv.FormatInt(c.Min, 10) + "\x00" + strconv.FormatInt(c.Max, 10)
	}
	slices.Sort(out)
	return out
}
