package main

import (
	"net"
	"slices"
	"strings"
)

// awsSuffixes end the hostnames of AWS endpoints.
var awsSuffixes = []string{".amazonaws.com.cn", ".amazonaws.com", ".api.aws", ".on.aws"}

// inferScope guesses the service and region of an AWS endpoint from its
// hostname, as the SDKs build them: "bucket.s3.eu-west-1.amazonaws.com" is
// s3 in eu-west-1, "dynamodb.us-east-1.amazonaws.com" is dynamodb,
// "sts.amazonaws.com" is sts in us-east-1 (global endpoints sign for
// us-east-1). It returns empty strings for a host it does not recognise.
func inferScope(host string) (service, region string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var rest string
	for _, suffix := range awsSuffixes {
		if r, ok := strings.CutSuffix(host, suffix); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return "", ""
	}
	labels := strings.Split(rest, ".")
	if isMRAP(labels) {
		return "s3", "" // SigV4a, for every region: see mrapRegionSet
	}
	for i := len(labels) - 1; i >= 0; i-- {
		if !isRegion(labels[i]) {
			continue
		}
		region = labels[i]
		if i+1 < len(labels) { // "domain.us-east-1.es.amazonaws.com"
			return serviceLabel(labels[i+1]), region
		}
		if s := signingName(labels[:i]); s != "" {
			return s, region
		}
		for j := i - 1; j >= 0; j-- {
			if s := serviceLabel(labels[j]); s != "" {
				return s, region
			}
		}
		return "", region
	}
	// No region in the name: a global endpoint, or S3's legacy
	// "s3-eu-west-1" form.
	for i := len(labels) - 1; i >= 0; i-- {
		if r, ok := strings.CutPrefix(labels[i], "s3-"); ok && isRegion(r) {
			return "s3", r
		}
	}
	if s := signingName(labels); s != "" {
		return s, "us-east-1"
	}
	if s := serviceLabel(labels[len(labels)-1]); s != "" {
		return s, "us-east-1"
	}
	return "", ""
}

// signingName looks up the labels that precede the region in
// signingNames, the longest endpoint prefix first: "runtime.sagemaker"
// signs as sagemaker, "data.iotevents" as ioteventsdata. An IoT data
// endpoint's account-specific label ("a1b2c3-ats") stands for "data-ats".
func signingName(labels []string) string {
	for k := range labels {
		prefix := slices.Clone(labels[k:])
		if strings.HasSuffix(prefix[0], "-ats") {
			prefix[0] = "data-ats"
		}
		if s, ok := signingNames[strings.Join(prefix, ".")]; ok {
			return s
		}
	}
	return ""
}

// isMRAP reports whether labels (the host name less its AWS suffix) name
// an S3 Multi-Region Access Point: ALIAS.mrap.accesspoint.s3-global. It
// has no region: requests are signed with SigV4a for the region set "*".
func isMRAP(labels []string) bool {
	n := len(labels)
	return n >= 4 && labels[n-3] == "mrap" && labels[n-2] == "accesspoint" && labels[n-1] == "s3-global"
}

// isMRAPHost reports whether host is an S3 Multi-Region Access Point's.
func isMRAPHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rest, ok := strings.CutSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".amazonaws.com")
	return ok && isMRAP(strings.Split(rest, "."))
}

// mrapRegionSet is the region set of a Multi-Region Access Point's
// requests.
var mrapRegionSet = []string{"*"}

// serviceLabel maps a hostname label to the signing name of its service,
// or "" for labels that name none ("dualstack", "fips").
func serviceLabel(label string) string {
	switch {
	case label == "dualstack" || label == "fips" || label == "vpce" || label == "":
		return ""
	case label == "lambda-url":
		return "lambda"
	case label == "s3-accesspoint" || label == "s3-control" || strings.HasPrefix(label, "s3-fips"):
		return "s3"
	case strings.HasSuffix(label, "-fips"):
		return strings.TrimSuffix(label, "-fips")
	}
	return label
}

// isRegion reports whether s looks like an AWS region name:
// "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1".
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 4 || len(parts[0]) != 2 {
		return false
	}
	last := parts[len(parts)-1]
	if last == "" || len(last) > 2 {
		return false
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, p := range parts[:len(parts)-1] {
		for _, c := range p {
			if c < 'a' || c > 'z' {
				return false
			}
		}
	}
	return true
}
