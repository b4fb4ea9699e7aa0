"""The botocore side of the differential test: reads a JSON list of cases
on stdin, signs each with SigV4Auth, S3SigV4Auth, SigV4QueryAuth or
S3SigV4QueryAuth at 20261124T120000Z, and prints one JSON list: the
canonical request, the signature, and the request as botocore would send
it (URL and header pairs).

A case: {"method", "path", "query" (raw, may be ""), "headers" ([name,
value] pairs, repeats allowed), "s3", "presign"}.
Usage: botocore_diff.py SERVICE REGION < cases.json
"""

import json
import os
import sys

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    service, region = sys.argv[1:3]
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    out = []
    for c in json.load(sys.stdin):
        url = "https://example.amazonaws.com" + c["path"] + ("?" + c["query"] if c["query"] else "")
        req = AWSRequest(method=c["method"], url=url)
        for name, value in c["headers"]:
            req.headers[name] = value  # appends: repeats are kept
        svc = "s3" if c["s3"] else service
        if c["presign"]:
            cls = S3SigV4QueryAuth if c["s3"] else SigV4QueryAuth
            auth = cls(creds, svc, region, expires=300)
        else:
            auth = (S3SigV4Auth if c["s3"] else SigV4Auth)(creds, svc, region)
        req.context["timestamp"] = "20261124T120000Z"
        auth._modify_request_before_signing(req)
        creq = auth.canonical_request(req)
        sig = auth.signature(auth.string_to_sign(req, creq), req)
        auth._inject_signature_to_request(req, sig)
        out.append({"creq": creq, "signature": sig, "url": req.url, "headers": list(req.headers.items())})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
