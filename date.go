package sigv4

import (
	"strings"
	"time"
)

// dateLayouts are the forms of the Date header that Amazon S3 reads when a
// request has no X-Amz-Date: RFC 1123 with GMT or a numeric zone (Python's
// email.utils.formatdate, which botocore uses, writes -0000), RFC 850,
// ANSI C's asctime and ISO 8601 basic. Days may have one digit.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 GMT",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 UTC",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
	"20060102T150405Z",
}

// parseDateHeader reads the one Date header of a request. Two Date
// headers are refused: the signature covers both, joined, and which one is
// the request's time would be a guess.
func parseDateHeader(values []string) (time.Time, bool) {
	if len(values) != 1 {
		return time.Time{}, false
	}
	v := strings.TrimSpace(values[0])
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
