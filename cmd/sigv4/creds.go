package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/sigv4/sigv4"
)

// awsIdentity is what the AWS CLI would sign with: credentials and the
// default region.
type awsIdentity struct {
	creds  sigv4.Credentials
	region string
}

// resolveIdentity finds credentials and the default region where the AWS
// CLI finds them, through aws-sdk-go-v2's config: the environment,
// AWS_PROFILE or profile, the shared config and credentials files
// (credential_process, SSO, assumed roles, web identity), then container
// and instance metadata.
func resolveIdentity(ctx context.Context, profile string) (awsIdentity, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The SDK's own warnings (an IMDS fallback, say) are not the user's
	// business: errors say what to do.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awsIdentity{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return awsIdentity{}, errNoCredentials
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return awsIdentity{}, fmt.Errorf("%w\n(the AWS SDK said: %v)", errNoCredentials, err)
	}
	return awsIdentity{
		creds:  sigv4.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		region: cfg.Region,
	}, nil
}

var errNoCredentials = errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
	"or choose a profile of ~/.aws/config with --profile or AWS_PROFILE (run \"aws configure\" to make one)")
