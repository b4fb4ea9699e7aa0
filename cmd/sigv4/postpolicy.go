package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sigv4/sigv4/postpolicy"
)

var postPolicyCommand = &command{
	name:    "post-policy",
	summary: "sign a browser upload form (an S3 POST policy): the fields as JSON, or an HTML page",
	usage: `Usage: sigv4 post-policy --bucket BUCKET --key KEY [flags]

Signs a POST policy with the credentials the AWS CLI would use: what a
browser may upload, where, how big, until when. The secret stays here: the
page or the fields carry only the policy and its signature. KEY may hold
${filename}, the name of the file the browser sends.

Examples:
  sigv4 post-policy --bucket photos --key 'uploads/${filename}' --max-size 10MB --expires 1h \
    --content-type-prefix image/
  sigv4 post-policy --bucket photos --key 'uploads/${filename}' --endpoint http://127.0.0.1:8080 \
    --redirect http://127.0.0.1:3000/done --html > upload.html

Flags:
`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &postPolicyOptions{}
		fs.StringVar(&o.bucket, "bucket", "", "the bucket (required)")
		fs.StringVar(&o.key, "key", "", "the object key, or its prefix with ${filename} (required)")
		fs.StringVar(&o.keyPrefix, "key-prefix", "", "let the browser choose any key starting with this instead of --key")
		fs.Var(&o.maxSize, "max-size", "the largest file, in `bytes` (10MB, 1GiB; default 5GiB)")
		fs.StringVar(&o.expires, "expires", "1h", "how long the form is good for: a duration (15m, 12h) or seconds")
		fs.StringVar(&o.contentType, "content-type", "", "the file's Content-Type, fixed")
		fs.StringVar(&o.contentTypePrefix, "content-type-prefix", "", "the Content-Type must start with this (image/)")
		fs.StringVar(&o.acl, "acl", "", "the object's canned ACL (private, public-read...)")
		fs.StringVar(&o.redirect, "redirect", "", "where the browser goes after the upload (success_action_redirect)")
		fs.StringVar(&o.endpoint, "endpoint", "", "the `URL` the form posts to, path-style (default https://BUCKET.s3.REGION.amazonaws.com/)")
		fs.StringVar(&o.region, "region", "", "region of the credential scope (default: the profile's, else us-east-1)")
		fs.StringVar(&o.profile, "profile", "", "AWS CLI profile (default: AWS_PROFILE)")
		fs.BoolVar(&o.html, "html", false, "print an HTML page with the form instead of JSON")
		o.maxSize = 5 << 30
		return func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			return o.run(context.Background(), stdout)
		}
	},
}

type postPolicyOptions struct {
	bucket, key, keyPrefix, expires, contentType, contentTypePrefix string
	acl, redirect, endpoint, region, profile                        string
	maxSize                                                         byteSize
	html                                                            bool
}

func (o *postPolicyOptions) run(ctx context.Context, stdout io.Writer) error {
	if o.bucket == "" || (o.key == "") == (o.keyPrefix == "") {
		return fmt.Errorf("give --bucket, and --key or --key-prefix: %w", errUsage)
	}
	ttl, err := parseExpires(o.expires)
	if err != nil {
		return err
	}
	id, err := resolveIdentity(ctx, o.profile)
	if err != nil {
		return err
	}
	region := or(o.region, or(id.region, "us-east-1"))
	fields, conds := map[string]string{"bucket": o.bucket}, []postpolicy.Condition{postpolicy.ContentLengthRange(0, int64(o.maxSize))}
	switch {
	case o.keyPrefix != "":
		conds = append(conds, postpolicy.StartsWith("key", o.keyPrefix))
	default:
		fields["key"] = o.key
		if prefix, _, ok := strings.Cut(o.key, "${filename}"); ok {
			conds = append(conds, postpolicy.StartsWith("key", prefix))
		}
	}
	switch {
	case o.contentType != "":
		fields["Content-Type"] = o.contentType
	case o.contentTypePrefix != "":
		conds = append(conds, postpolicy.StartsWith("Content-Type", o.contentTypePrefix))
	}
	if o.acl != "" {
		fields["acl"] = o.acl
	}
	if o.redirect != "" {
		fields["success_action_redirect"] = o.redirect
	}
	now := time.Now()
	signed, err := postpolicy.Sign(postpolicy.Policy{Expiration: now.Add(ttl), Conditions: conds}, id.creds, region, now, fields)
	if err != nil {
		return err
	}
	url := "https://" + o.bucket + ".s3." + region + ".amazonaws.com/"
	if o.endpoint != "" {
		url = strings.TrimSuffix(o.endpoint, "/") + "/" + o.bucket
	}
	if !o.html {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			URL    string            `json:"url"`
			Fields map[string]string `json:"fields"`
		}{url, signed})
	}
	names := make([]string, 0, len(signed))
	for k := range signed {
		names = append(names, k)
	}
	slices.Sort(names)
	var page struct {
		URL, Bucket, TypePrefix string
		Fields                  []struct{ Name, Value string }
		Free                    bool // the browser may choose the key
	}
	page.URL, page.Bucket, page.TypePrefix, page.Free = url, o.bucket, o.contentTypePrefix, o.keyPrefix != ""
	for _, k := range names {
		page.Fields = append(page.Fields, struct{ Name, Value string }{k, signed[k]})
	}
	return uploadPage.Execute(stdout, page)
}

var uploadPage = template.Must(template.New("upload").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Upload to {{.Bucket}}</title></head>
<body>
<form action="{{.URL}}" method="post" enctype="multipart/form-data">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{if .Free}}<label>Key <input type="text" name="key"></label>
{{end}}{{if .TypePrefix}}<label>Content-Type <input type="text" name="Content-Type" value="{{.TypePrefix}}"></label>
{{end}}<input type="file" name="file" id="file">
<input type="submit" value="Upload" id="upload">
</form>
</body>
</html>
`))
