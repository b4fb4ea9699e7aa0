"""Drives boto3 through the sigv4 gateway (gateway_test.go).

Usage: gateway_boto3.py ENDPOINT BUCKET KEY DATA_FILE OPS [CA_BUNDLE]
OPS is a comma-separated list of:
  put      PutObject with the file's bytes as the body (over plain HTTP
           botocore signs their hex SHA-256)
  putfile  PutObject with the open file as the body (over HTTPS botocore
           sends it STREAMING-UNSIGNED-PAYLOAD-TRAILER, aws-chunked)
  get      GetObject; reports the sha256 of the body received
  presign  a presigned GetObject URL (signature_version s3v4) fetched with
           urllib; reports the sha256 of the body received
CA_BUNDLE, for an https ENDPOINT, is the PEM of the test server's
certificate. Credentials come from the environment the Go test sets:
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, if set, AWS_SESSION_TOKEN.
Prints one JSON object per operation: op, status, code (the S3 error code,
"" on success) and, for a GET, sha256.
"""

import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def report(op, status, code="", body=None):
    out = {"op": op, "status": status, "code": code}
    if body is not None:
        out["sha256"] = hashlib.sha256(body).hexdigest()
    print(json.dumps(out), flush=True)


def call(op, fn):
    try:
        resp = fn()
    except ClientError as e:
        report(op, e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
        return
    body = resp["Body"].read() if "Body" in resp else None
    report(op, resp["ResponseMetadata"]["HTTPStatusCode"], body=body)


def fetch(op, url, ca_bundle):
    # urllib, not botocore: whoever holds a presigned URL uses a plain client.
    # An empty ProxyHandler keeps a proxy of the machine out of the way.
    handlers = [urllib.request.ProxyHandler({})]
    if ca_bundle:
        import ssl

        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_bundle)))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=30) as resp:
            report(op, resp.status, body=resp.read())
    except urllib.error.HTTPError as e:
        report(op, e.code, ET.fromstring(e.read()).findtext("Code"))


def main():
    endpoint, bucket, key, data_file, ops = sys.argv[1:6]
    ca_bundle = sys.argv[6] if len(sys.argv) > 6 else None
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        verify=ca_bundle if ca_bundle else True,
        region_name=os.environ["AWS_DEFAULT_REGION"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        # s3v4: without it, generate_presigned_url silently makes SigV2.
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=30,
        ),
    )
    for op in ops.split(","):
        if op == "put":
            with open(data_file, "rb") as f:
                data = f.read()
            call("PutObject", lambda: s3.put_object(Bucket=bucket, Key=key, Body=data))
        elif op == "putfile":
            with open(data_file, "rb") as f:
                call("PutObject", lambda: s3.put_object(Bucket=bucket, Key=key, Body=f))
        elif op == "get":
            call("GetObject", lambda: s3.get_object(Bucket=bucket, Key=key))
        elif op == "list":
            try:
                resp = s3.list_objects_v2(Bucket=bucket, Prefix=key)
                names = "\n".join(o["Key"] for o in resp.get("Contents", []))
                report("ListObjectsV2", resp["ResponseMetadata"]["HTTPStatusCode"], body=names.encode())
            except ClientError as e:
                report("ListObjectsV2", e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
        elif op == "delete":
            call("DeleteObject", lambda: s3.delete_object(Bucket=bucket, Key=key))
        elif op == "presign":
            url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
            fetch("PresignedGetObject", url, ca_bundle)
        else:
            sys.exit("unknown op " + op)


if __name__ == "__main__":
    main()
