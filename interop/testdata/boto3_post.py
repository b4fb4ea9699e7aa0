"""Makes S3 POST upload forms with boto3's generate_presigned_post and
sends them: with Python requests and with curl -F, as made and tampered.

Usage: boto3_post.py ENDPOINT BUCKET FILE
Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.
Prints one JSON object per upload: op ("WANT:name"), status and code.
"""

import json
import os
import subprocess
import sys

import boto3
import requests
from botocore.config import Config


def report(op, status, body):
    code = ""
    if "<Code>" in body:
        code = body.split("<Code>", 1)[1].split("</Code>", 1)[0]
    print(json.dumps({"op": op, "status": status, "code": code}), flush=True)


def send_requests(op, url, fields, path, name="upload.bin"):
    with open(path, "rb") as f:
        r = requests.post(url, data=fields, files={"file": (name, f)}, timeout=30,
                          proxies={"http": None, "https": None})
    report(op, r.status_code, r.text)


def send_curl(op, url, fields, path):
    args = ["curl", "-sS", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}"]
    for k, v in fields.items():
        args += ["--form-string", "%s=%s" % (k, v)]
    args += ["-F", "file=@" + path, url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    body, _, status = out.rpartition("\n")
    report(op, int(status or 0), body)


def main():
    endpoint, bucket, path = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["AWS_DEFAULT_REGION"],
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    size = os.path.getsize(path)
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "alice"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                    {"x-amz-meta-owner": "alice"}, ["content-length-range", 1, size]],
        ExpiresIn=300)
    url, fields = post["url"], post["fields"]
    send_requests("OK:requests", url, fields, path)
    send_curl("OK:curl -F", url, fields, path)
    changed = dict(fields, **{"x-amz-meta-owner": "mallory"})
    send_requests("AccessDenied:requests, a field changed", url, changed, path)
    added = dict(fields, **{"x-amz-meta-extra": "1"})
    send_curl("AccessDenied:curl -F, a field no condition covers", url, added, path)
    policy = dict(fields, policy=fields["policy"][:-4] + "AAAA")
    send_requests("SignatureDoesNotMatch:requests, the policy edited", url, policy, path)
    small = s3.generate_presigned_post(bucket, "uploads/${filename}", Conditions=[["content-length-range", 1, 10]], ExpiresIn=300)
    send_curl("EntityTooLarge:curl -F, over the size range", small["url"], small["fields"], path)
    expired = s3.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=-60)
    send_requests("AccessDenied:requests, expired", expired["url"], expired["fields"], path)
    wrong = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["AWS_DEFAULT_REGION"],
                         aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="x" * 40,
                         config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    bad = wrong.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=300)
    send_curl("SignatureDoesNotMatch:curl -F, another secret", bad["url"], bad["fields"], path)


if __name__ == "__main__":
    main()
