"""Uploads a file with boto3 over HTTPS, where botocore sends it aws-chunked.

Usage: boto3_stream.py ENDPOINT BUCKET KEY DATA_FILE CA_BUNDLE
Credentials and region come from the environment the Go test sets.
CA_BUNDLE is the PEM of the test server's certificate (passed as verify=,
never taken from AWS_CA_BUNDLE). Prints one JSON object: op, status and
code (the S3 error code, "" on success).
Set INTEROP_DEBUG=1 to log botocore's canonical request and string to sign.
"""

import json
import logging
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main():
    endpoint, bucket, key, data_file, ca_bundle = sys.argv[1:6]
    if os.environ.get("INTEROP_DEBUG") == "1":
        boto3.set_stream_logger("botocore.auth", logging.DEBUG)
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        verify=ca_bundle,
        region_name=os.environ["AWS_DEFAULT_REGION"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=30,
        ),
    )
    # A file object over HTTPS: botocore sends STREAMING-UNSIGNED-PAYLOAD-
    # TRAILER, Transfer-Encoding: chunked, a trailing x-amz-checksum-crc32.
    with open(data_file, "rb") as f:
        try:
            resp = s3.put_object(Bucket=bucket, Key=key, Body=f)
        except ClientError as e:
            status, code = e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
        else:
            status, code = resp["ResponseMetadata"]["HTTPStatusCode"], ""
    print(json.dumps({"op": "PutObject", "status": status, "code": code}), flush=True)


if __name__ == "__main__":
    main()
