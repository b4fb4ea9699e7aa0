package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
)

// put stores an object in the backend directly, bypassing the gateway.
func (m *s3Backend) put(t *testing.T, bucket, key string, data []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, m.objectURL(bucket, key), bytes.NewReader(data))
	resp, err := m.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: PUT %s: %s %s", m.name, key, resp.Status, body)
	}
}

// TestGatewayListDelete: every client lists an object (through the
// gateway, by its key as the prefix) and deletes it; the backend holds it
// no more. In front of moto, and of MinIO with the gateway signing again.
func TestGatewayListDelete(t *testing.T) {
	requireBoto3(t)
	forEachBackendButMotoAuth(t, func(t *testing.T, f *gwFixture) {
		data := []byte("listed, then deleted\n")
		clients := map[string]func(t *testing.T, key string) (listed string){
			"boto3": func(t *testing.T, key string) string {
				got := boto3Run(t, f.http.URL, "", f.creds, f.bucket, key, "-", "list,delete")
				return scriptListed(t, got, key)
			},
			"JS SDK": func(t *testing.T, key string) string {
				requireJSSDK(t)
				got := jsRun(t, f.http.URL, f.creds, f.bucket, key, "-", "list,delete")
				return scriptListed(t, got, key)
			},
			"AWS CLI": func(t *testing.T, key string) string {
				requireCommand(t, "aws", "apt-get install -y awscli")
				out, err := run(t, gwEnv(t, f.creds), "aws", "s3", "ls", "s3://"+f.bucket+"/"+key, "--endpoint-url", f.http.URL)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := awsRun(t, f, f.creds, "s3", "rm", "s3://"+f.bucket+"/"+key); err != nil {
					t.Fatal(err)
				}
				return strings.ReplaceAll(out, " "+path.Base(key), " "+key) // it lists names under the prefix
			},
			"aws-sdk-go-v2": func(t *testing.T, key string) string {
				c := goSDKClient(f, false, f.creds)
				out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), Prefix: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)}); err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, o := range out.Contents {
					names = append(names, aws.ToString(o.Key))
				}
				return strings.Join(names, "\n")
			},
			"minio-go": func(t *testing.T, key string) string {
				c := minioClient(t, f, f.creds, false, nil)
				var names []string
				for o := range c.ListObjects(context.Background(), f.bucket, minio.ListObjectsOptions{Prefix: key}) {
					if o.Err != nil {
						t.Fatal(o.Err)
					}
					names = append(names, o.Key)
				}
				if err := c.RemoveObject(context.Background(), f.bucket, key, minio.RemoveObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				return strings.Join(names, "\n")
			},
			"rclone": func(t *testing.T, key string) string {
				requireCommand(t, "rclone", "apt-get install -y rclone")
				env := rcloneEnv(t, f, f.creds)
				dir, name, _ := strings.Cut(key, "/")
				out, err := run(t, env, "rclone", "lsf", "gw:"+f.bucket+"/"+dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := rcloneRun(t, env, "deletefile", "gw:"+f.bucket+"/"+key); err != nil {
					t.Fatal(err)
				}
				return strings.ReplaceAll(out, name, key)
			},
			"s3cmd": func(t *testing.T, key string) string {
				requireCommand(t, "s3cmd", "apt-get install -y s3cmd")
				cfg := s3cmdConfig(t, f, f.creds)
				out, err := run(t, gwEnv(t, f.creds), "s3cmd", "-c", cfg, "ls", "s3://"+f.bucket+"/"+key)
				if err != nil {
					t.Fatal(err)
				}
				if err := s3cmdRun(t, f, f.creds, "del", "s3://"+f.bucket+"/"+key); err != nil {
					t.Fatal(err)
				}
				return out
			},
			"curl": func(t *testing.T, key string) string {
				requireCommand(t, "curl", "apt-get install -y curl")
				sign := []string{"-sS", "-f", "--aws-sigv4", "aws:amz:" + region + ":s3", "--user", f.creds.AccessKeyID + ":" + f.creds.SecretAccessKey}
				out, err := run(t, gwEnv(t, f.creds), "curl", append(sign, f.http.URL+"/"+f.bucket+"?list-type=2&prefix="+url.QueryEscape(key))...)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := run(t, gwEnv(t, f.creds), "curl", append(sign, "-X", "DELETE", f.http.URL+"/"+f.bucket+"/"+key)...); err != nil {
					t.Fatal(err)
				}
				return out
			},
		}
		for name, client := range clients {
			t.Run(name, func(t *testing.T) {
				key := "listdel-" + strings.ReplaceAll(strings.ToLower(name), " ", "-") + "/object.txt"
				f.backend.put(t, f.bucket, key, data)
				f.expectStored(t, key, data)
				m := f.mark()
				listed := client(t, key)
				reqs := f.since(t, m)
				if !strings.Contains(listed, key) {
					t.Errorf("%s listed %q, not %s", name, listed, key)
				}
				for _, r := range reqs {
					if r.Code != "OK" {
						t.Errorf("the gateway answered %s", r)
					}
				}
				expectSeen(t, reqs, gwWant{method: "DELETE", key: key, size: -1, code: "OK"})
				f.expectAbsent(t, key)
			})
		}
	})
}

// scriptListed checks a scripted client's list and delete, and returns
// what it listed (the key, if the sha256 it reported is that of the key).
func scriptListed(t *testing.T, got []opResult, key string) string {
	t.Helper()
	if len(got) != 2 || got[0].Op != "ListObjectsV2" || got[0].Code != "" || got[1].Op != "DeleteObject" || got[1].Code != "" ||
		(got[1].Status != http.StatusNoContent && got[1].Status != http.StatusOK) {
		t.Fatalf("client reported %+v", got)
	}
	if sum := sha256.Sum256([]byte(key)); got[0].SHA256 == hex.EncodeToString(sum[:]) {
		return key
	}
	return "(something else: sha256 " + got[0].SHA256 + ")"
}
