package canonical_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// vectorTargets returns the request targets (path?query) of every request
// file of the AWS signing test suite (request.txt and the signed requests),
// and the paths and queries of the S3 worked examples.
func vectorTargets(f *testing.F) (paths, queries []string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "aws-sig-v4-test-suite", "v4", "*", "*request.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no test vectors: %v", err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "canonical-request.txt") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		file, err := httpfile.Parse(data)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		p, q, _ := strings.Cut(file.Target, "?")
		paths = append(paths, p)
		queries = append(queries, q)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "s3-examples.json"))
	if err != nil {
		f.Fatal(err)
	}
	var doc struct {
		Examples []struct {
			Request struct {
				Path  string     `json:"path"`
				Query [][]string `json:"query"`
			} `json:"request"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		f.Fatal(err)
	}
	for _, e := range doc.Examples {
		if e.Request.Path == "" {
			continue
		}
		paths = append(paths, e.Request.Path)
		var fields []string
		for _, kv := range e.Request.Query {
			if len(kv) == 2 {
				fields = append(fields, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
			}
		}
		queries = append(queries, strings.Join(fields, "&"))
	}
	return paths, queries
}

// validEncoding reports the first byte of out that is not an unreserved
// character, an upper-case %XX escape or one of extra.
func validEncoding(out []byte, extra string) (int, bool) {
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case isUnreserved(c), strings.IndexByte(extra, c) >= 0:
		case c == '%' && i+2 < len(out) && isUpperHex(out[i+1]) && isUpperHex(out[i+2]):
			i += 2
		default:
			return i, false
		}
	}
	return 0, true
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// lenientUnescape is percent-decoding as SigV4 servers apply it to a
// request target: %XX (either case) is a byte, any other '%' is itself.
func lenientUnescape(s string, plusIsSpace bool) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			if hi, lo := strings.IndexByte("0123456789abcdef", lowerASCII(s[i+1])), strings.IndexByte("0123456789abcdef", lowerASCII(s[i+2])); hi >= 0 && lo >= 0 {
				out = append(out, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		if c == '+' && plusIsSpace {
			c = ' '
		}
		out = append(out, c)
	}
	return out
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 32
	}
	return c
}

// uriEncode is the URI encoding of the SigV4 specification: every byte but
// A-Z a-z 0-9 - . _ ~ (and '/' when keepSlash) as %XX, upper-case hex.
func uriEncode(s []byte, keepSlash bool) string {
	var b strings.Builder
	for _, c := range s {
		if isUnreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// refNormalized is the reference canonical URI of every service but S3,
// as botocore's remove_dot_segments computes it: empty and "." segments
// dropped, ".." drops the segment before it, a trailing slash kept only if
// the path has one and something is left, and each remaining segment
// URI-encoded as it stands (so escapes are encoded a second time).
func refNormalized(path string) string {
	var stack []string
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, uriEncode([]byte(seg), false))
		}
	}
	out := "/" + strings.Join(stack, "/")
	if strings.HasSuffix(path, "/") && len(stack) > 0 {
		out += "/"
	}
	return out
}

// FuzzCanonicalURI checks AppendURI on any path, with and without S3 rules.
func FuzzCanonicalURI(f *testing.F) {
	paths, _ := vectorTargets(f)
	for _, p := range paths {
		f.Add(p, false)
		f.Add(p, true)
	}
	for _, p := range []string{"", "/", "*", "//", "/..", "/a/b/../../..", "/a/./b/.", "a/b", "/%2e%2E/x", "/a%2Fb",
		"/%", "/%4", "/%zz", "/%41%4a", "/a+b c", "/ü/€", "/a//b///c/", "/a/../../b/./c/..", "/~user/x;y=z"} {
		f.Add(p, false)
		f.Add(p, true)
	}
	f.Fuzz(func(t *testing.T, path string, s3 bool) {
		const prefix = "GET\n/a/b/"
		b := canonical.AppendURI([]byte(prefix), path, s3)
		if !bytes.HasPrefix(b, []byte(prefix)) {
			t.Fatalf("AppendURI(%q, s3=%v) changed the buffer's prefix: %q", path, s3, b)
		}
		out := b[len(prefix):]
		if got := canonical.AppendURI(nil, path, s3); !bytes.Equal(got, out) {
			t.Fatalf("AppendURI(%q, s3=%v) depends on the buffer: %q vs %q", path, s3, got, out)
		}
		if i, ok := validEncoding(out, "/"); !ok {
			t.Fatalf("AppendURI(%q, s3=%v) = %q: byte %d is not unreserved, '/' or %%XX", path, s3, out, i)
		}
		// Every canonical URI is a fixed point of the S3 rules: decoding
		// and encoding it once more gives it back.
		if again := canonical.AppendURI(nil, string(out), true); !bytes.Equal(again, out) {
			t.Fatalf("S3 rules not idempotent on %q (from %q, s3=%v): %q", out, path, s3, again)
		}
		if len(out) == 0 {
			t.Fatalf("AppendURI(%q, s3=%v) is empty", path, s3)
		}
		if s3 {
			if path == "" {
				if string(out) != "/" {
					t.Fatalf("empty path: %q, want /", out)
				}
				return
			}
			if want := uriEncode(lenientUnescape(path, false), true); string(out) != want {
				t.Fatalf("S3 AppendURI(%q) = %q, want %q", path, out, want)
			}
			// The signer's shortcut for a path it holds decoded agrees.
			if got := canonical.AppendDecodedURI(nil, string(lenientUnescape(path, false))); !bytes.Equal(got, out) {
				t.Fatalf("AppendDecodedURI(%q) = %q, but AppendURI(%q, s3) = %q", lenientUnescape(path, false), got, path, out)
			}
			// Any other escaping of the same bytes gives the same result.
			alt := strings.ReplaceAll(url.PathEscape(string(lenientUnescape(path, false))), "%2F", "/")
			if got := canonical.AppendURI(nil, alt, true); !bytes.Equal(got, out) {
				t.Fatalf("S3 AppendURI(%q) = %q but the same path escaped as %q gives %q", path, out, alt, got)
			}
			return
		}
		if out[0] != '/' {
			t.Fatalf("AppendURI(%q) = %q does not start with '/'", path, out)
		}
		if bytes.Contains(out, []byte("//")) {
			t.Fatalf("AppendURI(%q) = %q has an empty segment", path, out)
		}
		for _, seg := range strings.Split(string(out), "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("AppendURI(%q) = %q has a dot segment", path, out)
			}
		}
		if want := refNormalized(path); string(out) != want {
			t.Fatalf("AppendURI(%q) = %q, want %q", path, out, want)
		}
		// Normalizing is idempotent up to the second encoding: a canonical
		// path without escapes canonicalizes to itself.
		if !bytes.ContainsRune(out, '%') {
			if again := canonical.AppendURI(nil, string(out), false); !bytes.Equal(again, out) {
				t.Fatalf("normalization not idempotent: %q -> %q -> %q", path, out, again)
			}
		}
	})
}

// refQuery is the reference canonical query string: every non-empty field
// split at its first '=', name and value percent-decoded ('+' is a space)
// and URI-encoded, sorted by name then value; with omitSig the parameters
// whose decoded name is X-Amz-Signature are left out, with omitToken those
// named X-Amz-Security-Token.
func refQuery(raw string, omitSig, omitToken bool) string {
	var pairs [][2]string
	for _, field := range strings.Split(raw, "&") {
		if field == "" {
			continue
		}
		k, v, _ := strings.Cut(field, "=")
		ek, ev := uriEncode(lenientUnescape(k, true), false), uriEncode(lenientUnescape(v, true), false)
		if omitSig && ek == "X-Amz-Signature" || omitToken && ek == "X-Amz-Security-Token" {
			continue
		}
		pairs = append(pairs, [2]string{ek, ev})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	return b.String()
}

// FuzzCanonicalQuery checks AppendQuery on any raw query.
func FuzzCanonicalQuery(f *testing.F) {
	_, queries := vectorTargets(f)
	for _, q := range queries {
		f.Add(q, uint8(0), uint64(1))
		f.Add(q, uint8(1), uint64(2))
		f.Add(q, uint8(3), uint64(3))
	}
	var long []string
	for i := range 40 {
		long = append(long, "k"+string(rune('a'+i%26))+"="+string(rune('z'-i%7)))
	}
	for _, q := range []string{"", "&", "&&a", "a", "a=", "=a", "=", "a=b=c", "a+b=c+d", "a%20b=c%2Bd", "%=%%", "%4=%41%4a",
		"b=2&a=1&a=0&a=", "X-Amz-Signature=x&y=1", "X-Amz-Security-Token=t&X-Amz-%53ignature=s", "ü=€&~=.", "a;b=c;d",
		strings.Join(long, "&")} {
		f.Add(q, uint8(0), uint64(3))
		f.Add(q, uint8(3), uint64(4))
	}
	f.Fuzz(func(t *testing.T, raw string, omitBits uint8, seed uint64) {
		omitSig, omitToken := omitBits&1 != 0, omitBits&2 != 0
		omit := canonical.OmitNone
		if omitSig {
			omit |= canonical.OmitSignature
		}
		if omitToken {
			omit |= canonical.OmitSecurityToken
		}
		var s canonical.Scratch
		const prefix = "x&y=z\n"
		b := s.AppendQuery([]byte(prefix), raw, omit)
		if !bytes.HasPrefix(b, []byte(prefix)) {
			t.Fatalf("AppendQuery(%q) changed the buffer's prefix", raw)
		}
		out := string(b[len(prefix):])
		if i, ok := validEncoding([]byte(out), "&="); !ok {
			t.Fatalf("AppendQuery(%q) = %q: byte %d is not unreserved, '&', '=' or %%XX", raw, out, i)
		}
		if out != "" {
			for _, field := range strings.Split(out, "&") {
				name, _, ok := strings.Cut(field, "=")
				if !ok || strings.Count(field, "=") != 1 {
					t.Fatalf("AppendQuery(%q) = %q: field %q is not name=value", raw, out, field)
				}
				if omitSig && name == "X-Amz-Signature" || omitToken && name == "X-Amz-Security-Token" {
					t.Fatalf("AppendQuery(%q, omit=%d) = %q keeps %s", raw, omit, out, name)
				}
			}
		}
		if want := refQuery(raw, omitSig, omitToken); out != want {
			t.Fatalf("AppendQuery(%q, omit=%d)\n got %q\nwant %q", raw, omit, out, want)
		}
		// The scratch is reusable: a second call gives the same bytes.
		if again := string(s.AppendQuery(nil, raw, omit)); again != out {
			t.Fatalf("AppendQuery(%q) with a used Scratch = %q, want %q", raw, again, out)
		}
		// Idempotent.
		if again := string(s.AppendQuery(nil, out, omit)); again != out {
			t.Fatalf("AppendQuery not idempotent: %q -> %q -> %q", raw, out, again)
		}
		// Order-insensitive.
		fields := strings.Split(raw, "&")
		rand.New(rand.NewPCG(seed, seed>>32)).Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		shuffled := strings.Join(fields, "&")
		if got := string(s.AppendQuery(nil, shuffled, omit)); got != out {
			t.Fatalf("AppendQuery depends on field order: %q -> %q but %q -> %q", raw, out, shuffled, got)
		}
		// Any other escaping of the same names and values gives the same
		// result (url.Values encodes with '+' and lower-case-free escapes).
		vals := url.Values{}
		ok := true
		for _, field := range strings.Split(raw, "&") {
			if field == "" {
				continue
			}
			k, v, _ := strings.Cut(field, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				ok = false
				break
			}
			vals[dk] = append(vals[dk], dv)
		}
		if ok {
			if got := string(s.AppendQuery(nil, vals.Encode(), omit)); got != out {
				t.Fatalf("AppendQuery(%q) = %q but the same query escaped as %q gives %q", raw, out, vals.Encode(), got)
			}
		}
	})
}

// refHeaders is the reference canonical headers and signed headers list of
// (name, value) entries: names compared in ASCII lower case, sorted; the
// values of every spelling of a name joined by ',', spellings in byte
// order (as net/http writes them), each value trimmed with its inner runs
// of white space collapsed to one space.
func refHeaders(names []string, values [][]string) (string, string) {
	type spelling struct {
		lower, name string
		seq         int
	}
	var sp []spelling
	for i, n := range names {
		b := []byte(n)
		for j, c := range b {
			b[j] = lowerASCII(c)
		}
		sp = append(sp, spelling{string(b), n, i})
	}
	slices.SortStableFunc(sp, func(a, b spelling) int {
		if c := strings.Compare(a.lower, b.lower); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	isSpace := func(c byte) bool { return strings.IndexByte(" \t\n\r\v\f", c) >= 0 }
	clean := func(v string) string {
		return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }), " ")
	}
	var canon, signed strings.Builder
	for i := 0; i < len(sp); {
		j := i
		var vals []string
		for ; j < len(sp) && sp[j].lower == sp[i].lower; j++ {
			for _, v := range values[sp[j].seq] {
				vals = append(vals, clean(v))
			}
		}
		canon.WriteString(sp[i].lower + ":" + strings.Join(vals, ",") + "\n")
		if i > 0 {
			signed.WriteByte(';')
		}
		signed.WriteString(sp[i].lower)
		i = j
	}
	return canon.String(), signed.String()
}

// FuzzCanonicalHeaders builds a HeaderSet from "name:value|value" lines and
// checks it against the reference, in any order of adding.
func FuzzCanonicalHeaders(f *testing.F) {
	f.Add("Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nMy-Header1:  a   b  |c\nmy-header1:\t\"x  y\"", uint64(1))
	f.Add("X-Foo:1\nx-foo:2\nX-FOO:3\nx-Foo:4|5\nX-Foo:6", uint64(2))
	f.Add("a:\nA:|\nb:\x00\x7f\xff\nc:\v\f\r\n", uint64(3))
	f.Fuzz(func(t *testing.T, spec string, seed uint64) {
		var names []string
		var values [][]string
		for _, line := range strings.Split(spec, "\n") {
			name, rest, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			names = append(names, name)
			if rest == "" {
				values = append(values, nil)
			} else {
				values = append(values, strings.Split(rest, "|"))
			}
		}
		if len(names) > 200 {
			return
		}
		wantCanon, wantSigned := refHeaders(names, values)
		var h canonical.HeaderSet
		check := func(order []int) {
			t.Helper()
			h.Reset()
			for _, i := range order {
				h.Add(names[i], values[i])
			}
			h.Sort()
			if got := string(h.AppendCanonical([]byte("x\n"))); got != "x\n"+wantCanon {
				t.Fatalf("AppendCanonical of %q (order %v)\n got %q\nwant %q", spec, order, got[2:], wantCanon)
			}
			if got := string(h.AppendSigned(nil)); got != wantSigned {
				t.Fatalf("AppendSigned of %q (order %v) = %q, want %q", spec, order, got, wantSigned)
			}
			if want := strings.Count(wantCanon, "\n"); h.Unique() != want || h.Len() != len(names) {
				t.Fatalf("Unique = %d, Len = %d; want %d, %d", h.Unique(), h.Len(), want, len(names))
			}
		}
		order := make([]int, len(names))
		for i := range order {
			order[i] = i
		}
		check(order)
		// Any order of adding gives the same result, as long as identical
		// spellings keep their relative order.
		r := rand.New(rand.NewPCG(seed, 11))
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		// Identical spellings keep their relative order.
		seen := map[string][]int{}
		for i, n := range names {
			seen[n] = append(seen[n], i)
		}
		next := map[string]int{}
		for k, i := range order {
			n := names[i]
			order[k] = seen[n][next[n]]
			next[n]++
		}
		check(order)
		// Find over the lower-case names of the set, added sorted.
		lines := strings.Split(strings.TrimSuffix(wantCanon, "\n"), "\n")
		if wantCanon == "" {
			lines = nil
		}
		h.Reset()
		var lower []string
		for _, l := range lines {
			n, _, _ := strings.Cut(l, ":")
			lower = append(lower, n)
			h.AddLower(n)
		}
		for i, n := range lower {
			up := []byte(n)
			for j, c := range up {
				if 'a' <= c && c <= 'z' && j%2 == 0 {
					up[j] = c - 32
				}
			}
			if got := h.Find(string(up), len(lower)); got != i {
				t.Fatalf("Find(%q) in %q = %d, want %d", up, lower, got, i)
			}
		}
		if got := h.Find("\xff\xffnot-there", len(lower)); got != -1 && lower[got] != "\xff\xffnot-there" {
			t.Fatalf("Find of a missing name = %d", got)
		}
		// Added in order by AddLower, the set sorts as it was given.
		h.Sort()
		if got := string(h.AppendSigned(nil)); got != wantSigned || h.Unique() != len(lower) {
			t.Fatalf("AppendSigned of names added by AddLower = %q (%d unique), want %q", got, h.Unique(), wantSigned)
		}
	})
}
