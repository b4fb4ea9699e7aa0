package main

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

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

// TestSigningNames: every endpoint whose signing name differs from its
// host name's label signs with the signing name, one test per entry of
// the table, and the cases the issue names with real host names.
func TestSigningNames(t *testing.T) {
	for prefix, name := range signingNames {
		host := prefix + ".eu-west-1.amazonaws.com"
		if strings.HasPrefix(prefix, "data-ats.") {
			host = "a1b2c3d4e5f6g7-ats." + strings.TrimPrefix(prefix, "data-ats.") + ".eu-west-1.amazonaws.com"
		}
		if s, r := inferScope(host); s != name || r != "eu-west-1" {
			t.Errorf("inferScope(%q) = %q, %q; want %q, eu-west-1", host, s, r, name)
		}
	}
	for _, tc := range []struct{ host, service, region string }{
		{"bedrock-runtime.us-west-2.amazonaws.com", "bedrock", "us-west-2"},
		{"bedrock-agent-runtime.us-east-1.amazonaws.com", "bedrock", "us-east-1"},
		{"email.eu-central-1.amazonaws.com", "ses", "eu-central-1"},
		{"aps-workspaces.us-east-1.amazonaws.com", "aps", "us-east-1"},
		{"a3qj4example-ats.iot.us-east-1.amazonaws.com", "iotdata", "us-east-1"},
		{"runtime.sagemaker.us-east-1.amazonaws.com", "sagemaker", "us-east-1"},
		{"data.iotevents.us-east-1.amazonaws.com", "ioteventsdata", "us-east-1"},
		{"portal.sso.us-east-1.amazonaws.com", "awsssoportal", "us-east-1"},
		{"streams.dynamodb.us-east-1.amazonaws.com", "dynamodb", "us-east-1"},
		{"iot.us-east-1.amazonaws.com", "iot", "us-east-1"}, // the control plane is iot
		{"mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com", "s3", ""},
	} {
		if s, r := inferScope(tc.host); s != tc.service || r != tc.region {
			t.Errorf("inferScope(%q) = %q, %q; want %q, %q", tc.host, s, r, tc.service, tc.region)
		}
	}
	if !isMRAPHost("mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com:443") || isMRAPHost("s3.amazonaws.com") {
		t.Error("isMRAPHost")
	}
}

// TestSigningNamesMatchBotocore compares the table with the endpoint
// metadata of the botocore installed: every entry agrees, and a prefix
// botocore has that the table lacks is reported (a newer botocore may
// know newer services).
func TestSigningNamesMatchBotocore(t *testing.T) {
	out, err := exec.Command("python3", "-c", botocoreSigningNames).Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("botocore's data: %v (install python3-boto3)", err)
		}
		t.Skipf("no botocore to compare with (%v); install python3-boto3", err)
	}
	var theirs map[string]string
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatal(err)
	}
	for prefix, name := range signingNames {
		if b, ok := theirs[prefix]; ok && b != name {
			t.Errorf("%s: signs as %s here, %s in botocore", prefix, name, b)
		}
	}
	for prefix, name := range theirs {
		if _, ok := signingNames[prefix]; !ok {
			t.Logf("botocore has %s -> %s, which the table lacks", prefix, name)
		}
	}
	t.Logf("%d entries compared with %d of botocore's", len(signingNames), len(theirs))
}

const botocoreSigningNames = `
import botocore, gzip, json, os
base = os.path.join(os.path.dirname(botocore.__file__), "data")
out = {}
for svc in os.listdir(base):
    d = os.path.join(base, svc)
    if not os.path.isdir(d) or not os.listdir(d):
        continue
    p = os.path.join(d, sorted(os.listdir(d))[-1], "service-2.json")
    if os.path.exists(p):
        m = json.load(open(p))["metadata"]
    elif os.path.exists(p + ".gz"):
        m = json.load(gzip.open(p + ".gz"))["metadata"]
    else:
        continue
    ep = m.get("endpointPrefix")
    if ep and m.get("signingName", ep) != ep:
        out[ep] = m["signingName"]
print(json.dumps(out))
`

// TestCurlSignerMRAP: a Multi-Region Access Point's URL is signed with
// SigV4a for the region set "*", and a signing name from the table is the
// signer's service; flags still win.
func TestCurlSignerMRAP(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "",
		"AWS_CONFIG_FILE": dir + "/none", "AWS_SHARED_CREDENTIALS_FILE": dir + "/none", "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	for _, tc := range []struct {
		opts      curlOptions
		url       string
		service   string
		regionSet []string
	}{
		{curlOptions{}, "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key", "s3", []string{"*"}},
		{curlOptions{regionSet: "us-east-1,eu-west-1"}, "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key", "s3", []string{"us-east-1", "eu-west-1"}},
		{curlOptions{}, "https://bedrock-runtime.us-west-2.amazonaws.com/model/x/invoke", "bedrock", nil},
		{curlOptions{service: "bedrock-runtime"}, "https://bedrock-runtime.us-west-2.amazonaws.com/model/x/invoke", "bedrock-runtime", nil},
	} {
		u, _ := url.Parse(tc.url)
		s, err := tc.opts.signer(t.Context(), u)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if s.Service != tc.service || !slices.Equal(s.RegionSet, tc.regionSet) {
			t.Errorf("%s %+v: service %q, region set %q; want %q, %q", tc.url, tc.opts, s.Service, s.RegionSet, tc.service, tc.regionSet)
		}
	}
}
