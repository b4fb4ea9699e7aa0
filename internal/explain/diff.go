package explain

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/canonical"
)

// A finding is one difference, in words, and what to do about it.
type finding struct{ cause, fix string }

// stsDifference names the first difference between the server's string to
// sign and ours in the lines that do not come from the canonical request:
// the algorithm, the time and the credential scope.
func (x *explainContext) stsDifference(srvSTS, oursSTS string, srvCreq creq, haveCreq bool) (finding, bool) {
	srv, ours := strings.Split(srvSTS, "\n"), strings.Split(oursSTS, "\n")
	if len(srv) != 4 || len(ours) != 4 {
		return finding{}, false
	}
	switch {
	case srv[0] != ours[0]:
		return finding{
			cause: fmt.Sprintf("The server signed with algorithm %s, the request with %s.", srv[0], ours[0]),
			fix:   "Sign with the algorithm the server expects.",
		}, true
	case srv[1] != ours[1]:
		return x.timeDifference(srv[1], ours[1], srvCreq, haveCreq), true
	case srv[2] != ours[2]:
		return x.scopeDifference(srv[2], ours[2]), true
	}
	return finding{}, false
}

func (x *explainContext) timeDifference(srv, ours string, srvCreq creq, haveCreq bool) finding {
	f := finding{
		cause: fmt.Sprintf("The server signed another time: `%s` in its string to sign, where the request carries X-Amz-Date `%s`.", srv, ours),
		fix:   "Sign last, once every header is final, and let nothing rewrite X-Amz-Date afterwards; keep the client's clock in sync (NTP).",
	}
	if got, i := srvCreq.header("x-amz-date"); haveCreq && i >= 0 && got == srv {
		f.cause += " It received X-Amz-Date `" + got + "`: the header changed after signing (a retry that stamps a new date without signing again, or a proxy)."
	} else if x.sent.header.Get("X-Amz-Date") == "" && !x.sent.presigned {
		f.cause += " The request has no X-Amz-Date, and the server did not take the time from its Date header."
		f.fix = "Send X-Amz-Date and sign it; Date is rewritten by proxies and HTTP libraries."
	}
	return f
}

func (x *explainContext) scopeDifference(srvLine, oursLine string) finding {
	srv, ok1 := parseScope(srvLine)
	ours, ok2 := parseScope(oursLine)
	switch {
	case !ok1 || !ok2:
		return finding{
			cause: fmt.Sprintf("The server used the credential scope `%s`, where the request was signed for `%s`.", srvLine, oursLine),
			fix:   "Sign for the scope the server uses.",
		}
	case srv.Date != ours.Date:
		return finding{
			cause: fmt.Sprintf("The server signed another date: scope date %s, where the request was signed for %s (X-Amz-Date %s).", srv.Date, ours.Date, x.sent.amzDate),
			fix:   "Take the scope date and X-Amz-Date from one timestamp, in UTC, not local time; keep the client's clock in sync (NTP).",
		}
	case srv.Region != ours.Region:
		f := finding{
			cause: fmt.Sprintf("The server used region %s; the request was signed for region %s.", srv.Region, ours.Region),
			fix:   fmt.Sprintf("Sign for %s: --region %s, AWS_REGION, or the profile's region.", srv.Region, srv.Region),
		}
		if x.s3 {
			f.fix += " A bucket lives in one region, which the x-amz-bucket-region response header names."
		}
		return f
	case srv.Service != ours.Service:
		return finding{
			cause: fmt.Sprintf("The server used service %s; the request was signed for service %s.", srv.Service, ours.Service),
			fix: fmt.Sprintf("Sign with the signing name the server expects, --service %s: it is not always the first label of the host "+
				"(API Gateway signs as execute-api, OpenSearch as es).", srv.Service),
		}
	}
	return finding{
		cause: fmt.Sprintf("The server's credential scope `%s` ends differently from the request's `%s`.", srvLine, oursLine),
		fix:   "End the scope with aws4_request.",
	}
}

// creqDifference names the first difference between the server's
// canonical request and ours. The signed header list is looked at before
// the header lines, which it explains.
func (x *explainContext) creqDifference(srv creq) finding {
	ours := x.ours
	switch {
	case srv.method != ours.method:
		return finding{
			cause: fmt.Sprintf("The server computed method %s; the request was signed as %s. A client followed a redirect (301, 302 and 303 turn POST into GET) or a proxy changed the method.", srv.method, ours.method),
			fix:   "Sign the method you send. Call the final endpoint (for S3, the bucket's own region) so that no redirect happens, and do not let a client follow redirects with a signed request.",
		}
	case srv.path != ours.path:
		return x.pathDifference(srv.path)
	case srv.query != ours.query:
		return queryDifference(srv.query, ours.query)
	case srv.signed != ours.signed:
		return finding{
			cause: fmt.Sprintf("The signed header list differs: the server signed `%s`, the request's signature lists `%s`.", srv.signed, ours.signed),
			fix:   "Some servers sign only the headers they received: make every header named in SignedHeaders reach the server, or sign fewer.",
		}
	case !slices.Equal(srv.headers, ours.headers):
		return headerDifference(srv.headers, ours.headers)
	case srv.payload != ours.payload:
		return x.payloadDifference(srv.payload)
	}
	return finding{
		cause: "The server's canonical request hashes differently from ours, yet reads the same: it differs in bytes that do not show (line endings, a trailing newline, non-ASCII).",
		fix:   "Compare the server's CanonicalRequestBytes with ours byte by byte.",
	}
}

func (x *explainContext) pathDifference(srv string) finding {
	ours := x.ours.path
	if srv == string(canonical.AppendURI(nil, x.sent.path, !x.s3)) {
		v := x.pathVariants()[0]
		return finding{v.server, v.serverFix}
	}
	switch {
	case srv == ours+"/" || srv+"/" == ours:
		with, without := "with", "without"
		if srv+"/" == ours {
			with, without = without, with
		}
		return finding{
			cause: fmt.Sprintf("The server received the path %s a trailing slash (`%s`); the request was signed %s it (`%s`). A proxy or web framework changed it.", with, srv, without, ours),
			fix:   "Sign the path exactly as it reaches the server: keep the proxy from adding or removing the trailing slash, or sign it that way.",
		}
	case strings.HasSuffix(srv, ours) && ours != "/":
		return finding{
			cause: fmt.Sprintf("The server received the path with a prefix, `%s`, that the request was not signed with (`%s`): a proxy or API stage mapping added it.", srv, ours),
			fix:   "Sign the path as the server receives it, prefix included, or have the proxy forward the path unchanged.",
		}
	case strings.HasSuffix(ours, srv) && srv != "/":
		return finding{
			cause: fmt.Sprintf("The server received the path without the prefix the request was signed with (`%s`, signed `%s`): a proxy removed it.", srv, ours),
			fix:   "Sign the path as the server receives it, or have the proxy forward the path unchanged.",
		}
	}
	return finding{
		cause: fmt.Sprintf("The server computed the path `%s`; the request was signed for `%s`. A proxy rewrote or re-encoded the path.", srv, ours),
		fix:   "Sign the path exactly as the server receives it; have proxies forward it unchanged, not decoded and encoded again.",
	}
}

func queryDifference(srv, ours string) finding {
	sp, op := splitCanonicalQuery(srv), splitCanonicalQuery(ours)
	if slices.Equal(slices.Sorted(slices.Values(sp)), slices.Sorted(slices.Values(op))) {
		return finding{
			cause: fmt.Sprintf("The server signed the query parameters not sorted (`%s`), where the canonical query sorts them by name (`%s`).", srv, ours),
			fix:   "The server is wrong; until it is fixed, send the parameters already sorted by name: `?" + ours + "`.",
		}
	}
	if len(sp) == len(op) {
		for i := range sp {
			sn, sv, _ := strings.Cut(sp[i], "=")
			on, ov, _ := strings.Cut(op[i], "=")
			if sn != on || sv == ov {
				continue
			}
			f := finding{
				cause: fmt.Sprintf("The query parameter `%s` was signed as `%s`, but the server has `%s`.", on, ov, sv),
				fix:   "Send query values encoded the Signature Version 4 way (%20 for a space, %2B for a plus, upper-case hex), which no proxy needs to change.",
			}
			switch {
			case strings.Contains(ov, "%2B") && strings.Contains(sv, "%20"):
				f.cause += " A '+' reached the server unencoded, where it means a space: something decoded the %2B on the way."
			case queryUnescaped(sv) == queryUnescaped(ov):
				f.cause += " The two are the same value encoded differently: a proxy decoded and re-encoded the query."
			default:
				f.cause += " A proxy or the client changed the value after signing."
			}
			return f
		}
	}
	return finding{
		cause: fmt.Sprintf("The server received other query parameters (`%s`) than the request was signed with (`%s`): a proxy or the client added or removed some after signing.", srv, ours),
		fix:   "Sign the query the server receives: add every parameter before signing, and keep proxies from changing the query.",
	}
}

func splitCanonicalQuery(q string) []string {
	if q == "" {
		return nil
	}
	return strings.Split(q, "&")
}

func queryUnescaped(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func headerDifference(srv, ours []string) finding {
	sv, ov := canonicalHeaderValues(srv), canonicalHeaderValues(ours)
	for _, line := range ours {
		name, _, _ := strings.Cut(line, ":")
		s, o := sv[name], ov[name]
		switch {
		case s == o:
			continue
		case s == "":
			return finding{
				cause: fmt.Sprintf("Header `%s` was signed (`%s`), but the server did not receive it: a proxy dropped it.", name, o),
				fix:   "Have the proxy pass the header through, or leave it out of the signature.",
			}
		case strings.Join(strings.Fields(s), " ") == o:
			return finding{
				cause: fmt.Sprintf("The server did not collapse the white space of header `%s`: it signed `%s`, where the canonical form is `%s`.", name, s, o),
				fix:   "The server is wrong; send the value with single spaces and none at the ends, so that both agree.",
			}
		}
		return finding{
			cause: fmt.Sprintf("Header `%s` was signed as `%s`, but the server received a different value: `%s`. %s", name, o, s, changedHeaderWhy(name, s, o)),
			fix:   changedHeaderFix(name),
		}
	}
	for _, line := range srv {
		name, s, _ := strings.Cut(line, ":")
		if _, ok := ov[name]; !ok {
			return finding{
				cause: fmt.Sprintf("The server signed header `%s` (`%s`), which the request's signature does not list.", name, s),
				fix:   "Sign the headers the server expects signed.",
			}
		}
	}
	return finding{cause: "The server's header lines differ from ours.", fix: "Compare them above."}
}

func canonicalHeaderValues(lines []string) map[string]string {
	m := make(map[string]string, len(lines))
	for _, line := range lines {
		name, value, _ := strings.Cut(line, ":")
		m[name] = value
	}
	return m
}

func changedHeaderWhy(name, srv, ours string) string {
	switch name {
	case "host":
		sh, _, err1 := net.SplitHostPort(srv)
		oh, _, err2 := net.SplitHostPort(ours)
		if err1 == nil && (sh == ours || err2 == nil && sh == oh) || err2 == nil && oh == srv {
			return "The ports differ: a proxy or load balancer forwarded another Host, or the client signed without the port it connected to."
		}
		return "A proxy or load balancer forwarded another Host."
	case "content-type":
		return "A client library or proxy changed Content-Type after signing (adding a charset is common)."
	case "content-length":
		return "The body's length changed on the way: a proxy re-encoded, compressed or chunked it."
	case "x-amz-date":
		return "X-Amz-Date changed after signing."
	}
	return "Something between the client and the server changed it after signing."
}

func changedHeaderFix(name string) string {
	switch name {
	case "host":
		return "Sign the Host the server receives: a non-default port is part of it (host:8443). Behind a proxy, make it pass Host unchanged (nginx: proxy_set_header Host $http_host)."
	case "content-type":
		return "Set Content-Type, exactly as it will be sent, before signing; or leave it out of the signature."
	case "content-length":
		return "Sign the final body, or leave Content-Length out of the signature (the SDKs do not sign it)."
	}
	return "Sign last, once every header is final, and leave out of the signature any header a proxy rewrites."
}

func (x *explainContext) payloadDifference(srv string) finding {
	ours := x.ours.payload
	f := finding{
		cause: fmt.Sprintf("The payload hash differs: the server used %s (%s), where the request as sent calls for %s (%s).",
			shortHash(srv), x.hashWords(srv), shortHash(ours), x.payloadSource()),
		fix: "Sign the SHA-256 of exactly the bytes the server receives, or declare the payload hash in x-amz-content-sha256 (UNSIGNED-PAYLOAD where the service allows it, as S3 does).",
	}
	switch {
	case srv == sigv4.UnsignedPayload:
		f.cause += " The server signs UNSIGNED-PAYLOAD, as S3 does for presigned URLs."
		f.fix = "Sign UNSIGNED-PAYLOAD, or send X-Amz-Content-Sha256 with the hash you sign."
	case ours == sigv4.UnsignedPayload:
		f.cause += " The server hashed the body itself: it did not receive x-amz-content-sha256: UNSIGNED-PAYLOAD, or does not accept it for this service."
		f.fix = "Sign the body's SHA-256, or make sure the x-amz-content-sha256 header reaches the server."
	case srv == sigv4.EmptySHA256:
		f.cause += " The server hashed an empty body: the body did not reach it (a proxy dropped it, or Content-Length was 0)."
	default:
		f.cause += " The body changed after signing: a proxy re-encoded or compressed it, a library rewrote it (JSON, a trailing newline), or it was signed before it was complete."
	}
	return f
}

// writeDiff writes two texts line by line (diffLines): lines of both after
// two spaces, lines only in a after "- ", lines only in b after "+ ".
func writeDiff(w io.Writer, a, b string) {
	for _, l := range diffLines(a, b) {
		mark := "  "
		if l.Mark != "" {
			mark = l.Mark + " "
		}
		if l.Text == "" {
			mark = strings.TrimRight(mark, " ")
		}
		fmt.Fprintln(w, mark+l.Text)
	}
}

// diffLines aligns two texts line by line on their longest common
// subsequence.
func diffLines(a, b string) []DiffLine {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			out = append(out, DiffLine{Text: x[i]})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, DiffLine{Mark: "-", Text: x[i]})
			i++
		default:
			out = append(out, DiffLine{Mark: "+", Text: y[j]})
			j++
		}
	}
	return out
}
