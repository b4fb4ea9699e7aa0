"""Signs requests with botocore's SigV4Auth and S3SigV4Auth carrying a Date
header: botocore then signs Date (written by email.utils.formatdate, with
a -0000 zone) and sends no X-Amz-Date. Sends them with urllib, exactly as
signed, and once more with the Date header changed after signing.

Usage: botocore_date.py ENDPOINT SERVICE
Prints one JSON object per request: op, status, code, and in sha256 the
Date header sent (so that the test sees its form).
"""

import json
import os
import sys
import urllib.error
import urllib.request

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def send(op, prepared, date=None):
    headers = dict(prepared.headers.items())
    if date is not None:
        headers["Date"] = date
    if "X-Amz-Date" in headers:
        raise SystemExit("botocore sent X-Amz-Date with a Date header")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(prepared.url, data=prepared.body or None, method=prepared.method, headers=headers)
    try:
        with opener.open(req, timeout=10) as resp:
            status, code = resp.status, ""
    except urllib.error.HTTPError as e:
        status, code = e.code, e.read().decode().strip()
    print(json.dumps({"op": op, "status": status, "code": code, "sha256": headers["Date"]}), flush=True)


def main():
    endpoint, service = sys.argv[1:3]
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    region = os.environ["AWS_REGION"]
    placeholder = {"Date": "Thu, 01 Jan 1970 00:00:00 GMT"}  # replaced by the signer's time

    req = AWSRequest(method="POST", url=endpoint + "/prod/items", data=b'{"n":1}', headers=dict(placeholder))
    SigV4Auth(creds, service, region).add_auth(req)
    send("DateHeader", req.prepare())

    req = AWSRequest(method="GET", url=endpoint + "/bucket/key", headers=dict(placeholder))
    S3SigV4Auth(creds, "s3", region).add_auth(req)
    prepared = req.prepare()
    send("DateHeaderS3", prepared)
    # The same request, its Date moved by a second after signing.
    d = prepared.headers["Date"]
    moved = d[:-8] + ("%02d" % ((int(d[-8:-6]) + 1) % 60)) + d[-6:]
    send("DateTampered", prepared, date=moved)


if __name__ == "__main__":
    main()
