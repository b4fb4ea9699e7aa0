package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/sigv4/sigv4/gateway"
)

// upstreamFlags are the flags of re-signing for upstreams that check
// their own signatures.
type upstreamFlags struct {
	credentials, region, roleARN, mapFile string
	identityHeaders, unsigned             bool
}

// signing returns how the gateway signs for its upstreams, or nil when
// --upstream-credentials is not given. The credentials are asked for once
// here, so that a missing or broken source fails at start.
func (f *upstreamFlags) signing(ctx context.Context) (*gateway.Signing, error) {
	if f.credentials == "" {
		if f.roleARN != "" || f.region != "" || f.mapFile != "" {
			return nil, fmt.Errorf("--upstream-role-arn, --upstream-region and --upstream-map need --upstream-credentials: %w", errUsage)
		}
		return nil, nil
	}
	creds, err := f.checked(ctx, f.credentials, f.roleARN)
	if err != nil {
		return nil, err
	}
	byIdentity, err := f.readMap(ctx)
	if err != nil {
		return nil, err
	}
	return &gateway.Signing{Credentials: creds, ByIdentity: byIdentity, Region: f.region,
		IdentityHeaders: f.identityHeaders, UnsignedStreaming: f.unsigned}, nil
}

// checked returns the credentials of source (assuming roleARN if set),
// asked for once.
func (f *upstreamFlags) checked(ctx context.Context, source, roleARN string) (gateway.CredentialsProvider, error) {
	provider, err := (&upstreamFlags{credentials: source, roleARN: roleARN}).provider(ctx)
	if err != nil {
		return nil, err
	}
	creds := gateway.AWSCredentials(provider)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("--upstream-credentials %s: %w", source, err)
	}
	return creds, nil
}

// readMap reads --upstream-map: lines of "IDENTITY SOURCE", IDENTITY a
// principal ARN or an access key ID of the gateway's store, SOURCE as
// --upstream-credentials; "#" starts a comment.
func (f *upstreamFlags) readMap(ctx context.Context) (map[string]gateway.CredentialsProvider, error) {
	if f.mapFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(f.mapFile)
	if err != nil {
		return nil, fmt.Errorf("--upstream-map: %w", err)
	}
	m := map[string]gateway.CredentialsProvider{}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("--upstream-map %s:%d: want IDENTITY SOURCE: %w", f.mapFile, i+1, errUsage)
		}
		if _, dup := m[fields[0]]; dup {
			return nil, fmt.Errorf("--upstream-map %s:%d: %s is mapped twice: %w", f.mapFile, i+1, fields[0], errUsage)
		}
		if m[fields[0]], err = f.checked(ctx, fields[1], ""); err != nil {
			return nil, fmt.Errorf("--upstream-map %s:%d: %w", f.mapFile, i+1, err)
		}
	}
	return m, nil
}

// provider reads SOURCE: default (the AWS CLI's chain), profile:NAME, env,
// or file:PATH (the one key of a credentials file, such as the one sigv4
// serve writes for its first key: a gateway in front of another); with
// --upstream-role-arn, the role assumed with those credentials.
func (f *upstreamFlags) provider(ctx context.Context) (aws.CredentialsProvider, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	source := f.credentials
	switch name, ok := strings.CutPrefix(source, "profile:"); {
	case source == "default":
	case ok && name != "":
		opts = append(opts, config.WithSharedConfigProfile(name))
	case strings.HasPrefix(source, "file:"):
		c, err := readStaticCredentials(strings.TrimPrefix(source, "file:"))
		if err != nil {
			return nil, fmt.Errorf("--upstream-credentials %s: %w", source, err)
		}
		opts = append(opts, config.WithCredentialsProvider(awscreds.StaticCredentialsProvider{Value: c}))
	case source == "env":
		env, err := config.NewEnvConfig()
		if err != nil || !env.Credentials.HasKeys() {
			return nil, fmt.Errorf("--upstream-credentials env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
		}
		opts = append(opts, config.WithCredentialsProvider(awscreds.StaticCredentialsProvider{Value: env.Credentials}))
	default:
		return nil, fmt.Errorf("--upstream-credentials %q: want default, profile:NAME, env or file:PATH: %w", source, errUsage)
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("--upstream-credentials %s: loading the AWS configuration: %w", source, err)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("--upstream-credentials %s: %w", source, errNoCredentials)
	}
	if f.roleARN == "" {
		return cfg.Credentials, nil
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), f.roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "sigv4-gateway"
	}), nil
}

// readStaticCredentials reads the first key of a shared credentials file
// (aws_access_key_id, aws_secret_access_key, aws_session_token), which
// must not be readable by others.
func readStaticCredentials(path string) (aws.Credentials, error) {
	info, err := os.Stat(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return aws.Credentials{}, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	var c aws.Credentials
	sections := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			if sections++; sections > 1 {
				break // the first profile only
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		case "aws_session_token":
			c.SessionToken = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, fmt.Errorf("%s has no aws_access_key_id and aws_secret_access_key", path)
	}
	c.Source = "file:" + path
	return c, nil
}
