package canonical_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sigv4/sigv4/internal/canonical"
)

func TestAppendHeaderValue(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"a", "a"},
		{"  a  ", "a"},
		{"a  b", "a b"},
		{"\ta\t \tb\t", "a b"},
		{"a\r\n b", "a b"},
		{"a\v\fb", "a b"},
		{" \"a  b\" ", "\"a b\""}, // quoted strings are collapsed too, as the suite expects
		{"ü  €", "ü €"},
		{"a\x00b", "a\x00b"},
	} {
		if got := string(canonical.AppendHeaderValue([]byte("x:"), c.in)); got != "x:"+c.want {
			t.Errorf("AppendHeaderValue(%q) = %q, want %q", c.in, got, "x:"+c.want)
		}
	}
}

func headerSet(entries ...any) *canonical.HeaderSet {
	h := new(canonical.HeaderSet)
	for i := 0; i < len(entries); i += 2 {
		vals, _ := entries[i+1].([]string)
		h.Add(entries[i].(string), vals)
	}
	h.Sort()
	return h
}

func TestHeaderSetSigned(t *testing.T) {
	h := headerSet("X-Amz-Date", nil, "host", nil, "Content-Type", nil, "x-amz-content-sha256", nil, "My-Header1", nil, "a", nil)
	if got := string(h.AppendSigned(nil)); got != "a;content-type;host;my-header1;x-amz-content-sha256;x-amz-date" {
		t.Errorf("AppendSigned = %q", got)
	}
}

func TestHeaderSetCanonical(t *testing.T) {
	h := headerSet("Host", []string{"example.com"}, "My-Header", []string{" a ", "", "b   c", "\td"}, "X-Empty", nil)
	want := "host:example.com\nmy-header:a,,b c,d\nx-empty:\n"
	if got := string(h.AppendCanonical(nil)); got != want {
		t.Errorf("AppendCanonical = %q, want %q", got, want)
	}
}

// Spellings of one name are one header, their values in the byte order of
// the spellings (as net/http writes them), whatever order they came in.
func TestHeaderSetSpellings(t *testing.T) {
	for _, order := range [][]string{{"x-foo", "X-Foo", "X-FOO"}, {"X-FOO", "x-foo", "X-Foo"}} {
		h := new(canonical.HeaderSet)
		for _, name := range order {
			h.Add(name, []string{name})
		}
		h.Add("X-Empty", nil)
		h.Add("x-empty", []string{"v"})
		h.Sort()
		if got, want := string(h.AppendCanonical(nil)), "x-empty:v\nx-foo:X-FOO,X-Foo,x-foo\n"; got != want {
			t.Errorf("%v: AppendCanonical = %q, want %q", order, got, want)
		}
		if got := string(h.AppendSigned(nil)); got != "x-empty;x-foo" {
			t.Errorf("AppendSigned = %q", got)
		}
		if h.Unique() != 2 {
			t.Errorf("Unique = %d", h.Unique())
		}
	}
}

func TestHeaderSetFind(t *testing.T) {
	h := new(canonical.HeaderSet)
	for _, n := range []string{"content-type", "host", "x-amz-date"} {
		h.Add(n, nil)
	}
	for name, want := range map[string]int{"Host": 1, "X-Amz-Date": 2, "content-type": 0, "Content-Length": -1, "zz": -1, "": -1} {
		if got := h.Find(name, h.Len()); got != want {
			t.Errorf("Find(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"AZaz09-._~", "AZaz09-._~"},
		{"a b+c/d=e&f%", "a%20b%2Bc%2Fd%3De%26f%25"},
		{"ü", "%C3%BC"},
		{"\x00\xff", "%00%FF"},
	} {
		if got := string(canonical.AppendEscaped(nil, c.in)); got != c.want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAppendURI(t *testing.T) {
	for _, c := range []struct {
		in       string
		s3       bool
		want     string
		comments string
	}{
		{"", false, "/", ""},
		{"", true, "/", ""},
		{"/", false, "/", ""},
		{"//", false, "/", ""},
		{"/..", false, "/", ""},
		{"/../..", false, "/", ""},
		{"/a/..", false, "/", ""},
		{"/a/b/..", false, "/a", "the SDKs keep a trailing slash only where the path had one"},
		{"/a/b/.", false, "/a/b", ""},
		{"/a/b/../", false, "/a/", ""},
		{"/a/./", false, "/a/", ""},
		{"/a//../b", false, "/b", "empty segments go first, as the suite's get-slashes case"},
		{"/a/%2e%2e/b", false, "/a/%252e%252e/b", "escaped dots are not dot segments"},
		{"/a b", false, "/a%20b", ""},
		{"/a%20b", false, "/a%2520b", "encoded twice"},
		{"/a%20b", true, "/a%20b", "S3: once"},
		{"/a b", true, "/a%20b", ""},
		{"/a%2fb", true, "/a/b", ""},
		{"/a+b", true, "/a%2Bb", "'+' is not a space in a path"},
		{"/%", true, "/%25", ""},
		{"/%4", true, "/%254", ""},
		{"/%zz", true, "/%25zz", ""},
		{"/a/./b", true, "/a/./b", "S3 does not normalize"},
	} {
		if got := string(canonical.AppendURI(nil, c.in, c.s3)); got != c.want {
			t.Errorf("AppendURI(%q, s3=%v) = %q, want %q %s", c.in, c.s3, got, c.want, c.comments)
		}
	}
}

func TestAppendQuery(t *testing.T) {
	var s canonical.Scratch
	for _, c := range []struct {
		in   string
		omit canonical.Omit
		want string
	}{
		{"", canonical.OmitNone, ""},
		{"&&", canonical.OmitNone, ""},
		{"a", canonical.OmitNone, "a="},
		{"b=1&a=2&a=1&A=3", canonical.OmitNone, "A=3&a=1&a=2&b=1"},
		{"a+b=c+d", canonical.OmitNone, "a%20b=c%20d"},
		{"a%2bb=%7e", canonical.OmitNone, "a%2Bb=~"},
		{"a=b=c", canonical.OmitNone, "a=b%3Dc"},
		{"X-Amz-Signature=abc&x=1", canonical.OmitNone, "X-Amz-Signature=abc&x=1"},
		{"X-Amz-Signature=abc&x=1", canonical.OmitSignature, "x=1"},
		{"X-Amz-%53ignature=abc&x=1", canonical.OmitSignature, "x=1"},
		{"X-Amz-Security-Token=t&x=1", canonical.OmitSignature, "X-Amz-Security-Token=t&x=1"},
		{"X-Amz-Security-Token=t&X-Amz-Signature=s&x=1", canonical.OmitSignature | canonical.OmitSecurityToken, "x=1"},
	} {
		if got := string(s.AppendQuery(nil, c.in, c.omit)); got != c.want {
			t.Errorf("AppendQuery(%q, %d) = %q, want %q", c.in, c.omit, got, c.want)
		}
	}
}

func TestAppendStringToSign(t *testing.T) {
	creq := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + canonical.EmptySHA256
	h := sha256.Sum256([]byte(creq))
	got := string(canonical.AppendStringToSign(nil, canonical.AlgorithmHMAC, "20150830T123600Z", "20150830", "us-east-1", "service", &h))
	want := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
	if got != want {
		t.Errorf("AppendStringToSign:\n got %q\nwant %q", got, want)
	}
	if got := string(canonical.AppendScope(nil, "20150830", "", "s3")); got != "20150830/s3/aws4_request" {
		t.Errorf("AppendScope without region = %q", got)
	}
	if got := string(canonical.AppendTime(nil, time.Date(2015, 8, 30, 14, 36, 0, 0, time.FixedZone("x", 2*3600)))); got != "20150830T123600Z" {
		t.Errorf("AppendTime = %q", got)
	}
}

func TestParseTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		s := string(canonical.AppendTime(nil, tm))
		got, ok := canonical.ParseTime(s)
		if !ok || !got.Equal(tm) || s != tm.Format(canonical.TimeFormat) {
			t.Errorf("round trip of %v: %q -> %v, %v", tm, s, got, ok)
		}
	}
	for _, bad := range []string{"", "20150830T123600", "20150830T123600z", "2015-08-30T12:36Z",
		"20150230T000000Z", "20151301T000000Z", "20150830T240000Z", "20150830T126000Z",
		"20150830T123660Z", "2015083aT123600Z", "20150830 123600Z", "+0150830T123600Z"} {
		if _, ok := canonical.ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

// TestParseTimeAgreesWithTimeParse compares ParseTime with time.Parse on
// every day of four centuries' edges and on random strings of the format's
// shape, valid or not.
func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := time.Parse(canonical.TimeFormat, s)
		got, ok := canonical.ParseTime(s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, want, err)
		}
	}
	for _, year := range []int{0, 1, 4, 100, 399, 400, 1600, 1900, 1969, 1970, 1972, 2000, 2024, 2100, 2400, 9999} {
		for month := 1; month <= 12; month++ {
			for day := 0; day <= 32; day++ {
				check(fmt.Sprintf("%04d%02d%02dT235959Z", year, month, day))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	digits := "0123456789:/"
	for range 200000 {
		b := []byte("20060102T150405Z")
		for i := range b {
			if i != 8 && i != 15 {
				b[i] = digits[rng.IntN(len(digits))]
			}
		}
		if rng.IntN(4) > 0 { // mostly in range, to reach the calendar checks
			copy(b[4:8], fmt.Sprintf("%02d%02d", 1+rng.IntN(12), 1+rng.IntN(31)))
			copy(b[9:15], fmt.Sprintf("%02d%02d%02d", rng.IntN(25), rng.IntN(61), rng.IntN(61)))
		}
		check(string(b))
	}
}

func TestAppendHex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 80 {
		for range 50 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.IntN(256))
			}
			if n == 4 {
				src = []byte{0x00, 0x09, 0x0a, 0xff} // every nibble edge
			}
			prefix := []byte("p:")
			if got, want := string(canonical.AppendHex(prefix, src)), "p:"+hex.EncodeToString(src); got != want {
				t.Fatalf("AppendHex(%x) = %q, want %q", src, got, want)
			}
		}
	}
}
