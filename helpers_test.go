package sigv4_test

import (
	"bufio"
	"github.com/sigv4/sigv4/internal/httpfile"
	"strconv"
	"strings"
)

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func contentLength(body string) string {
	if body == "" {
		return ""
	}
	return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
}

// Helpers that edit request files (internal/httpfile) for tamper tests.

func pathOf(target string) string { p, _, _ := strings.Cut(target, "?"); return p }

func setPath(target, path string) string {
	if _, q, ok := strings.Cut(target, "?"); ok {
		return path + "?" + q
	}
	return path
}

func queryFields(target string) []string {
	_, q, ok := strings.Cut(target, "?")
	if !ok || q == "" {
		return nil
	}
	return strings.Split(q, "&")
}

func withQuery(target string, fields []string) string {
	var kept []string
	for _, f := range fields {
		if f != "" {
			kept = append(kept, f)
		}
	}
	if len(kept) == 0 {
		return pathOf(target)
	}
	return pathOf(target) + "?" + strings.Join(kept, "&")
}

func addQuery(target, field string) string {
	return withQuery(target, append(queryFields(target), field))
}

// editQueryField replaces field i; "" drops it.
func editQueryField(target string, i int, field string) string {
	fields := queryFields(target)
	fields[i] = field
	return withQuery(target, fields)
}

func queryParam(target, name string) string {
	for _, f := range queryFields(target) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}

func setQueryParam(target, name, value string) string {
	fields := queryFields(target)
	for i, f := range fields {
		if strings.HasPrefix(f, name+"=") {
			fields[i] = name + "=" + value
		}
	}
	return withQuery(target, fields)
}

func addHeader(f *httpfile.File, name, value string) {
	f.Headers = append(f.Headers, httpfile.Field{Name: name, Value: value})
}

func setHeader(f *httpfile.File, name, value string) {
	for i, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			f.Headers[i].Value = value
		}
	}
}

func replaceInHeader(f *httpfile.File, name, old, new string) {
	for i, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			f.Headers[i].Value = strings.Replace(h.Value, old, new, 1)
		}
	}
}

// signedHeaderNames returns the signed headers of a signed request file.
func signedHeaderNames(f *httpfile.File) []string {
	list := afterLast(headerValue(f, "Authorization"), "SignedHeaders=")
	list, _, _ = strings.Cut(list, ",")
	if list == "" {
		list = strings.ReplaceAll(queryParam(f.Target, "X-Amz-SignedHeaders"), "%3B", ";")
	}
	return strings.Split(list, ";")
}

func flipHex(s string, i int) string {
	b := []byte(s)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }
