"""Sends S3 requests signed with AWS Signature Version 2 by botocore, and
the same requests tampered with after signing.

boto3's S3 client with signature_version 's3' (HmacV1Auth), path-style and
virtual-hosted (through ENDPOINT as an HTTP proxy, so that the Host names
the bucket under s3.test), plain and with a session token;
generate_presigned_url with 's3' (HmacV1QueryAuth); and botocore's signers
on raw requests, which are then changed in one signed part each.

Usage: botocore_sigv2_accept.py ENDPOINT
Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and TEMP_ACCESS_KEY_ID,
TEMP_SECRET_ACCESS_KEY, TEMP_SESSION_TOKEN for a temporary key.
Prints one JSON object per request: op ("WANT:name", WANT the expected
error code or OK), status and code.
"""

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def report(op, status, code):
    print(json.dumps({"op": op, "status": status, "code": code}), flush=True)


def call(op, fn):
    try:
        resp = fn()
        report(op, resp["ResponseMetadata"]["HTTPStatusCode"], "")
    except ClientError as e:
        report(op, e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])


def send(op, method, url, headers, body=None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with opener.open(req, timeout=10) as resp:
            resp.read()
            report(op, resp.status, "")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        code = body.split("<Code>", 1)[-1].split("</Code>", 1)[0] if "<Code>" in body else body
        report(op, e.code, code)


def clients(endpoint, **creds):
    host = urllib.parse.urlsplit(endpoint).netloc
    port = host.rsplit(":", 1)[1]
    path = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds,
                        config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    virtual = boto3.client("s3", endpoint_url="http://s3.test:" + port, region_name="us-east-1", **creds,
                           config=Config(signature_version="s3", s3={"addressing_style": "virtual"},
                                         proxies={"http": endpoint}, retries={"max_attempts": 1}))
    return path, virtual


def client_ops(endpoint):
    body = b"hello, sigv2\n" * 100
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    path, virtual = clients(endpoint)
    for style, s3 in (("path", path), ("virtual", virtual)):
        call("OK:%s put_object" % style, lambda: s3.put_object(
            Bucket="bucket", Key="dir/caf\u00e9 + ~x.txt", Body=body, ContentMD5=md5, ContentType="text/plain",
            ACL="public-read", Metadata={"owner": "alice", "note": " spaced  value "}))
        call("OK:%s get_object overrides" % style, lambda: s3.get_object(
            Bucket="bucket", Key="dir/caf\u00e9 + ~x.txt", VersionId="3",
            ResponseContentType="text/plain", ResponseContentDisposition='attachment; filename="a b.txt"'))
        call("OK:%s list_objects" % style, lambda: s3.list_objects(Bucket="bucket", Prefix="dir/", MaxKeys=5))
        call("OK:%s get_object_acl" % style, lambda: s3.get_object_acl(Bucket="bucket", Key="k", VersionId="v1"))
        call("OK:%s delete_object" % style, lambda: s3.delete_object(Bucket="bucket", Key="k"))
        call("OK:%s list_buckets" % style, lambda: s3.list_buckets())
    tpath, _ = clients(endpoint, aws_access_key_id=os.environ["TEMP_ACCESS_KEY_ID"],
                       aws_secret_access_key=os.environ["TEMP_SECRET_ACCESS_KEY"],
                       aws_session_token=os.environ["TEMP_SESSION_TOKEN"])
    call("OK:session put_object", lambda: tpath.put_object(Bucket="bucket", Key="t", Body=b"token"))
    bad, _ = clients(endpoint, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="x" * 40)
    call("SignatureDoesNotMatch:wrong secret put_object", lambda: bad.put_object(Bucket="bucket", Key="k", Body=b"x"))

    for style, s3 in (("path", path), ("virtual", virtual)):
        url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
            "Bucket": "bucket", "Key": "a/b c.txt", "VersionId": "7", "ResponseContentType": "image/png"})
        headers = {}
        if style == "virtual":
            u = urllib.parse.urlsplit(url)
            headers["Host"] = u.netloc
            url = endpoint + urllib.parse.urlunsplit(("", "", u.path, u.query, ""))
        send("OK:%s presigned get_object" % style, "GET", url, headers)
        send("SignatureDoesNotMatch:%s presigned, Expires extended" % style, "GET",
             url.replace("Expires=", "Expires=1"), headers)
        send("SignatureDoesNotMatch:%s presigned, versionId changed" % style, "GET",
             url.replace("versionId=7", "versionId=8"), headers)
        send("OK:%s presigned, unsigned parameter added" % style, "GET", url + "&x-id=GetObject", headers)
    url = path.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": "bucket", "Key": "up", "ContentType": "text/plain"})
    send("OK:presigned put_object", "PUT", url, {"Content-Type": "text/plain"}, b"uploaded")
    send("SignatureDoesNotMatch:presigned put_object, another Content-Type", "PUT", url,
         {"Content-Type": "text/html"}, b"uploaded")
    url = tpath.generate_presigned_url("get_object", ExpiresIn=300, Params={"Bucket": "bucket", "Key": "t"})
    send("OK:session presigned get_object", "GET", url, {})
    send("SignatureDoesNotMatch:session presigned, token removed", "GET",
         "&".join(p for p in url.split("&") if not p.startswith("x-amz-security-token=")), {})


def tampered(endpoint):
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    body = b"signed body"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()

    def signed():
        req = AWSRequest(method="PUT", url=endpoint + "/bucket/obj?acl", data=body, headers={
            "Content-Type": "text/plain", "Content-MD5": md5, "x-amz-meta-a": "1", "x-amz-acl": "private"})
        HmacV1Auth(creds).add_auth(req)
        p = req.prepare()
        return p.url, dict(p.headers.items())

    url, h = signed()
    send("OK:raw put", "PUT", url, h, body)
    send("BadDigest:raw put, body changed", "PUT", url, h, b"signed bodY")
    for name in ("Content-Type", "Content-MD5", "x-amz-meta-a", "x-amz-acl", "Date"):
        url, h = signed()
        h[name] = h[name][:-2] + ("1" if h[name][-2:] != "1" else "2") + h[name][-1]
        want = "AccessDenied" if name == "Date" else "SignatureDoesNotMatch"
        send("%s:raw put, %s changed" % (want, name), "PUT", url, h, body)
    url, h = signed()
    send("SignatureDoesNotMatch:raw put, path changed", "PUT", url.replace("/obj", "/obk"), h, body)
    url, h = signed()
    send("SignatureDoesNotMatch:raw put, sub-resource removed", "PUT", url.replace("?acl", ""), h, body)
    url, h = signed()
    send("SignatureDoesNotMatch:raw put as POST", "POST", url, h, body)
    url, h = signed()
    h["x-amz-meta-b"] = "added"
    send("SignatureDoesNotMatch:raw put, x-amz-meta added", "PUT", url, h, body)
    url, h = signed()
    sig = h["Authorization"]
    h["Authorization"] = sig[:-3] + ("A" if sig[-3] != "A" else "B") + sig[-2:]
    send("SignatureDoesNotMatch:raw put, signature changed", "PUT", url, h, body)

    req = AWSRequest(method="GET", url=endpoint + "/bucket/obj?uploadId=9")
    HmacV1QueryAuth(creds, expires=300).add_auth(req)
    p = req.prepare()
    send("OK:raw presigned get", "GET", p.url, {})
    send("SignatureDoesNotMatch:raw presigned, uploadId changed", "GET", p.url.replace("uploadId=9", "uploadId=8"), {})
    send("SignatureDoesNotMatch:raw presigned, path changed", "GET", p.url.replace("/obj", "/obk"), {})
    send("SignatureDoesNotMatch:raw presigned as DELETE", "DELETE", p.url, {})


def main():
    client_ops(sys.argv[1])
    tampered(sys.argv[1])


if __name__ == "__main__":
    main()
