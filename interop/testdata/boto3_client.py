"""Drives boto3 against the interop test server.

Usage: boto3_client.py ENDPOINT BUCKET KEY DATA_FILE
Credentials and region come from the environment the Go test sets.
Prints one JSON object per operation: op, status, code (the S3 error code,
"" on success) and, for a GET, the sha256 of the body received.
Set INTEROP_DEBUG=1 to log botocore's canonical request and string to sign.
"""

import hashlib
import json
import logging
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


def fetch(op, url):
    # urllib, not botocore: whoever holds a presigned URL uses a plain client.
    # An empty ProxyHandler keeps a proxy of the machine out of the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as resp:
            report(op, resp.status, body=resp.read())
    except urllib.error.HTTPError as e:
        report(op, e.code, ET.fromstring(e.read()).findtext("Code"))


def main():
    endpoint, bucket, key, data_file = sys.argv[1:5]
    if os.environ.get("INTEROP_DEBUG") == "1":
        boto3.set_stream_logger("botocore.auth", logging.DEBUG)
    with open(data_file, "rb") as f:
        data = f.read()
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ["AWS_DEFAULT_REGION"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        # s3v4: without it, generate_presigned_url silently makes SigV2.
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=10,
        ),
    )
    # Over plain HTTP botocore signs the hex SHA-256 of the body (with a
    # signed x-amz-checksum-crc32 and Expect: 100-continue), never aws-chunked.
    call("PutObject", lambda: s3.put_object(Bucket=bucket, Key=key, Body=data))
    call("GetObject", lambda: s3.get_object(Bucket=bucket, Key=key))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    fetch("PresignedGetObject", url)


if __name__ == "__main__":
    main()
