package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeOut expands a -w format as curl does: %{variable}, %% and the
// escapes \n, \r, \t, \\. An unknown variable is empty, as in curl.
func writeOut(format string, resp *http.Response, downloaded int64, total time.Duration) string {
	vars := map[string]string{
		"http_code":     strconv.Itoa(resp.StatusCode),
		"response_code": strconv.Itoa(resp.StatusCode),
		"size_download": strconv.FormatInt(downloaded, 10),
		"size_upload":   strconv.FormatInt(max(resp.Request.ContentLength, 0), 10),
		"time_total":    strconv.FormatFloat(total.Seconds(), 'f', 6, 64),
		"content_type":  resp.Header.Get("Content-Type"),
		"url_effective": resp.Request.URL.String(),
		"url":           resp.Request.URL.String(),
		"method":        resp.Request.Method,
		"num_headers":   strconv.Itoa(len(resp.Header)),
		"http_version":  strings.TrimPrefix(resp.Proto, "HTTP/"),
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '%' && strings.HasPrefix(format[i:], "%%"):
			b.WriteByte('%')
			i++
		case c == '%' && strings.HasPrefix(format[i:], "%{"):
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(vars[format[i+2:i+end]]) // unknown: empty, as curl
			i += end
		case c == '\\' && i+1 < len(format):
			if r, ok := map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '\\': '\\'}[format[i+1]]; ok {
				b.WriteByte(r)
				i++
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
