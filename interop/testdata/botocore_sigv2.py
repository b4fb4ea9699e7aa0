"""Signs two S3 requests with AWS Signature Version 2 as botocore does
(HmacV1Auth: an "AWS AKID:signature" header; HmacV1QueryAuth: a URL with
AWSAccessKeyId, Signature and Expires) and sends them with urllib.

Usage: botocore_sigv2.py ENDPOINT
Prints one JSON object per request: op, status and code (the body).
"""

import json
import os
import sys
import urllib.error
import urllib.request

from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def send(op, prepared):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(prepared.url, method=prepared.method, headers=dict(prepared.headers.items()))
    try:
        with opener.open(req, timeout=10) as resp:
            status, code = resp.status, ""
    except urllib.error.HTTPError as e:
        status, code = e.code, e.read().decode().strip()
    print(json.dumps({"op": op, "status": status, "code": code}), flush=True)


def main():
    endpoint = sys.argv[1]
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    req = AWSRequest(method="GET", url=endpoint + "/bucket/key")
    HmacV1Auth(creds).add_auth(req)
    send("HeaderV2", req.prepare())
    req = AWSRequest(method="GET", url=endpoint + "/bucket/key")
    HmacV1QueryAuth(creds, expires=300).add_auth(req)
    send("PresignedV2", req.prepare())


if __name__ == "__main__":
    main()
