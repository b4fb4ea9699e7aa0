package main

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
)

// formBoundary separates the parts of a -F body, chosen once per run as
// curl does.
var formBoundary = func() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "------------------------" + hex.EncodeToString(b)
}()

// formBody builds the multipart/form-data body of the -F fields, in a
// temporary file (a file part may be large, and the body is hashed
// before it is sent).
func (o *curlOptions) formBody(stdin io.Reader) (*body, func(), error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		w := multipart.NewWriter(pw)
		w.SetBoundary(formBoundary)
		for _, f := range o.forms {
			if err := writeFormField(w, f, stdin); err != nil {
				pw.CloseWithError(err)
				done <- err
				return
			}
		}
		err := w.Close()
		pw.CloseWithError(err)
		done <- err
	}()
	b, cleanup, err := spool(pr)
	pr.Close()
	if ferr := <-done; ferr != nil {
		return nil, cleanup, ferr // the field's own error, not the pipe's
	}
	return b, cleanup, err
}

// writeFormField writes one -F field: name=value, name=@file,
// name=<file, each with ;type=TYPE and ;filename=NAME after it.
func writeFormField(w *multipart.Writer, spec string, stdin io.Reader) error {
	name, value, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return fmt.Errorf("-F %q: want name=value, name=@FILE or name=<FILE: %w", spec, errUsage)
	}
	var contentType, filename string
	hasFilename := false
	if value != "" && (value[0] == '@' || value[0] == '<') {
		parts := strings.Split(value, ";")
		value = parts[0]
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			switch strings.TrimSpace(k) {
			case "type":
				contentType = v
			case "filename":
				filename, hasFilename = v, true
			default:
				return fmt.Errorf("-F %q: unknown ;%s (want ;type= or ;filename=): %w", spec, k, errUsage)
			}
		}
	} else if v, t, ok := strings.Cut(value, ";type="); ok {
		value, contentType = v, t
	}
	h := textproto.MIMEHeader{}
	switch {
	case strings.HasPrefix(value, "@"):
		path := value[1:]
		if !hasFilename {
			filename = filepath.Base(path)
		}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteForm(name), quoteForm(filename)))
		h.Set("Content-Type", cmp.Or(contentType, formFileType(filename)))
		return copyPart(w, h, path, stdin)
	case strings.HasPrefix(value, "<"):
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, quoteForm(name)))
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		return copyPart(w, h, value[1:], stdin)
	}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, quoteForm(name)))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	pw, err := w.CreatePart(h)
	if err == nil {
		_, err = io.WriteString(pw, value)
	}
	return err
}

func copyPart(w *multipart.Writer, h textproto.MIMEHeader, path string, stdin io.Reader) error {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return exitErrorf(26, "cannot read %s: %v", path, err)
		}
		defer f.Close()
		r = f
	}
	pw, err := w.CreatePart(h)
	if err == nil {
		_, err = io.Copy(pw, r)
	}
	return err
}

// quoteForm escapes a name for a Content-Disposition parameter, as curl
// does: backslash and double quote.
func quoteForm(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// formFileType is the Content-Type curl gives a file part by its name's
// extension, where -F says none.
func formFileType(filename string) string {
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".gif":
		return "image/gif"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain"
	case ".htm", ".html":
		return "text/html"
	case ".pdf":
		return "application/pdf"
	case ".xml":
		return "application/xml"
	}
	return "application/octet-stream"
}
