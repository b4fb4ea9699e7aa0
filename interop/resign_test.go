package interop

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/gateway"
)

// startMotoAuth starts moto, makes an IAM user with administrator rights
// and an access key, then turns moto's authentication on (its
// INITIAL_NO_AUTH_ACTION_COUNT to 0, through /moto-api/reset-auth): from
// then on moto checks the signature of every request, and refuses one
// without.
func startMotoAuth(t *testing.T) (*s3Backend, sigv4.Credentials) {
	t.Helper()
	m := startMoto(t)
	iam := func(form string) []byte {
		t.Helper()
		// moto routes on the credential scope: the request is signed for
		// IAM, with any key, as authentication is still off.
		req, _ := http.NewRequest("POST", m.URL+"/", strings.NewReader(form+"&Version=2010-05-08"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		iamSigner := &sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "any"},
			Region: region, Service: "iam"}
		if err := iamSigner.Sign(req); err != nil {
			t.Fatal(err)
		}
		resp, err := m.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("moto IAM %s: %s %s", form, resp.Status, body)
		}
		return body
	}
	iam("Action=CreateUser&UserName=gateway-upstream")
	iam("Action=PutUserPolicy&UserName=gateway-upstream&PolicyName=admin&PolicyDocument=" +
		url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	out := iam("Action=CreateAccessKey&UserName=gateway-upstream")
	if err := xml.Unmarshal(out, &key); err != nil || key.AccessKeyID == "" {
		t.Fatalf("moto CreateAccessKey: %v\n%s", err, out)
	}
	resp, err := m.client.Post(m.URL+"/moto-api/reset-auth", "text/plain", strings.NewReader("0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset-auth: %s", resp.Status)
	}
	creds := sigv4.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	m.name, m.root = "moto with authentication", creds
	m.client = &http.Client{Transport: &signingTransport{signer: &sigv4.Signer{Credentials: creds, Region: region, Service: "s3"}}}
	// moto now checks: an unsigned request is refused.
	resp, err = http.Get(m.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 { // 403; moto 5 answers a request without Authorization with a 500
		t.Fatalf("moto with authentication on answers %s to an unsigned request", resp.Status)
	}
	// and one signed with another secret is refused.
	req, _ := http.NewRequest("GET", m.URL+"/", nil)
	if err := (&sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "wrong"},
		Region: region, Service: "s3"}).Sign(req); err != nil {
		t.Fatal(err)
	}
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("moto with authentication on answers %s to a wrong signature", resp.Status)
	}
	return m, creds
}

// brokerGateway is a gateway that accepts client (for S3 and STS) and
// signs what it forwards to upstream again with up; nil up forwards
// unsigned.
func brokerGateway(t *testing.T, upstream string, client sigv4.Credentials, up *sigv4.Credentials) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(upstream)
	var signing *gateway.Signing
	if up != nil {
		signing = &gateway.Signing{Credentials: gateway.StaticCredentials(*up)}
	}
	g, err := gateway.New(gateway.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Verifier: &sigv4.Verifier{Keys: sigv4.NewKeyring(client), Regions: []string{region}, Services: []string{"s3", "sts"}},
		Routes:   map[string]gateway.Route{"s3": {Upstream: u, Signing: signing}, "sts": {Upstream: u, Signing: signing}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv
}

func goClients(endpoint string, c sigv4.Credentials) (*s3.Client, *sts.Client) {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true }),
		sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// TestResignMotoAuth: in front of moto with its authentication on, the
// gateway signs with moto's IAM user: S3 and STS calls work; STS
// GetCallerIdentity answers the upstream's identity (the IAM user), not
// the client's; without re-signing moto refuses them; with a wrong
// upstream secret the client gets a 502 that says so.
func TestResignMotoAuth(t *testing.T) {
	moto, upstream := startMotoAuth(t)
	client := sigv4.Credentials{AccessKeyID: "AKIABROKERCLIENT0001", SecretAccessKey: "broker/client/secret"}
	ctx := context.Background()

	s3c, stsc := goClients(brokerGateway(t, moto.URL, client, &upstream).URL, client)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("brokered")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("brokered"), Key: aws.String("k"), Body: strings.NewReader("through the broker")}); err != nil {
		t.Fatal(err)
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("brokered"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "through the broker" {
		t.Errorf("GetObject: %q", body)
	}
	id, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(id.Arn); !strings.HasSuffix(arn, ":user/gateway-upstream") {
		t.Errorf("GetCallerIdentity through the gateway: %s, want the upstream's IAM user", arn)
	}
	t.Logf("GetCallerIdentity through the gateway: %s", aws.ToString(id.Arn))

	// Without re-signing, moto refuses what the gateway forwards.
	s3c, _ = goClients(brokerGateway(t, moto.URL, client, nil).URL, client)
	if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("brokered"), Key: aws.String("k")}); err == nil {
		t.Error("moto answered an unsigned GetObject forwarded by a gateway without credentials")
	}
	// With the wrong upstream secret: a 502 that says the gateway is wrong.
	wrong := upstream
	wrong.SecretAccessKey = "not-the-upstream-secret"
	gw := brokerGateway(t, moto.URL, client, &wrong)
	req, _ := http.NewRequest("GET", gw.URL+"/brokered/k", nil)
	if err := (&sigv4.Signer{Credentials: client, Region: region, Service: "s3"}).Sign(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !bytes.Contains(msg, []byte("refused the gateway")) {
		t.Errorf("wrong upstream secret: %s %s", resp.Status, msg)
	}
}

// TestResignChained: two gateways in a row, each an access-key broker:
// the client signs with a key of the first; the first signs again with a
// key the second issued; the second with MinIO's root key.
func TestResignChained(t *testing.T) {
	minioSrv := startMinio(t)
	client := sigv4.Credentials{AccessKeyID: "AKIACHAINCLIENT00001", SecretAccessKey: "chain/client/secret"}
	middle := sigv4.Credentials{AccessKeyID: "AKIACHAINMIDDLE00001", SecretAccessKey: "chain/middle/secret"}
	second := brokerGateway(t, minioSrv.URL, middle, &minioSrv.root)
	first := brokerGateway(t, second.URL, client, &middle)
	ctx := context.Background()
	s3c, _ := goClients(first.URL, client)
	data := bytes.Repeat([]byte("chained "), 200<<10)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("chained")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("chained"), Key: aws.String("obj"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	status, got := minioSrv.get(t, "chained", "obj")
	if status != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("MinIO holds %d bytes (%d), want the %d uploaded", len(got), status, len(data))
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chained"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(back, data) {
		t.Errorf("download of %d bytes differs from the upload", len(back))
	}
	// The client's key is the first gateway's only: at the second it is
	// unknown, so a client cannot skip the first.
	s3c, _ = goClients(second.URL, client)
	if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chained"), Key: aws.String("obj")}); err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
		t.Errorf("the client's key at the second gateway: %v", err)
	}
}
