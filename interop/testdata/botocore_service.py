"""Signs requests for a service other than S3 with botocore's SigV4Auth and
SigV4QueryAuth (the signers of boto3 and the AWS CLI) and sends them with
urllib, exactly as signed.

Usage: botocore_service.py ENDPOINT SERVICE
Prints one JSON object per request: op, status and code (the error code the
verifier answered, "" on success).
"""

import json
import os
import sys
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def send(op, prepared):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(prepared.url, data=prepared.body or None, method=prepared.method,
                                 headers=dict(prepared.headers.items()))
    try:
        with opener.open(req, timeout=10) as resp:
            status, code = resp.status, ""
    except urllib.error.HTTPError as e:
        status, code = e.code, e.read().decode().strip()
    print(json.dumps({"op": op, "status": status, "code": code}), flush=True)


def main():
    endpoint, service = sys.argv[1:3]
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    region = os.environ["AWS_REGION"]
    cases = [
        ("GetSortedQuery", "GET", "/prod/items?b=2&a=1&a=0&empty=", None, {}),
        ("GetEscapedPath", "GET", "/prod/a%20b/%C3%BC/x%2By/%7Etilde", None, {}),
        ("GetEscapedQuery", "GET", "/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~", None, {}),
        ("PostJSON", "POST", "/prod/items", '{"name":"caf\u00e9","n":1}'.encode(),
         {"Content-Type": "application/json", "X-Custom": "  two   spaces  "}),
    ]
    for op, method, path, body, headers in cases:
        req = AWSRequest(method=method, url=endpoint + path, data=body, headers=headers)
        SigV4Auth(creds, service, region).add_auth(req)
        send(op, req.prepare())
    req = AWSRequest(method="GET", url=endpoint + "/prod/a%20b?x=1")
    SigV4QueryAuth(creds, service, region, expires=300).add_auth(req)
    send("PresignedGet", req.prepare())


if __name__ == "__main__":
    main()
