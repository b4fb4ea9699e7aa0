package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// awsHome makes an AWS configuration of its own for a test: config and
// credentials files in a temporary directory, no credentials in the
// environment, no instance metadata. Nothing reaches the network.
func awsHome(t *testing.T, config, credentials string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("AWS_CONFIG_FILE", write("config", config))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", write("credentials", credentials))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func TestResolveIdentity(t *testing.T) {
	dir := t.TempDir()
	proc := filepath.Join(dir, "creds.sh")
	os.WriteFile(proc, []byte("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"process/secret\", \"SessionToken\": \"tok\"}'\n"), 0o700)
	awsHome(t, `[default]
region = eu-west-3

[profile dev]
region = ap-south-1

[profile proc]
credential_process = `+proc+`
region = us-west-2
`, `[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default/secret

[dev]
aws_access_key_id = AKIDDEV
aws_secret_access_key = dev/secret
`)
	for _, tc := range []struct {
		name, profile, envProfile  string
		key, secret, token, region string
	}{
		{"default profile", "", "", "AKIDDEFAULT", "default/secret", "", "eu-west-3"},
		{"--profile", "dev", "", "AKIDDEV", "dev/secret", "", "ap-south-1"},
		{"AWS_PROFILE", "", "dev", "AKIDDEV", "dev/secret", "", "ap-south-1"},
		{"--profile over AWS_PROFILE", "proc", "dev", "AKIDPROCESS", "process/secret", "tok", "us-west-2"},
		{"credential_process", "proc", "", "AKIDPROCESS", "process/secret", "tok", "us-west-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.envProfile != "" {
				t.Setenv("AWS_PROFILE", tc.envProfile)
			}
			id, err := resolveIdentity(context.Background(), tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			c := id.creds
			if c.AccessKeyID != tc.key || c.SecretAccessKey != tc.secret || c.SessionToken != tc.token || id.region != tc.region {
				t.Errorf("got %s %s %q in %s, want %s %s %q in %s", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, id.region,
					tc.key, tc.secret, tc.token, tc.region)
			}
		})
	}
	t.Run("environment over files", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "env/secret")
		t.Setenv("AWS_REGION", "ca-central-1")
		id, err := resolveIdentity(context.Background(), "")
		if err != nil || id.creds.AccessKeyID != "AKIDENV" || id.region != "ca-central-1" {
			t.Errorf("got %+v, %v", id.region, err)
		}
	})
	t.Run("unknown profile", func(t *testing.T) {
		_, err := resolveIdentity(context.Background(), "nope")
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("got %v, want an error naming the profile", err)
		}
	})
}

func TestResolveIdentityNone(t *testing.T) {
	awsHome(t, "", "")
	_, err := resolveIdentity(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") {
		t.Fatalf("got %v, want the no-credentials advice", err)
	}
}
