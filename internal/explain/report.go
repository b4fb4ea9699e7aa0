package explain

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Report is what explain found, and what it prints: the request, notes, a comparison of the
// other side's canonical request and string to sign with ours, and the
// findings.
type Report struct {
	sent      *sentRequest
	server    *serverError // nil without --error
	notes     []string
	scopeHint *finding // the server expects another region or service

	// The comparison: other (the server's, or what the client signed)
	// against ours. Without other, ours is shown alone.
	other, ours         signing
	otherName, oursName string
	result              finding
	also                []finding

	secretKey string // the signer's, if found: for the page's key derivation
}

func (r *Report) note(s string) { r.notes = append(r.notes, s) }

func (r *Report) compare(other signing, otherName, oursName string) {
	r.other, r.otherName, r.oursName = other, otherName, oursName
}

// tokenNote warns when the request's session token is not that of the
// credentials: another token means another secret.
func (r *Report) tokenNote(token string) {
	sent := r.sent.header.Get("X-Amz-Security-Token")
	if r.sent.presigned {
		sent = r.sent.auth.SecurityToken
	}
	switch {
	case token != "" && sent != token:
		r.note("The request's session token is not that of the credentials found: temporary credentials are renewed, and the client may have signed with older ones, whose secret differs.")
	case token == "" && sent != "":
		r.note("The request carries a session token, but the credentials found are long-term: the client signed with temporary credentials, whose secret is another.")
	}
}

// signatureCheck checks the signature sent: signs says whether it is the
// signature of a string to sign, with the signer's secret; nil when the
// secret is not known.
type signatureCheck struct {
	x     *explainContext
	ours  signing
	signs func(sts string) bool
}

func (c *signatureCheck) known() bool { return c.signs != nil }

func (c *signatureCheck) correct() bool { return c.known() && c.signs(c.ours.sts) }

// clientSigned finds what the client signed among the variants of ours.
func (c *signatureCheck) clientSigned() (variant, signing, bool) {
	if !c.known() || c.correct() {
		return variant{}, signing{}, false
	}
	for _, v := range c.x.variants() {
		sts := withCreq(c.ours.sts, v.creq)
		if c.signs(sts) {
			return v, signing{v.creq, sts}, true
		}
	}
	return variant{}, signing{}, false
}

func (r *Report) analyze(x *explainContext, ours signing, signs func(string) bool) {
	r.ours = ours
	c := &signatureCheck{x: x, ours: ours, signs: signs}
	if r.server == nil || !r.server.computed() {
		if r.server != nil {
			r.note("The server's error body quotes neither its canonical request nor its string to sign: explain checks the signature with your credentials instead.")
		}
		r.againstSignature(c)
		return
	}
	if p, provided := r.server.SignatureProvided, r.sent.auth.Signature; p != "" && p != provided {
		r.note(fmt.Sprintf("The server's error names signature %s, but the request's is %s: the error may be from another attempt (a retry signs again, with a new time).", shortHash(p), shortHash(provided)))
	}
	if k, akid := r.server.AccessKeyID, r.sent.auth.Credential.AccessKeyID; k != "" && k != akid {
		r.note(fmt.Sprintf("The server's error names access key %s, but the request was signed with %s.", k, akid))
	}
	r.againstServer(c)
}

// againstServer compares the server's computation with ours, in the order
// of the string to sign: time and scope first, then the canonical request,
// then, when all agree, the signature.
func (r *Report) againstServer(c *signatureCheck) {
	x := c.x
	srv := signing{r.server.CanonicalRequest, r.server.StringToSign}
	if srv.sts == "" {
		srv.sts = withCreq(c.ours.sts, srv.creq)
		r.note("The server's error body has no string to sign; explain assumes the server used the request's time and scope.")
	}
	r.compare(srv, "the server's", "ours")
	srvCreq, parsed := parseCreq(srv.creq)
	if c.known() && srv.sts != c.ours.sts && c.signs(srv.sts) {
		r.result = finding{
			cause: "The client signed exactly what the server computed, with the secret access key found here: the server holds another secret for " + r.sent.auth.Credential.AccessKeyID + ". (Ours differs from both: check --s3 and --service.)",
			fix:   "Use the secret the server has for this access key: check the credentials the server was configured with, and whether the key was rotated.",
		}
		return
	}
	if f, ok := x.stsDifference(srv.sts, c.ours.sts, srvCreq, parsed); ok {
		r.result = f
		r.alsoClient(c)
		return
	}
	if lastLineOf(srv.sts) != lastLineOf(c.ours.sts) {
		r.result = r.serverCreqFinding(x, srv, srvCreq, parsed)
		r.alsoClient(c)
		return
	}
	r.sameAsServer(c)
}

// serverCreqFinding names how the server's canonical request differs from
// ours: by a known variant if one reproduces it, which also serves when
// the server sent only its hash, else line by line.
func (r *Report) serverCreqFinding(x *explainContext, srv signing, srvCreq creq, parsed bool) finding {
	for _, v := range x.variants() {
		if v.creq == srv.creq {
			return finding{v.server, v.serverFix}
		}
		if srv.creq == "" && hashHex(v.creq) == lastLineOf(srv.sts) {
			r.other.creq = v.creq
			r.note("The server's error body has no canonical request: the one shown as the server's is reproduced, and hashes to the hash in the server's string to sign.")
			return finding{v.server, v.serverFix}
		}
	}
	switch {
	case parsed:
		return x.creqDifference(srvCreq)
	case srv.creq == "":
		return finding{
			cause: "The server's canonical request differs from ours (the hash in its string to sign is another), but its error body does not include it, and no common difference reproduces it.",
			fix:   "Get the server's canonical request (S3 sends it as <CanonicalRequest>; a server you run can log it) and explain again.",
		}
	}
	return finding{
		cause: "The server's canonical request differs from ours, and is not in the usual form: compare the two above.",
		fix:   "Sign what the server computes, or fix the server.",
	}
}

// alsoClient adds what the client did wrong, beyond the server's
// difference.
func (r *Report) alsoClient(c *signatureCheck) {
	if !c.known() || c.correct() {
		return
	}
	if v, _, ok := c.clientSigned(); ok {
		r.also = append(r.also, finding{v.client, v.clientFix})
		return
	}
	r.also = append(r.also, finding{
		cause: "The signature is not the one the credentials found give for the request as sent either: the client signed something else too, or with another secret.",
		fix:   "Fix the difference above first, then explain again.",
	})
}

// sameAsServer explains a server that computed what we compute: the
// difference is in the signature, so in the secret or in what the client
// signed.
func (r *Report) sameAsServer(c *signatureCheck) {
	akid := r.sent.auth.Credential.AccessKeyID
	switch {
	case !c.known():
		r.result = finding{
			cause: "The server's canonical request and string to sign are the same as ours: the client signed something else, or with another secret access key.",
			fix:   "Give the credentials of " + akid + " (the environment, or --profile) to tell which.",
		}
	case c.correct():
		r.result = finding{
			cause: "The canonical request and string to sign are identical, and the signature is the right one for the secret access key found here for " + akid + ": the server holds another secret for this access key ID.",
			fix:   "Use the secret the server has for " + akid + ": check the profile or secret store the client reads, whether the key was rotated, and for an S3-compatible server the keys it was configured with.",
		}
	default:
		if v, signed, ok := c.clientSigned(); ok {
			r.compare(signed, "what the client signed (reproduced)", "the server's and ours")
			r.result = finding{v.client, v.clientFix}
			return
		}
		r.result = finding{
			cause: "The server's canonical request and string to sign are the same as ours, but the signature is not the one the secret access key found here gives: the client signed with another secret, or canonicalized the request in a way explain does not reproduce.",
			fix:   "Check which credentials the client used (its profile, its environment, an expired temporary key), and compare its canonical request (aws --debug, curl -v, the SDK's debug log) with the one above.",
		}
	}
}

// againstSignature checks the signature with no word from the server.
func (r *Report) againstSignature(c *signatureCheck) {
	s := r.sent
	switch {
	case !c.known():
		r.result = finding{
			cause: "The signature cannot be checked without the credentials of " + s.auth.Credential.AccessKeyID + ".",
			fix:   "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile.",
		}
	case c.correct() && r.scopeHint != nil:
		r.result = finding{"This request is correctly signed for these credentials, but: " + r.scopeHint.cause, r.scopeHint.fix}
	case c.correct():
		r.result = finding{
			cause: fmt.Sprintf("This request is correctly signed for these credentials (%s, %s): a server that computes what Signature Version 4 specifies accepts it.", s.auth.Credential.AccessKeyID, s.scope()),
			fix: fmt.Sprintf("If the server answers SignatureDoesNotMatch, the server must disagree on something the request does not show: "+
				"check the region (%s) and service (%s) it expects, that it holds the same secret for %s, and its clock (the request says %s); "+
				"and whether a proxy changes the host, path, query, headers or body on the way. Explain again with --error and the server's response body to pinpoint it.",
				s.auth.Credential.Region, s.auth.Credential.Service, s.auth.Credential.AccessKeyID, s.amzDate),
		}
	default:
		if v, signed, ok := c.clientSigned(); ok {
			r.compare(signed, "what the client signed (reproduced)", "what a correct server computes")
			r.result = finding{v.client, v.clientFix}
			return
		}
		r.result = finding{
			cause: "The signature is not the one these credentials give for this request, and no common signing mistake reproduces it: most likely the client signed with another secret access key, or canonicalized something differently.",
			fix:   "Check which credentials the client used (its profile, its environment, an expired temporary key), and compare its canonical request (aws --debug, curl -v, the SDK's debug log) with ours above.",
		}
	}
}

func lastLineOf(s string) string { return s[strings.LastIndexByte(s, '\n')+1:] }

// WriteText writes the report as "sigv4 explain" prints it.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s := r.sent
	form := "Authorization header"
	if s.presigned {
		form = "presigned URL"
	}
	fmt.Fprintf(bw, "Request: %s %s\n", s.file.Method, s.file.Target)
	fmt.Fprintf(bw, "         Host %s, signed by %s for %s at %s (%s)\n", s.host(), s.auth.Credential.AccessKeyID, s.scope(), s.amzDate, form)
	if r.server != nil {
		fmt.Fprintf(bw, "Server:  %s\n", r.server.Code)
	}
	for _, n := range r.notes {
		writeWrapped(bw, "Note:  ", n)
	}
	if r.ours.creq != "" {
		r.writeComparison(bw)
	}
	fmt.Fprintln(bw)
	writeWrapped(bw, "Cause: ", r.result.cause)
	writeWrapped(bw, "Fix:   ", r.result.fix)
	for _, f := range r.also {
		writeWrapped(bw, "Also:  ", f.cause)
		writeWrapped(bw, "Fix:   ", f.fix)
	}
	return bw.Flush()
}

func (r *Report) writeComparison(w io.Writer) {
	for _, part := range []struct{ title, other, ours string }{
		{"canonical request", r.other.creq, r.ours.creq},
		{"string to sign", r.other.sts, r.ours.sts},
	} {
		fmt.Fprintln(w)
		switch {
		case r.otherName == "":
			fmt.Fprintf(w, "# %s (ours)\n", part.title)
			writeDiff(w, part.ours, part.ours)
		case part.other == "":
			fmt.Fprintf(w, "# %s (ours; the server did not send its own)\n", part.title)
			writeDiff(w, part.ours, part.ours)
		case part.other == part.ours:
			fmt.Fprintf(w, "# %s: %s and %s are the same\n", part.title, r.otherName, r.oursName)
			writeDiff(w, part.ours, part.ours)
		default:
			fmt.Fprintf(w, "# %s: \"-\" %s, \"+\" %s\n", part.title, r.otherName, r.oursName)
			writeDiff(w, part.other, part.ours)
		}
	}
}

// writeWrapped writes label and text, wrapped at 79 columns under the
// label. Text between backticks is never broken, so that a quoted value
// keeps its white space.
func writeWrapped(w io.Writer, label, text string) {
	const width = 79
	indent := strings.Repeat(" ", len(label))
	line, empty := label, true
	for _, word := range wrapWords(text) {
		switch {
		case empty:
			line += word
			empty = false
		case len(line)+1+len(word) > width:
			fmt.Fprintln(w, line)
			line = indent + word
		default:
			line += " " + word
		}
	}
	fmt.Fprintln(w, line)
}

// wrapWords splits text at spaces outside backticks.
func wrapWords(text string) []string {
	var out []string
	start, quoted := -1, false
	for i := 0; i <= len(text); i++ {
		if i < len(text) && text[i] == '`' {
			quoted = !quoted
		}
		boundary := i == len(text) || text[i] == ' ' && !quoted
		switch {
		case boundary && start >= 0:
			out = append(out, text[start:i])
			start = -1
		case !boundary && start < 0:
			start = i
		}
	}
	return out
}

// Cause is the finding, in words; Fix is what to do about it.
func (r *Report) Cause() string { return r.result.cause }

// Fix is what to do about the Cause.
func (r *Report) Fix() string { return r.result.fix }
