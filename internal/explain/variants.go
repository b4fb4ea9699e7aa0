package explain

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
)

// A variant is our canonical request with one choice made the way
// clients and servers are known to get it wrong. Signing each variant
// with the secret, or hashing it, and comparing with the signature sent
// or the hash in the server's string to sign tells what the other side
// actually did, where a diff of the canonical requests cannot: a client's
// mistake leaves the server's canonical request identical to ours.
//
// Variants are built with internal/canonical, the canonicalization the
// signer and verifier use, so they differ from ours only by the choice
// they name.
type variant struct {
	creq              string
	client, clientFix string // a client signed this
	server, serverFix string // a server computed this
}

// explainContext is what variants and differences are described with.
type explainContext struct {
	sent    *sentRequest
	ours    creq
	s3      bool   // our side applied Amazon S3's path rules
	service string // the service the request is for
}

func (x *explainContext) variants() []variant {
	var vs []variant
	seen := map[string]bool{x.ours.String(): true}
	for _, family := range []func() []variant{x.queryVariants, x.pathVariants, x.whitespaceVariants, x.hostVariants, x.payloadVariants} {
		for _, v := range family() {
			if !seen[v.creq] {
				seen[v.creq] = true
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// queryFields returns the fields of the query as sent, without the
// signature of a presigned URL, which is not signed.
func (x *explainContext) queryFields() []string {
	var fields []string
	for _, f := range strings.Split(x.sent.rawQuery, "&") {
		name, _, _ := strings.Cut(f, "=")
		if f != "" && !(x.sent.presigned && authz.ParamName(name) == authz.ParamSignature) {
			fields = append(fields, f)
		}
	}
	return fields
}

// canonicalQuery is the canonical form of a raw query, or of one field.
func canonicalQuery(raw string) string {
	var s canonical.Scratch
	return string(s.AppendQuery(nil, raw, canonical.OmitNone))
}

func (x *explainContext) withQuery(q string) string {
	c := x.ours
	c.query = q
	return c.String()
}

// sentQuery is the query as sent, field by field: as written ("k" as
// "k="), and in canonical form. firstRaw is the first field whose two
// forms differ, or -1.
type sentQuery struct {
	raw, canon []string
	firstRaw   int
}

func (x *explainContext) sentQuery() sentQuery {
	q := sentQuery{firstRaw: -1}
	for i, f := range x.queryFields() {
		raw := f
		if !strings.Contains(f, "=") {
			raw += "="
		}
		q.raw, q.canon = append(q.raw, raw), append(q.canon, canonicalQuery(f))
		if q.firstRaw < 0 && q.raw[i] != q.canon[i] {
			q.firstRaw = i
		}
	}
	return q
}

func (x *explainContext) queryVariants() []variant {
	q := x.sentQuery()
	vs := []variant{x.orderVariant(q)}
	if q.firstRaw >= 0 {
		vs = append(vs, x.encodingVariant(q), x.asWrittenVariant(q))
	}
	if strings.Contains(strings.Join(q.raw, "&"), "+") {
		vs = append(vs, x.plusVariant(q))
	}
	return vs
}

// orderVariant signs the query in the order sent, as curl's --aws-sigv4
// did until curl issue #9717.
func (x *explainContext) orderVariant(q sentQuery) variant {
	ours, inOrder := x.ours.query, strings.Join(q.canon, "&")
	return variant{
		creq:      x.withQuery(inOrder),
		client:    fmt.Sprintf("The client signed the query parameters in the order they were sent (`%s`), not sorted by name (`%s`).", inOrder, ours),
		clientFix: "The canonical query lists the parameters sorted by name, then value. Fix the signer (curl's --aws-sigv4 signed them unsorted until curl issue #9717 was fixed: upgrade curl), or send the parameters already sorted so that both orders agree: `?" + ours + "`.",
		server:    fmt.Sprintf("The server signed the query parameters in the order they were sent (`%s`), not sorted by name (`%s`) as Signature Version 4 requires.", inOrder, ours),
		serverFix: "The server is wrong; until it is fixed, send the parameters already sorted by name: `?" + ours + "`.",
	}
}

// encodingVariant signs the query as written, sorted but not re-encoded:
// a '+' for a space, a reserved character left bare, lower-case hex.
func (x *explainContext) encodingVariant(q sentQuery) variant {
	raw, canon := q.raw[q.firstRaw], q.canon[q.firstRaw]
	name, _, _ := strings.Cut(canon, "=")
	how := encodingWords(raw, canon)
	return variant{
		creq: x.withQuery(strings.Join(slices.Sorted(slices.Values(q.raw)), "&")),
		client: fmt.Sprintf("The client signed the query parameter `%s` encoded differently: as written in the URL, `%s`, where the canonical query has `%s` (%s).",
			name, raw, canon, how),
		clientFix: "Encode each query name and value the Signature Version 4 way when signing: every byte but A-Z a-z 0-9 - _ . ~ as %XX with upper-case hex, a space as %20 (never '+'). " +
			"Simplest is to send the URL already encoded that way (`" + canon + "`), so that the client's encoding and the canonical one agree.",
		server: fmt.Sprintf("The server signed the query parameter `%s` as written in the URL, `%s`, encoded differently from the canonical `%s` (%s).",
			name, raw, canon, how),
		serverFix: "The server does not re-encode the query; send it already in canonical form (`" + canon + "`), so that both agree.",
	}
}

// asWrittenVariant signs the query exactly as written: neither re-encoded
// nor sorted.
func (x *explainContext) asWrittenVariant(q sentQuery) variant {
	ours, raw := x.ours.query, strings.Join(q.raw, "&")
	return variant{
		creq:      x.withQuery(raw),
		client:    fmt.Sprintf("The client signed the query exactly as written, in the order sent and not re-encoded (`%s`), where the canonical query is encoded and sorted (`%s`).", raw, ours),
		clientFix: "Canonicalize the query when signing: decode and re-encode each name and value (%20 for a space, upper-case hex), then sort by name. Or send the query in that form: `?" + ours + "`.",
		server:    fmt.Sprintf("The server signed the query exactly as written (`%s`), neither re-encoded nor sorted (`%s`).", raw, ours),
		serverFix: "The server is wrong; until it is fixed, send the query already in canonical form: `?" + ours + "`.",
	}
}

// plusVariant reads a bare '+' in the query as a plus sign rather than a
// space.
func (x *explainContext) plusVariant(q sentQuery) variant {
	plus := strings.ReplaceAll(strings.Join(q.raw, "&"), "+", "%2B")
	return variant{
		creq:      x.withQuery(canonicalQuery(plus)),
		client:    "The client signed a '+' in the query as a plus sign (%2B), but in a query an unencoded '+' is a space (%20) to the server.",
		clientFix: "Send a plus sign as %2B in the URL (and a space as %20).",
		server:    "The server read a '+' in the query as a plus sign (%2B), where Signature Version 4 reads it as a space (%20).",
		serverFix: "Send a plus sign as %2B and a space as %20, never a bare '+', so that both readings agree.",
	}
}

// encodingWords says how a query component as written differs from its
// canonical form, at the first byte where they part.
func encodingWords(raw, canon string) string {
	i := 0
	for i < len(raw) && i < len(canon) && raw[i] == canon[i] {
		i++
	}
	esc := func(s string) string { return s[i:min(i+3, len(s))] }
	switch {
	case i == len(raw) || i == len(canon):
		return "the two end differently"
	case raw[i] == '+':
		return "a space is %20 there, not '+'"
	case raw[i] == '%' && canon[i] == '%':
		return "escapes take upper-case hex there: " + esc(canon) + ", not " + esc(raw)
	case raw[i] == '%':
		return fmt.Sprintf("'%c' is not escaped there: %s is %c", canon[i], esc(raw), canon[i])
	}
	return fmt.Sprintf("the reserved character '%c' must be escaped there as %s", raw[i], esc(canon))
}

// pathVariants apply the other path rule: S3's (encoded once, not
// normalized) for other services, the generic one (normalized, encoded
// twice) for S3.
func (x *explainContext) pathVariants() []variant {
	other := string(canonical.AppendURI(nil, x.sent.path, !x.s3))
	c := x.ours
	c.path = other
	v := variant{creq: c.String()}
	if x.s3 {
		v.client = fmt.Sprintf("The client signed the path by the rule of services other than Amazon S3 (`%s`: normalized, each segment encoded twice), where S3 and S3-compatible servers encode it once and leave it as it is (`%s`).", other, x.ours.path)
		v.clientFix = "Sign with Amazon S3's path rules: --service s3 (or --s3) here, the S3 signer or DisableURIPathEscaping in an AWS SDK. If the server is not S3-compatible, explain again without --s3."
		v.server = fmt.Sprintf("The server used the path rule of services other than Amazon S3 (`%s`: normalized, encoded twice), where the request was signed by S3's rule (`%s`: encoded once).", other, x.ours.path)
		v.serverFix = "The server does not treat this request as S3: sign with the service's own rules (not --s3), or configure the server for S3."
	} else {
		v.client = fmt.Sprintf("The client signed the path by Amazon S3's rule (`%s`: encoded once, not normalized), where service %s encodes each segment twice, after removing dot segments (`%s`).", other, x.service, x.ours.path)
		v.clientFix = "Sign with the generic path rules: only S3 encodes the path once. If the server is S3-compatible, explain again with --s3."
		v.server = fmt.Sprintf("The server used Amazon S3's path rule (`%s`: encoded once, not normalized), where the request was signed by the rule of every other service (`%s`: encoded twice).", other, x.ours.path)
		v.serverFix = fmt.Sprintf("The server treats the request as S3: if it is S3-compatible, sign with S3's rules (sigv4 sign --s3, or service s3); otherwise configure it for service %s.", x.service)
	}
	return append([]variant{v}, x.unescapedPathVariants()...)
}

// unescapedPathVariants sign the path as it was sent, not escaped again
// (as curl --aws-sigv4 does: `*`, `:`, `+`, `(`, `=`, `@`... left bare),
// and the path decoded (a space for %20), as clients that sign the URL
// before escaping it do.
func (x *explainContext) unescapedPathVariants() []variant {
	var vs []variant
	if bare := bareInPath(x.sent.path); bare != "" {
		c := x.ours
		c.path = x.sent.path
		vs = append(vs, variant{creq: c.String(),
			client: fmt.Sprintf("The client signed the path as it was sent, with %s not escaped (`%s`), where Signature Version 4 escapes every byte of a path but A-Z a-z 0-9 - _ . ~ and / (`%s`). curl --aws-sigv4 signs the path so.",
				bare, x.sent.path, x.ours.path),
			clientFix: fmt.Sprintf("Write the path escaped in the URL yourself (`%s`): the server reads the same name, and the client signs what it sends; or send it with sigv4 curl, which escapes it when signing.", canonical.AppendURI(nil, x.sent.path, true)),
			server:    fmt.Sprintf("The server used the path as it arrived, with %s not escaped (`%s`), where Signature Version 4 escapes them (`%s`).", bare, x.sent.path, x.ours.path),
			serverFix: "The server does not canonicalize the path; until it is fixed, send the path with those characters escaped (%XX), which it then signs as the client does.",
		})
	}
	if decoded := pathUnescaped(x.sent.path); decoded != x.sent.path {
		c := x.ours
		c.path = decoded
		vs = append(vs, variant{creq: c.String(),
			client:    fmt.Sprintf("The client signed the path decoded (`%s`), as it was before escaping, where the canonical path is escaped (`%s`).", decoded, x.ours.path),
			clientFix: "Sign the path as it is sent, escaped: a client that builds the URL after signing must sign the escaped path (the AWS SDKs do). Or send it with sigv4 curl.",
			server:    fmt.Sprintf("The server used the path decoded (`%s`), not escaped again (`%s`).", decoded, x.ours.path),
			serverFix: "The server canonicalizes the decoded path without escaping it; it is wrong. Until it is fixed, use names without characters that need escaping.",
		})
	}
	return vs
}

// bareInPath names, quoted, the characters of a path as sent that
// Signature Version 4 escapes but were sent bare.
func bareInPath(p string) string {
	var found []string
	for _, r := range p {
		unreserved := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~/%", r))
		if q := "`" + string(r) + "`"; !unreserved && !slices.Contains(found, q) {
			found = append(found, q)
		}
	}
	return strings.Join(found, ", ")
}

// pathUnescaped is p with its %XX escapes decoded, or p if one is bad.
func pathUnescaped(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}

// whitespaceVariants sign each header's value as sent, neither trimmed
// nor collapsed.
func (x *explainContext) whitespaceVariants() []variant {
	c, first, raw := x.ours, "", ""
	for i, line := range x.ours.headers {
		name, _, _ := strings.Cut(line, ":")
		value := x.sent.rawValue(name)
		if name == "host" {
			value = x.sent.host()
		}
		if name+":"+value != line {
			c = c.withHeader(i, name+":"+value)
			if first == "" {
				first, raw = name, value
			}
		}
	}
	if first == "" {
		return nil
	}
	canon, _ := x.ours.header(first)
	words := whitespaceWords(raw)
	return []variant{{
		creq:      c.String(),
		client:    fmt.Sprintf("Header `%s` value %s: the canonical form is `%s`, but the client signed the value as sent, `%s`.", first, words, canon, raw),
		clientFix: "Trim each header value and turn every run of white space into one space when signing, or send the value that way.",
		server:    fmt.Sprintf("The server signed header `%s` as sent, `%s`, where the canonical form trims it and collapses its white space to `%s`.", first, raw, canon),
		serverFix: "The server is wrong (Signature Version 4 trims values and collapses white space); send the value with single spaces, so that both agree.",
	}}
}

func whitespaceWords(raw string) string {
	switch {
	case strings.Contains(raw, "  "):
		return "has a double space that the server collapsed"
	case strings.ContainsAny(raw, "\t\v\f"):
		return "has a tab that the server turned into a space"
	case strings.TrimRight(raw, " ") != raw:
		return "has trailing white space that the server trimmed"
	case strings.TrimLeft(raw, " ") != raw:
		return "has leading white space that the server trimmed"
	}
	return "has white space that the server collapsed"
}

// hostVariants sign the host with the port the request did not send, or
// without the port it did.
func (x *explainContext) hostVariants() []variant {
	_, i := x.ours.header("host")
	if i < 0 {
		return nil
	}
	sent := x.sent.host()
	if h, _, err := net.SplitHostPort(sent); err == nil {
		return []variant{{
			creq:      x.ours.withHeader(i, "host:"+h).String(),
			client:    fmt.Sprintf("The client signed header `host` as `%s`, without the port it sent (`Host: %s`).", h, sent),
			clientFix: "Sign the Host header exactly as sent: a non-default port is part of it.",
			server:    fmt.Sprintf("The server signed header `host` as `%s`, without the port the request was sent with (`%s`).", h, sent),
			serverFix: "A proxy took the port out of Host, or the server rebuilt Host itself: make the proxy pass Host unchanged (nginx: proxy_set_header Host $http_host).",
		}}
	}
	var vs []variant
	for _, port := range []string{":443", ":80"} {
		vs = append(vs, variant{
			creq:      x.ours.withHeader(i, "host:"+sent+port).String(),
			client:    fmt.Sprintf("The client signed header `host` as `%s`, with a port the request did not send (`Host: %s`).", sent+port, sent),
			clientFix: "Sign the Host header as sent: the SDKs leave :443 (https) and :80 (http) out of both the header and the signature.",
			server:    fmt.Sprintf("The server signed header `host` as `%s`, with a port the request was not sent with (`%s`).", sent+port, sent),
			serverFix: "A proxy added the port to Host, or the server rebuilt Host from its own address: make the proxy pass Host unchanged.",
		})
	}
	return vs
}

// payloadVariants sign the other payload hashes a side might choose.
func (x *explainContext) payloadVariants() []variant {
	body := hashHex(string(x.sent.file.Body))
	var vs []variant
	for _, h := range []string{sigv4.UnsignedPayload, body, sigv4.EmptySHA256, x.sent.declaredHash()} {
		if h == "" || h == x.ours.payload {
			continue
		}
		c := x.ours
		c.payload = h
		vs = append(vs, variant{
			creq: c.String(),
			client: fmt.Sprintf("The client signed the payload hash %s (%s), where the server uses %s (%s).",
				shortHash(h), x.hashWords(h), shortHash(x.ours.payload), x.payloadSource()),
			clientFix: x.payloadFix(),
			server: fmt.Sprintf("The server used the payload hash %s (%s), where the request as sent calls for %s (%s).",
				shortHash(h), x.hashWords(h), shortHash(x.ours.payload), x.payloadSource()),
			serverFix: "Declare the payload hash you sign in x-amz-content-sha256, so that the server need not guess it.",
		})
	}
	return vs
}

// hashWords names a payload hash.
func (x *explainContext) hashWords(h string) string {
	switch h {
	case sigv4.UnsignedPayload:
		return "the body not signed"
	case sigv4.EmptySHA256:
		return "the SHA-256 of an empty body"
	case hashHex(string(x.sent.file.Body)):
		return "the SHA-256 of the body"
	}
	return "not the SHA-256 of this body"
}

// payloadSource says why a correct server uses the payload hash ours has.
func (x *explainContext) payloadSource() string {
	switch {
	case x.sent.declaredHash() != "":
		return "the x-amz-content-sha256 the request declares"
	case x.sent.presigned && x.ours.payload == sigv4.UnsignedPayload:
		return "what every presigned S3 URL without X-Amz-Content-Sha256 signs"
	}
	return x.hashWords(x.ours.payload) + ", which a server hashes itself when the request declares no x-amz-content-sha256"
}

func (x *explainContext) payloadFix() string {
	switch {
	case x.sent.declaredHash() != "":
		return "Sign the payload hash the request declares in x-amz-content-sha256, or declare the one you sign."
	case x.sent.presigned:
		return "A presigned S3 URL signs UNSIGNED-PAYLOAD unless it carries X-Amz-Content-Sha256: sign that, or add the parameter."
	}
	return "Sign the SHA-256 of exactly the bytes sent, or declare what you sign in an x-amz-content-sha256 header " +
		"(UNSIGNED-PAYLOAD is accepted that way by S3)."
}

// shortHash abbreviates a hex hash for a sentence.
func shortHash(h string) string {
	if len(h) == 64 {
		return h[:12] + "..."
	}
	return h
}
