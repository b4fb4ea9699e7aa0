package main

import "testing"

func TestInferScope(t *testing.T) {
	for _, tc := range []struct{ host, service, region string }{
		{"examplebucket.s3.amazonaws.com", "s3", "us-east-1"},
		{"s3.amazonaws.com", "s3", "us-east-1"},
		{"examplebucket.s3.eu-west-1.amazonaws.com", "s3", "eu-west-1"},
		{"s3.eu-west-1.amazonaws.com:443", "s3", "eu-west-1"},
		{"my.bucket.s3-eu-west-1.amazonaws.com", "s3", "eu-west-1"},
		{"bucket.s3.dualstack.ap-southeast-2.amazonaws.com", "s3", "ap-southeast-2"},
		{"ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com", "s3", "us-west-2"},
		{"bucket.s3-fips.us-gov-west-1.amazonaws.com", "s3", "us-gov-west-1"},
		{"dynamodb.us-east-1.amazonaws.com", "dynamodb", "us-east-1"},
		{"sts.amazonaws.com", "sts", "us-east-1"},
		{"sts.eu-north-1.amazonaws.com", "sts", "eu-north-1"},
		{"iam.amazonaws.com", "iam", "us-east-1"},
		{"abc123.execute-api.us-east-1.amazonaws.com", "execute-api", "us-east-1"},
		{"xyz.lambda-url.eu-west-3.on.aws", "lambda", "eu-west-3"},
		{"s3.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1"},
		{"search-logs-abc.us-east-1.es.amazonaws.com", "es", "us-east-1"},
		{"kms-fips.us-east-2.amazonaws.com", "kms", "us-east-2"},
		{"localhost:9000", "", ""},
		{"127.0.0.1", "", ""},
		{"example.com", "", ""},
	} {
		s, r := inferScope(tc.host)
		if s != tc.service || r != tc.region {
			t.Errorf("inferScope(%q) = %q, %q; want %q, %q", tc.host, s, r, tc.service, tc.region)
		}
	}
}
