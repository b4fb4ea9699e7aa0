package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// keyJSON is a key as "sigv4 keys --json" prints it. The field names are
// a contract with scripts: add fields, never rename one.
type keyJSON struct {
	AccessKeyId string
	Name        string
	Principal   string
	Status      credstore.Status // "active" or "disabled"
	Expired     bool
	Created     string
	LastUsed    string   `json:",omitempty"`
	Expiration  string   `json:",omitempty"`
	Services    []string `json:",omitempty"`
	Regions     []string `json:",omitempty"`
	Parent      string   `json:",omitempty"` // of a session
}

// newKeyJSON is a key with its secret, as create, rotate and session print
// it: also the output of an AWS CLI credential_process.
type newKeyJSON struct {
	Version int // 1, for credential_process
	keyJSON
	SecretAccessKey string
	SessionToken    string `json:",omitempty"`
}

func keyJSONOf(k credstore.Key, now time.Time) keyJSON {
	return keyJSON{
		AccessKeyId: k.AccessKeyID, Name: k.Name, Principal: k.Principal, Status: k.Status,
		Expired: k.Expired(now), Created: formatTime(k.Created), LastUsed: formatTime(k.LastUsed),
		Expiration: formatTime(k.Expires), Services: k.Services, Regions: k.Regions, Parent: k.Parent,
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printNewKey prints a key with its secret: JSON, or shell lines to paste
// or eval, with what the key is in comments.
func printNewKey(w io.Writer, k credstore.Key, creds sigv4.Credentials, asJSON bool, note string) error {
	if asJSON {
		return writeJSON(w, newKeyJSON{Version: 1, keyJSON: keyJSONOf(k, time.Now()),
			SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken})
	}
	what := "Access key"
	if k.Temporary() {
		what = "Session of " + k.Parent
	}
	fmt.Fprintf(w, "# %s for %s (%s)%s.\n", what, k.Name, k.Principal, describeLimits(k))
	if note != "" {
		fmt.Fprintf(w, "# It %s.\n", note)
	}
	fmt.Fprintf(w, "# The secret is shown only now: keep it safe.\n")
	fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", creds.AccessKeyID, creds.SecretAccessKey)
	if creds.SessionToken != "" {
		fmt.Fprintf(w, "export AWS_SESSION_TOKEN=%s\n", creds.SessionToken)
	}
	return nil
}

func describeLimits(k credstore.Key) string {
	var s string
	if !k.Expires.IsZero() {
		s += ", until " + formatTime(k.Expires)
	}
	if len(k.Services) > 0 {
		s += ", for " + strings.Join(k.Services, ", ")
	}
	if len(k.Regions) > 0 {
		s += ", in " + strings.Join(k.Regions, ", ")
	}
	return s
}

// printKeyList prints keys, without secrets: JSON, or a table.
func printKeyList(w io.Writer, keys []credstore.Key, now time.Time, asJSON bool) error {
	if asJSON {
		out := make([]keyJSON, len(keys))
		for i, k := range keys {
			out[i] = keyJSONOf(k, now)
		}
		return writeJSON(w, out)
	}
	if len(keys) == 0 {
		_, err := fmt.Fprintln(w, `No access keys: create one with "sigv4 keys create --name NAME".`)
		return err
	}
	byID := make(map[string]credstore.Key, len(keys))
	for _, k := range keys {
		byID[k.AccessKeyID] = k
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tNAME\tSTATUS\tCREATED\tLAST USED\tEXPIRES\tSERVICES\tREGIONS\tSESSION OF")
	for _, k := range keys {
		status := keyState(k, now)
		if k.Temporary() && status == "active" { // a session works only while its parent does
			if p, ok := byID[k.Parent]; !ok {
				status = "parent deleted"
			} else if ps := keyState(p, now); ps != "active" {
				status = "parent " + ps
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.AccessKeyID, k.Name, status,
			orDash(formatTime(k.Created)), orDash(formatTime(k.LastUsed)), orDash(formatTime(k.Expires)),
			orAny(k.Services), orAny(k.Regions), orDash(k.Parent))
	}
	return tw.Flush()
}

// keyState is "active", "disabled" or "expired".
func keyState(k credstore.Key, now time.Time) string {
	if k.Status == credstore.Active && k.Expired(now) {
		return "expired"
	}
	return string(k.Status)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orAny(l []string) string {
	if len(l) == 0 {
		return "any"
	}
	return strings.Join(l, ",")
}
