package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
	"github.com/sigv4/sigv4/credstore/storetest"
)

// keysStore returns the --store URL of a new store in a temporary directory.
func keysStore(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
}

// keysRun runs "sigv4 keys args..." and fails the test on a non-zero exit.
func keysRun(t *testing.T, store string, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, "", append([]string{"keys", "--store", store}, args...)...)
	if code != 0 {
		t.Fatalf("sigv4 keys %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// keysCreate runs a keys command that prints a new key in JSON, and
// returns it.
func keysNewJSON(t *testing.T, store string, args ...string) newKeyJSON {
	t.Helper()
	var k newKeyJSON
	out := keysRun(t, store, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	return k
}

func keysList(t *testing.T, store string) map[string]keyJSON {
	t.Helper()
	var list []keyJSON
	out := keysRun(t, store, "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	m := make(map[string]keyJSON)
	for _, k := range list {
		m[k.AccessKeyId] = k
	}
	return m
}

// keysVerify verifies a request signed with creds against the store.
func keysVerify(t *testing.T, store string, creds sigv4.Credentials, region, service string) error {
	t.Helper()
	s, err := credstore.Open(t.Context(), store, &credstore.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = storetest.VerifyRequest(s, creds, region, service, time.Now())
	return err
}

func credsOf(k newKeyJSON) sigv4.Credentials {
	return sigv4.Credentials{AccessKeyID: k.AccessKeyId, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken}
}

var exportLine = regexp.MustCompile(`(?m)^export (AWS_[A-Z_]+)=(\S+)$`)

func TestKeysCreateText(t *testing.T) {
	store := keysStore(t)
	out := keysRun(t, store, "create", "--name", "alice", "--services", "s3", "--regions", "eu-west-1,us-east-1", "--expires", "90d")
	env := map[string]string{}
	for _, m := range exportLine.FindAllStringSubmatch(out, -1) {
		env[m[1]] = m[2]
	}
	creds := sigv4.Credentials{AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]}
	if !strings.HasPrefix(creds.AccessKeyID, "AKIA") || len(creds.SecretAccessKey) != 40 || len(env) != 2 {
		t.Fatalf("create printed no export lines for a new key:\n%s", out)
	}
	if !strings.Contains(out, "arn:aws:iam::000000000000:user/alice") {
		t.Errorf("create does not name the principal:\n%s", out)
	}
	if err := keysVerify(t, store, creds, "eu-west-1", "s3"); err != nil {
		t.Errorf("the new key does not verify: %v", err)
	}
	if err := keysVerify(t, store, creds, "eu-west-1", "sqs"); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("the key signs for a service outside --services: %v", err)
	}

	list := keysRun(t, store, "list")
	if !strings.Contains(list, creds.AccessKeyID) || !strings.Contains(list, "alice") || !strings.Contains(list, "eu-west-1,us-east-1") {
		t.Errorf("list:\n%s", list)
	}
	if strings.Contains(list, creds.SecretAccessKey) || strings.Contains(keysRun(t, store, "list", "--json"), creds.SecretAccessKey) {
		t.Error("list prints the secret")
	}
	k := keysList(t, store)[creds.AccessKeyID]
	exp, err := time.Parse(time.RFC3339, k.Expiration)
	if err != nil || k.Status != credstore.Active || k.Expired || time.Until(exp) < 89*24*time.Hour || time.Until(exp) > 91*24*time.Hour {
		t.Errorf("list --json: %+v (%v): want active, expiring in 90 days", k, err)
	}
}

func TestKeysCreateJSON(t *testing.T) {
	store := keysStore(t)
	k := keysNewJSON(t, store, "create", "--name", "ci", "--principal", "arn:aws:iam::123456789012:user/ci", "--expires", "2099-01-31")
	if k.Version != 1 || !strings.HasPrefix(k.AccessKeyId, "AKIA") || len(k.SecretAccessKey) != 40 || k.SessionToken != "" ||
		k.Name != "ci" || k.Principal != "arn:aws:iam::123456789012:user/ci" || k.Expiration != "2099-01-31T00:00:00Z" || k.Created == "" {
		t.Errorf("create --json = %+v", k)
	}
	if err := keysVerify(t, store, credsOf(k), "us-east-1", "s3"); err != nil {
		t.Error(err)
	}
}

func TestKeysDisableEnable(t *testing.T) {
	store := keysStore(t)
	k := keysNewJSON(t, store, "create", "--name", "alice")
	if out := keysRun(t, store, "disable", k.AccessKeyId); !strings.Contains(out, "disabled "+k.AccessKeyId) {
		t.Errorf("disable printed %q", out)
	}
	if got := keysList(t, store)[k.AccessKeyId].Status; got != credstore.Disabled {
		t.Errorf("after disable, status %q", got)
	}
	if err := keysVerify(t, store, credsOf(k), "us-east-1", "s3"); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("a disabled key: %v", err)
	}
	var enabled keyJSON
	if err := json.Unmarshal([]byte(keysRun(t, store, "enable", "--access-key", k.AccessKeyId, "--json")), &enabled); err != nil || enabled.Status != credstore.Active {
		t.Errorf("enable --json: %+v, %v", enabled, err)
	}
	if err := keysVerify(t, store, credsOf(k), "us-east-1", "s3"); err != nil {
		t.Errorf("an enabled key: %v", err)
	}
}

func TestKeysDelete(t *testing.T) {
	store := keysStore(t)
	k := keysNewJSON(t, store, "create", "--name", "alice")
	s := keysNewJSON(t, store, "session", k.AccessKeyId)
	keysRun(t, store, "delete", k.AccessKeyId)
	if list := keysList(t, store); len(list) != 0 {
		t.Errorf("after delete of the key, list has %v (its session goes with it)", list)
	}
	_, errOut, code := runCLI(t, "", "keys", "--store", store, "delete", k.AccessKeyId)
	if code != 1 || !strings.Contains(errOut, "not found") || !strings.Contains(errOut, "sigv4 keys list --store "+store) {
		t.Errorf("delete of a deleted key: exit %d, %s", code, errOut)
	}
	if err := keysVerify(t, store, credsOf(s), "us-east-1", "s3"); !errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
		t.Errorf("a session of a deleted key: %v", err)
	}
}

func TestKeysRotate(t *testing.T) {
	store := keysStore(t)
	old := keysNewJSON(t, store, "create", "--name", "alice", "--services", "s3")
	out := keysRun(t, store, "rotate", old.AccessKeyId)
	if !strings.Contains(out, "sigv4 keys delete "+old.AccessKeyId) || len(exportLine.FindAllString(out, -1)) != 2 {
		t.Errorf("rotate:\n%s", out)
	}
	nk := keysNewJSON(t, store, "rotate", old.AccessKeyId) // rotating a disabled key issues a new, active one
	list := keysList(t, store)
	if len(list) != 3 || list[old.AccessKeyId].Status != credstore.Disabled || list[nk.AccessKeyId].Status != credstore.Active ||
		nk.Name != "alice" || strings.Join(nk.Services, ",") != "s3" {
		t.Errorf("after rotate: %+v", list)
	}
	if err := keysVerify(t, store, credsOf(nk), "us-east-1", "s3"); err != nil {
		t.Error(err)
	}
}

func TestKeysSession(t *testing.T) {
	store := keysStore(t)
	p := keysNewJSON(t, store, "create", "--name", "alice")
	s := keysNewJSON(t, store, "session", "--access-key", p.AccessKeyId, "--duration", "1h")
	exp, err := time.Parse(time.RFC3339, s.Expiration)
	if err != nil || !strings.HasPrefix(s.AccessKeyId, "ASIA") || s.SessionToken == "" || s.Parent != p.AccessKeyId ||
		s.Principal != p.Principal || time.Until(exp) > time.Hour || time.Until(exp) < 59*time.Minute {
		t.Errorf("session --json = %+v (%v)", s, err)
	}
	if err := keysVerify(t, store, credsOf(s), "us-east-1", "s3"); err != nil {
		t.Error(err)
	}
	text := keysRun(t, store, "session", p.AccessKeyId)
	if !strings.Contains(text, "export AWS_SESSION_TOKEN=") {
		t.Errorf("session:\n%s", text)
	}
	_, errOut, code := runCLI(t, "", "keys", "--store", store, "session", s.AccessKeyId)
	if code != 1 || !strings.Contains(errOut, "long-term") {
		t.Errorf("a session from a session: exit %d, %s", code, errOut)
	}
}

func TestKeysUsageErrors(t *testing.T) {
	store := keysStore(t)
	keysRun(t, store, "create", "--name", "alice")
	for _, args := range [][]string{
		{},
		{"frob"},
		{"list", "--name", "x"},
		{"list", "AKIAQQQQQQQQQQQQQQQQ"},
		{"create"},
		{"create", "--name", "x", "--duration", "1h"},
		{"create", "--name", "x", "--expires", "soon"},
		{"disable"},
		{"disable", "AKIAQQQQQQQQQQQQQQQQ", "--access-key", "AKIARRRRRRRRRRRRRRRR"},
		{"session", "AKIAQQQQQQQQQQQQQQQQ", "--duration", "an hour"},
	} {
		_, errOut, code := runCLI(t, "", append([]string{"keys", "--store", store}, args...)...)
		if code != 2 || !strings.Contains(errOut, "Usage: sigv4 keys") {
			t.Errorf("keys %s: exit %d, want 2 and the usage: %s", strings.Join(args, " "), code, errOut)
		}
	}
}

func TestKeysNoStore(t *testing.T) {
	store := keysStore(t)
	_, errOut, code := runCLI(t, "", "keys", "--store", store, "list")
	if code != 1 || !strings.Contains(errOut, "sigv4 keys create --name NAME --store "+store) {
		t.Errorf("list of no store: exit %d, %s", code, errOut)
	}
	if out := keysRun(t, store, "create", "--name", "a"); out == "" {
		t.Error("create printed nothing")
	}
	out := keysRun(t, store, "delete", "--access-key", func() string {
		for id := range keysList(t, store) {
			return id
		}
		return ""
	}())
	if !strings.HasPrefix(out, "deleted ") {
		t.Errorf("delete printed %q", out)
	}
	if out := keysRun(t, store, "list"); !strings.Contains(out, "sigv4 keys create") {
		t.Errorf("list of an empty store: %q", out)
	}
	if out := keysRun(t, store, "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list --json of an empty store: %q", out)
	}
}
